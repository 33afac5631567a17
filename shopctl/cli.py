"""The `shop` command: `shop up` runs the shop in the foreground, `shop stage N` moves it to another
stage while it runs, `shop status` says what answers where, `shop load` sends shoppers through it,
`shop down` stops it, `shop reset` starts it over.

Every command but `up` acts on the shop running in the run folder, with what `shop up` recorded
there (shopctl.state): from any terminal, with no environment set.
"""

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import requests

from shopctl import ShopError, compare, exercise, stack, state, trace
from shopctl.supervisor import Interrupted, Supervisor


def build_parser() -> argparse.ArgumentParser:
    """The `shop` command's parser, every subcommand and flag (tests/unit/test_docs_commands.py reads it)."""
    parser = argparse.ArgumentParser(prog="shop", description="Run the strangler-shop on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start the shop in the foreground; Ctrl-C stops it")
    up_parser.add_argument(
        "--stage",
        type=int,
        choices=sorted(stack.STAGE_ROUTES),
        default=None,
        help="how far the monolith has been taken apart; the data moves before anything serves "
        "(default: the stage it was at, 0 the first time)",
    )
    up_parser.add_argument(
        "only",
        nargs="*",
        metavar="PROCESS",
        help="start only these of the stage's processes (default: all of them)",
    )
    stage_parser = commands.add_parser(
        "stage",
        help="move the running shop to another stage: data, the monolith's adapters, the facade's routes",
    )
    stage_parser.add_argument("stage", type=int, choices=sorted(stack.STAGE_ROUTES))
    commands.add_parser("status", help="the stage, each process's /healthz and who serves each URL prefix")
    commands.add_parser("down", help="stop the running shop, from any terminal")
    reset_parser = commands.add_parser(
        "reset",
        help="start over: stage 0 and fresh seed data (every order, cart and change is deleted)",
    )
    reset_parser.add_argument("--yes", action="store_true", help="do not ask first")
    load_parser = commands.add_parser(
        "load",
        help="send shoppers through the running shop's facade, with a live table by page and process",
    )
    load_parser.add_argument("--duration", type=float, default=60, help="seconds to run (default 60, at most 3600)")
    load_parser.add_argument(
        "--users", type=int, default=10, help="simultaneous users (default 10: 8 shoppers, 2 API readers)"
    )
    load_parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="pages per second in all (default: each user thinks 1-3 s between pages)",
    )
    load_parser.add_argument(
        "--think",
        type=compare.think_time,
        default=None,
        help="seconds each user waits between pages, LOW-HIGH or one number; 0 is a closed loop (default 1-3)",
    )
    load_parser.add_argument("--url", default=None, help="the facade (default: the running shop's); 127.0.0.1 only")
    load_parser.add_argument(
        "--summary-json", type=Path, default=None, help="also write the summary to this file, as JSON"
    )
    trace.add_parser(commands)
    compare.add_parser(commands)
    exercise.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("compare", "exercise"):
            sys.exit(args.handler(args))  # shops of their own (compare: or the one at --url)
        if args.command == "up":
            sys.exit(up(args.stage, args.only))
        # The running shop's addresses and databases, unless this environment sets its own.
        running = state.apply(stack.run_dir())
        if args.command == "trace":
            sys.exit(args.handler(args))  # the running shop's traces, or a comparison through it
        if args.command == "reset":
            sys.exit(reset(args.yes, running is not None))
        if args.command == "load" and args.url:
            _load(args, argv)  # the shop at that address, whoever runs it
        if running is None:
            raise state.no_shop(stack.run_dir())
        if args.command == "down":
            sys.exit(down(running))
        if args.command == "load":
            _load(args, argv)
        sys.exit(stage(args.stage) if args.command == "stage" else status())
    except ShopError as error:
        sys.exit(f"shop: {error}")
    except KeyboardInterrupt:
        # Ctrl-C during a command of a few seconds: its children got it too.
        sys.exit(130)
    except BrokenPipeError:
        # `shop status | head -1`: the reader has what it wanted. Nothing more may reach the pipe,
        # the interpreter's last flush included (Python's documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


def up(stage: int | None, only: list[str]) -> int:
    names = only or stack.processes()
    unknown = sorted(set(names) - set(stack.processes()))
    if unknown:
        raise ShopError(f"there is no process {', '.join(unknown)}; the shop has {', '.join(stack.processes())}.")
    run_dir = stack.run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    state.claim(run_dir, names)
    stack.check_ports_free(stack.servers(names))
    try:
        with Supervisor() as supervisor:
            stack.start_databases(supervisor)
            stage = stack.prepare(stage, names)
            addresses = {f"{name.upper()}_ADDR": stack.address(name) for name in stack.DEFAULT_ADDRESSES}
            return stack.run(
                supervisor,
                names,
                when_started=lambda: state.record(run_dir, names, supervisor.pids(), {**os.environ, **addresses}),
                when_ready=lambda: _welcome(stage, names),
            )
    except Interrupted as interrupted:
        return 128 + interrupted.signum
    finally:
        state.forget(run_dir)


