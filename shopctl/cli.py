"""The `shop` command: `shop up` runs the shop in the foreground, `shop status` says what answers where."""
import argparse
import sys

import requests

from shopctl import ShopError, stack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="shop", description="Run the strangler-shop on this machine.")
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start the shop in the foreground; Ctrl-C stops it")
    up_parser.add_argument(
        "--stage", type=int, choices=sorted(stack.STAGE_ROUTES), default=0,
        help="how far the monolith has been taken apart (default: 0)",
    )
    up_parser.add_argument(
        "only", nargs="*", metavar="PROCESS",
        help="start only these of the stage's processes (default: all of them)",
    )
    commands.add_parser("status", help="check each process's /healthz and who serves each URL prefix")
    args = parser.parse_args(argv)
    try:
        sys.exit(up(args.stage, args.only) if args.command == "up" else status())
    except ShopError as error:
        sys.exit(f"shop: {error}")
    except KeyboardInterrupt:
        # Ctrl-C before the processes run (during migrate, say): the child got it too.
        sys.exit(130)


def up(stage: int, only: list[str]) -> int:
    if stage not in stack.BUILT_STAGES:
        raise ShopError(
            f"stage {stage} is not built yet: its services do not exist. "
            f"Built so far: stages {', '.join(map(str, stack.BUILT_STAGES))}."
        )
    names = only or stack.processes(stage)
    unknown = sorted(set(names) - set(stack.processes(stage)))
    if unknown:
        raise ShopError(
            f"stage {stage} has no process {', '.join(unknown)}; it has {', '.join(stack.processes(stage))}."
        )
    stack.prepare(stage, names)
    return stack.run(names, when_ready=lambda: _welcome(stage, names), stage=stage)


def _welcome(stage: int, names: list[str]) -> None:
    url = stack.url(names)
    if names == ["catalog"]:
        print(f"\nThe catalog service is up (stage {stage}): {url}api/catalog/ (admin / admin). Ctrl-C stops it.\n", flush=True)
        return
    catalog_docs = ""
    if "catalog" in stack.STAGE_ROUTES[stage].values():
        catalog_docs = f"  catalog    {url}api/catalog/docs/  (served by the catalog service)\n"
    print(
        f"\nThe shop is up (stage {stage}):\n"
        f"  shop       {url}\n"
        f"  API docs   {url}api/docs/\n"
        f"{catalog_docs}"
        f"  admin      {url}admin/  (log in as admin / admin)\n"
        f"  customer   log in as demo / demo\n"
        "`shop status` shows who serves what. Ctrl-C stops everything.\n",
        flush=True,
    )


def status() -> int:
    """Print the stage, each process's health and who answers each prefix; 1 when anything is off."""
    stage_file = stack.run_dir() / "stage"
    if not stage_file.exists():
        raise ShopError(f"`shop up` has not run here yet ({stage_file} is missing), so there is nothing to check.")
    stage = int(stage_file.read_text())
    facade_url = stack.url(["facade"])
    problems = 0

    print(f"stage {stage}, as last started by `shop up`\n")
    print(f"{'process':10}{'address':22}/healthz")
    for name in stack.processes(stage):
        health, served_by = _probe(f"http://{stack.address(name)}/healthz")
        problems += health != "200"
        print(f"{name:10}{stack.address(name):22}{health}, answered by {served_by}")

    print(f"\n{'prefix':16}{'routed to':12}answered by (X-Served-By through the facade)")
    for prefix in ["/", *stack.STAGE_ROUTES[max(stack.STAGE_ROUTES)]]:
        routed_to = stack.STAGE_ROUTES[stage].get(prefix, "monolith")
        _, served_by = _probe(facade_url + prefix.lstrip("/"))
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
