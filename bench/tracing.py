"""Benchmark: what tracing costs, as checkout throughput with tracing off, on for every trace, and sampled.

bench/checkout.py's workload (a checkout is POST /api/orders/ then POST /api/orders/<number>/pay/
through the facade, N clients checking out again and again) against three shops at the same
stage (2 by default: the most processes and spans per checkout), started side by side with
`shop up` on free ports and fresh databases (shop_benchtr_<shop>...), that differ only in tracing:

  off      OTEL_SDK_DISABLED=true: no provider, no instrumentation (as before tracing existed);
  all      TRACE_SAMPLE_RATE=1: every trace kept, written to the run folder's span files;
  tenth    TRACE_SAMPLE_RATE=0.1: one trace in ten kept, the others' spans not recorded.

The shops take turns (off all tenth, then tenth all off, ...) so that drift on a shared machine
hits them alike. It prints checkouts per second and p50 per shop and client count (the medians
of the rounds) and the ratios of each traced shop's throughput to the untraced one's: the
default sample rate (monolith/core/tracing.py) is the highest whose ratio stays >= 0.9.

    .venv/bin/python bench/tracing.py [--stage 2] [--duration 8] [--rounds 3] [--clients 4,16]
    .venv/bin/python bench/tracing.py --quick     # 1 round x 3 s: a check that it all works

A benchmark, not a test: it asserts nothing.
"""

import argparse
import contextlib
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import checkout as kit  # noqa: E402

# Databases of its own, so that it never drops bench/checkout.py's.
kit.DATABASE_PREFIX = "shop_benchtr_"
SHOPS = {
    "off": {"OTEL_SDK_DISABLED": "true"},
    "all": {"TRACE_SAMPLE_RATE": "1"},
    "tenth": {"TRACE_SAMPLE_RATE": "0.1"},
}
BASELINE = "off"
TARGET_RATIO = 0.9


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stage", type=int, default=2, choices=(0, 1, 2), help="the stage of all three shops (default 2)"
    )
    parser.add_argument("--duration", type=float, default=8, help="seconds per run (default 8)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per shop and client count; the median is shown (default 3)"
    )
    parser.add_argument(
        "--clients", default="4,16", help="comma-separated numbers of concurrent clients (default 4,16)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 3 s per run: checks the set-up, not a measurement"
    )
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_SERVER_URL", kit.DEFAULT_SERVER),
        help=f"PostgreSQL server; the databases {kit.DATABASE_PREFIX}* on it are dropped and made again",
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 3
    client_counts = [int(count) for count in args.clients.split(",")]

    with contextlib.ExitStack() as stack:
        shops = {
            label: stack.enter_context(kit.start_shop(label, args.stage, env, args.server_url))
            for label, env in SHOPS.items()
        }
        for shop in shops.values():
            shop.wait_until_ready(timeout=240)
        bases = {label: shop.url.rstrip("/") for label, shop in shops.items()}
        for label, shop in shops.items():
            print(
                f"{label}: `shop up --stage {args.stage}` {' '.join(f'{k}={v}' for k, v in SHOPS[label].items())} "
                f"at {bases[label]} (log: {shop.log_path})"
            )
        print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}.")
        skus = {label: kit.stock_up(base) for label, base in bases.items()}
        for label, base in bases.items():  # warm up: connections, caches, the adapters' sessions
            kit.checkouts(base, skus[label], clients=4, duration=2)

        results, statuses = {}, {label: Counter() for label in SHOPS}
        for round_ in range(args.rounds):
            order = list(SHOPS) if round_ % 2 == 0 else list(reversed(SHOPS))
            for clients in client_counts:
                for label in order:
                    run = kit.checkouts(bases[label], skus[label], clients, args.duration)
                    statuses[label].update(run.pop("statuses"))
                    results.setdefault((label, clients), []).append(run)
        print(f"Load average after the runs: {' '.join(f'{x:.1f}' for x in os.getloadavg())}.\n")
        print_table(results, client_counts, args)
        print()
        kit.print_statuses(statuses)
        for label, shop in shops.items():
            spans = sum(1 for path in (Path(shop.env["SHOP_RUN_DIR"]) / "traces").glob("*.jsonl") for _ in path.open())
            print(f"{label}: {spans} spans written.")


def print_table(results, client_counts, args):
    m = {
        key: {name: statistics.median(run[name] for run in runs) for name in ("rate", "p50")}
        for key, runs in results.items()
    }
    print(
        f"Checkouts at stage {args.stage} through the facade, {args.rounds} round(s) x {args.duration:g} s; "
        f"medians of the rounds. ratio = checkouts/s of the shop / of '{BASELINE}' (target >= {TARGET_RATIO}).\n"
    )
    traced = [label for label in SHOPS if label != BASELINE]
    print(
        "| clients | "
        + " | ".join(f"{label} co/s | p50 ms" for label in SHOPS)
        + " | "
        + " | ".join(f"{label} ratio" for label in traced)
        + " |"
    )
    print("|" + "---:|" * (1 + 2 * len(SHOPS) + len(traced)))
    for clients in client_counts:
        cells = [f"{clients:>7}"]
        for label in SHOPS:
            cells += [f"{m[(label, clients)]['rate']:.1f}", f"{m[(label, clients)]['p50']:.1f}"]
        cells += [f"{m[(label, clients)]['rate'] / m[(BASELINE, clients)]['rate']:.2f}" for label in traced]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
