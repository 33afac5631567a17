"""Where a checkout's time goes: CPU milliseconds per checkout in each process, at each stage.

Starts the same three shops as bench/checkout.py (side by side, fresh databases), runs one client
checking out for --duration seconds against each in turn, and reads from /proc the CPU time
(user + system) that each kind of process spent meanwhile: nginx (the facade), the monolith's
gunicorn, the catalog and payments services' gunicorns, the relay, and the PostgreSQL backends
serving each shop's databases (found by their process titles). Divided by the checkouts made,
that is what a checkout costs the machine; on a machine whose cores are all busy, latency
follows it. With --py-spy, it also records the stage-2 monolith with py-spy (collapsed stacks,
in the run folder) while it is loaded.

    .venv/bin/python bench/checkout_cpu.py [--duration 15] [--py-spy]
"""

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.checkout import DATABASE_PREFIX, DEFAULT_SERVER, SHOPS, checkout, start_shop, stock_up  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = {
    "monolith.wsgi": "monolith",
    "catalog_service.wsgi": "catalog svc",
    "payments_service.wsgi": "payments svc",
    "payments_relay": "relay",
    "nginx": "facade",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--py-spy", action="store_true", help="also record the stage-2 monolith with py-spy")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        shops = {
            label: stack.enter_context(start_shop(label, stage, env, DEFAULT_SERVER))
            for label, (stage, env) in SHOPS.items()
        }
        for shop in shops.values():
            shop.wait_until_ready(timeout=240)
        rows = {}
        for label, shop in shops.items():
            base = shop.url.rstrip("/")
            sku = stock_up(base)
            database = DATABASE_PREFIX + label.replace(" ", "")
            spy = None
            if args.py_spy and label == "stage 2":
                master = next(
                    pid
                    for pid, cmd in descendants(shop._process.pid)
                    if "monolith.wsgi" in cmd
                    and "gunicorn" in cmd
                    and ppid(pid) not in {p for p, c in descendants(shop._process.pid) if "monolith.wsgi" in c}
                )
                out = shop.log_path.parent / "monolith.pyspy.txt"
                spy = subprocess.Popen(
                    [
                        shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(master),
                        "--subprocesses",
                        "--format",
                        "raw",
                        "--rate",
                        "200",
                        "--duration",
                        str(int(args.duration)),
                        "--output",
                        str(out),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            session = requests.Session()
            for _ in range(20):  # warm up
                checkout(session, base, sku)
            before = cpu(shop._process.pid, database)
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < args.duration:
                total, *_ = checkout(session, base, sku)
                count += total is not None
            elapsed = time.perf_counter() - started
            after = cpu(shop._process.pid, database)
            rows[label] = (
                {group: (after[group] - before.get(group, 0)) / count * 1000 for group in after},
                elapsed / count * 1000,
            )
            if spy:
                spy.wait()
                print(f"py-spy: {out}")
        print_rows(rows)


def print_rows(rows):
    groups = ["facade", "monolith", "catalog svc", "payments svc", "relay", "postgres"]
    print("CPU ms per checkout, 1 client (user + system, from /proc):\n")
    print("| shop | " + " | ".join(groups) + " | total CPU | wall ms per checkout |")
    print("|---|" + "---:|" * (len(groups) + 2))
    for label, (per, wall) in rows.items():
        print(
            f"| {label} | "
            + " | ".join(f"{per.get(g, 0):.1f}" for g in groups)
            + f" | {sum(per.values()):.1f} | {wall:.1f} |"
        )


def ppid(pid):
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def descendants(root):
    """(pid, command line) of every process under root."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = ppid(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    result, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                result.append((child, Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()))
            except OSError:
                continue
            todo.append(child)
    return result


def ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def cpu(root, database):
    """Seconds of CPU so far, per group: the shop's processes, and the PostgreSQL backends of its databases."""
    totals = Counter()
    for pid, command in descendants(root):
        group = next((name for key, name in GROUPS.items() if key in command), None)
        if group:
            with contextlib.suppress(OSError):
                totals[group] += ticks(pid) / TICKS
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
                if command.startswith("postgres: ") and f" {database} " in command.replace("_catalog ", " ").replace(
                    "_payments ", " "
                ):
                    totals["postgres"] += ticks(int(entry.name)) / TICKS
    return totals


if __name__ == "__main__":
    main()