def down(running: dict) -> int:
    """Stop the running shop: SIGTERM to each `shop up`, which stops its processes as Ctrl-C does."""
    pids = [int(pid) for pid in running["shops"]]
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    # A `shop up` stops its processes within about 10 s (shopctl.supervisor); SIGKILL after that,
    # which its processes follow (they die with it).
    deadline = time.monotonic() + 15
    while state.running(stack.run_dir()) is not None:
        if time.monotonic() > deadline:
            for pid in pids:
                _signal(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    print(f"The shop is stopped (`shop up` pid {', '.join(map(str, pids))}).", flush=True)
    return 0


def reset(yes: bool, running: bool) -> int:
    """Stage 0 and fresh seed data, running or not; asks first unless yes."""
    if not yes:
        question = "Delete every order, cart, account and change, and start over at stage 0 with fresh seed data?"
        if not sys.stdin.isatty():
            raise ShopError(f"{question} Nobody to ask here: run `shop reset --yes`.")
        if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    if running:
        stack.reset_running()
        print("\nThe running shop is back at stage 0 with fresh seed data.\n", flush=True)
        return status()
    print(stack.reset_stopped(), flush=True)
    return 0


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _load(args: argparse.Namespace, argv: list[str] | None) -> None:
    """`shop load`, in an interpreter where gevent patched the standard library before anything
    imported ssl (Locust needs that, and `shop` imports requests first): `python -m shopctl.load`
    with the same arguments, which comes back here to run it."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("ssl"):
        rest = sys.argv[1:] if argv is None else argv
        os.execv(sys.executable, [sys.executable, "-m", "shopctl.load", *rest[rest.index("load") + 1 :]])
    from shopctl import load

    sys.exit(
        load.run(
            url=args.url,
            duration=args.duration,
            users=args.users,
            rate=args.rate,
            summary_json=args.summary_json,
            think=args.think,
        )
    )


def stage(number: int) -> int:
    """Move the running shop to stage `number`, say what was done, then show the status."""
    before = stack.switch(number)
    if before != number:
        print(f"\nThe shop moved from stage {before} to stage {number} without stopping.\n", flush=True)
    return status()


def _welcome(stage: int, names: list[str]) -> None:
    url = stack.url(names)
    if names == ["catalog"]:
        print(
            f"\nThe catalog service is up (stage {stage}): {url}api/catalog/ (admin / admin). Ctrl-C stops it.\n",
            flush=True,
        )
        return
    owner = "the catalog service" if "catalog" in stack.STAGE_ROUTES[stage].values() else "the monolith"
    service = "".join(
        f"  {name:10} http://{stack.address(name)}/admin/  (the {name} service itself, admin / admin)\n"
        for name in stack.SERVICES
        if name in names
    )
    other = stage + 1 if stage < max(stack.STAGE_ROUTES) else stage - 1
    print(
        f"\nThe shop is up (stage {stage}):\n"
        f"  shop       {url}\n"
        f"  API docs   {url}api/docs/  and {url}api/catalog/docs/ (served by {owner})\n"
        f"  admin      {url}admin/  (log in as admin / admin)\n"
        f"{service}"
        f"  customer   log in as demo / demo\n"
        f"`shop status` shows who serves what; `shop stage {other}` moves the running shop to stage {other}. "
        "Ctrl-C (or `shop down` in another terminal) stops everything.\n",
        flush=True,
    )


def status() -> int:
    """Print the stage, each process's health and who answers each prefix; 1 when anything is off."""
    try:
        ready = requests.get(f"http://{stack.address('monolith')}/readyz", timeout=2).json()
        stage = int(ready["stage"])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        stage = None
    facade_url = stack.url(["facade"])
    problems = 0

    if stage is None:
        print("stage unknown: the monolith, whose database records it, does not answer /readyz\n")
        stage, problems = 0, 1
    else:
        print(f"stage {stage}, as recorded in the monolith's database\n")
    print(f"{'process':10}{'address':22}/healthz")
    for name in stack.servers():
        health, served_by = _probe(f"http://{stack.address(name)}/healthz")
        problems += health != "200"
        print(f"{name:10}{stack.address(name):22}{health}, answered by {served_by}")

    print(f"\n{'prefix':16}{'routed to':12}answered by (X-Served-By through the facade)")
    for prefix in ["/", *stack.STAGE_ROUTES[max(stack.STAGE_ROUTES)]]:
        routed_to = stack.STAGE_ROUTES[stage].get(prefix, "monolith")
        # An API prefix is probed at its Swagger UI page: public, cheap and served by whichever
        # process owns the prefix. The bare prefix has no page, and its 404 or 401 would be
        # logged as a warning by the owner at every `shop status`.
        probe = prefix if prefix == "/" else prefix + "docs/"
        _, served_by = _probe(facade_url + probe.lstrip("/"))
        problems += served_by != routed_to
        print(f"{prefix:16}{routed_to:12}{served_by}")
    return 1 if problems else 0


def _probe(url: str) -> tuple[str, str]:
    """(status code or what went wrong, the X-Served-By of the answer)."""
    try:
        response = requests.get(url, timeout=2)
    except requests.RequestException as error:
        return f"no answer ({type(error).__name__})", "nobody"
    return str(response.status_code), response.headers.get("X-Served-By", "unknown")
