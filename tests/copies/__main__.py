"""`python -m tests.copies`: how the copies stand against extracted/COPIES.md; `--print`: that list, as it should read.

Without options it prints what the test would fail on and exits 1 if there is anything. With
--print it writes the list to stdout as the tree has it now: each listed difference that still
exists keeps its why, and so does one that changed (a new difference in the same file that
resembles it takes its place); any other new one comes under "TODO: why?", and one that is gone
is left out (each named on stderr). To refresh the list after a change to a copy:

    .venv/bin/python -m tests.copies --print > /tmp/COPIES.md && mv /tmp/COPIES.md extracted/COPIES.md
    git diff extracted/COPIES.md     # then replace each TODO with a line saying why
"""

import argparse
import sys

from . import LIST, check, parse, preamble, render

DEFAULT_PREAMBLE = "# What changed when the contexts left the monolith\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.copies", description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the list as the tree has it now")
    options = parser.parse_args(argv)
    text = LIST.read_text() if LIST.exists() else DEFAULT_PREAMBLE
    result = check(parse(text))
    if options.print:
        sys.stdout.write(render(result.kept, preamble(text) or DEFAULT_PREAMBLE))
        for line in result.problems:
            print(line.splitlines()[0], file=sys.stderr)
        if result.gone:
            print(
                "A listed difference that changed keeps its why when a new one resembles it: check them in "
                "`git diff extracted/COPIES.md`.",
                file=sys.stderr,
            )
        return 0
    for line in result.problems:
        print(line, end="\n\n")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
