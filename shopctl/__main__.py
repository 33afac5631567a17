"""`python -m shopctl` is the `shop` command."""

from shopctl.cli import main

main()
