"""The `shop` command: `shop up` runs the shop in the foreground, `shop stage N` moves it to another
stage while it runs, `shop status` says what answers where."""
import argparse
import sys

import requests

from shopctl import ShopError, stack, trace


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="shop", description="Run the strangler-shop on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start the shop in the foreground; Ctrl-C stops it")
    up_parser.add_argument(
        "--stage", type=int, choices=sorted(stack.STAGE_ROUTES), default=None,
        help="how far the monolith has been taken apart; the data moves before anything serves "
             "(default: the stage it was at, 0 the first time)",
    )
    up_parser.add_argument(
        "only", nargs="*", metavar="PROCESS",
        help="start only these of the stage's processes (default: all of them)",
    )
    stage_parser = commands.add_parser(
        "stage", help="move the running shop to another stage: data, the monolith's adapters, the facade's routes",
    )
    stage_parser.add_argument("stage", type=int, choices=sorted(stack.STAGE_ROUTES))
    commands.add_parser("status", help="the stage, each process's /healthz and who serves each URL prefix")
    trace.add_parser(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "trace":
            sys.exit(args.handler(args))
        if args.command == "up":
            sys.exit(up(args.stage, args.only))
        sys.exit(stage(args.stage) if args.command == "stage" else status())
    except ShopError as error:
        sys.exit(f"shop: {error}")
    except KeyboardInterrupt:
        # Ctrl-C before the processes run (during migrate, say): the child got it too.
        sys.exit(130)


def up(stage: int | None, only: list[str]) -> int:
    names = only or stack.processes()
    unknown = sorted(set(names) - set(stack.processes()))
    if unknown:
        raise ShopError(f"there is no process {', '.join(unknown)}; the shop has {', '.join(stack.processes())}.")
    stage = stack.prepare(stage, names)
    return stack.run(names, when_ready=lambda: _welcome(stage, names))


def stage(number: int) -> int:
    """Move the running shop to stage `number`, say what was done, then show the status."""
    before = stack.switch(number)
    if before != number:
        print(f"\nThe shop moved from stage {before} to stage {number} without stopping.\n", flush=True)
    return status()


def _welcome(stage: int, names: list[str]) -> None:
    url = stack.url(names)
    if names == ["catalog"]:
        print(f"\nThe catalog service is up (stage {stage}): {url}api/catalog/ (admin / admin). Ctrl-C stops it.\n", flush=True)
        return
    owner = "the catalog service" if "catalog" in stack.STAGE_ROUTES[stage].values() else "the monolith"
    service = "".join(
        f"  {name:10} http://{stack.address(name)}/admin/  (the {name} service itself, admin / admin)\n"
        for name in stack.SERVICES if name in names
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
        "Ctrl-C stops everything.\n",
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
