"""Benchmark: the catalog API and the HTML product list, through the facade and direct.

Starts the real stack (`shop up`, stage 0, on PostgreSQL), loads each URL with wrk through
the facade (nginx, :8080) and straight at the monolith (gunicorn, :8001), interleaving the
two so that drift on a shared machine hits both alike, and prints requests per second,
p50 and p99 latency, and the facade/direct ratio. Then counts the SQL queries each list page
runs at two page numbers and two page sizes (they should not differ).

    .venv/bin/python bench/facade.py [--duration 10] [--rounds 3] [--connections 32]

Needs wrk (`apt-get install wrk`). A benchmark, not a test: it asserts nothing.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from shopctl import nginx, stack  # noqa: E402
from shopctl.background import BackgroundShop  # noqa: E402

PATHS = ["/api/catalog/products/", "/products/"]
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/shop_bench"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per URL and target; the median is shown (default 3)"
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="concurrent connections (default 32; see docs/benchmarks.md for why not fewer)",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    ensure_database(args.database_url)
    # No rate limit at the facade: the benchmark loads it from one address as fast as it answers.
    env = {**nginx.UNLIMITED, "DATABASE_URL": args.database_url, "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    log = Path(tempfile.mkstemp(prefix="bench-shop-", suffix=".log")[1])
    with BackgroundShop(env=env, log_path=log) as shop:
        shop.wait_until_ready()
        targets = {"facade": shop.url.rstrip("/"), "direct": f"http://{stack.address('monolith')}"}
        print(
            f"Stack up (log: {log}); {args.rounds} x {args.duration} s per URL and target, "
            f"{args.connections} connections, {os.cpu_count()} cores.\n"
        )
        for base in targets.values():  # warm up: first requests fill caches and open connections
            for path in PATHS:
                wrk(base + path, argparse.Namespace(connections=args.connections, duration=2))
        results = {}
        for path in PATHS:
            for _ in range(args.rounds):
                for target, base in targets.items():
                    results.setdefault((path, target), []).append(wrk(base + path, args))
        print_table(results)
    print_query_counts(args.database_url)


def ensure_database(url):
    import psycopg2

    name = url.rsplit("/", 1)[1]
    connection = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def wrk(url, args):
    output = subprocess.run(
        ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if non_2xx or errors:
        print(f"  warning: {url}: {non_2xx and non_2xx.group(0)} {errors and errors.group(0)}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": to_ms(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99": to_ms(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
    }


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def print_table(results):
    print(f"{'path':<26} {'target':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for path in PATHS:
        medians = {}
        for target in ("direct", "facade"):
            runs = results[(path, target)]
            medians[target] = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99")}
            m = medians[target]
            print(f"{path:<26} {target:<7} {m['rps']:>8.1f} {m['p50']:>8.2f} {m['p99']:>8.2f}")
        ratio = medians["facade"]["rps"] / medians["direct"]["rps"]
        print(f"{path:<26} {'ratio':<7} {ratio:>8.3f}   (facade/direct requests per second; target >= 0.95)\n")


def print_query_counts(database_url):
    """SQL queries per list page, in-process, at different pages and page sizes."""
    os.environ.update({"DJANGO_SETTINGS_MODULE": "monolith.settings.local", "DATABASE_URL": database_url})
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    print("SQL queries per request (should not change with the page or its size):")
    for url in [
        "/products/?page=1",
        "/products/?page=5",
        "/api/catalog/products/?page_size=5",
        "/api/catalog/products/?page_size=100",
    ]:
        with CaptureQueriesContext(connection) as queries:
            status = client.get(url).status_code
        print(f"  {url:<40} {len(queries):>3} queries (HTTP {status})")


if __name__ == "__main__":
    main()
