"""Benchmark: checkout (place an order, then pay it) at stage 2 against stage 0, side by side.

Starts three shops at once with `shop up`, each on its own free ports, run folder and fresh
PostgreSQL databases (shop_benchco_<shop>, _catalog and _payments, dropped and made again at
every run so all are seeded alike):

  stage 0   the monolith owns the catalog and charges cards in-process;
  stage 1   the catalog is the catalog service (over HTTP); payments still in-process;
  stage 2   the catalog service and the payments service, both over HTTP (stage2_shop()).

One checkout is two requests through the shop's facade, timed together: POST /api/orders/
(one line of one product, which has been given plenty of stock through the API as admin) and
POST /api/orders/<number>/pay/ with the test card 4242 4242 4242 4242 and a fresh
Idempotency-Key. N clients (Python threads, each with its own requests.Session, so the pay
rides the anonymous session that placed the order) check out again and again for a fixed
time; the shops take turns (0 1 2, then 2 1 0, ...) so that drift on a shared machine hits
them alike. It prints checkouts per second, p50 and p99 of a checkout for each shop and client
count (the medians of the rounds), the ratios stage 2 / stage 0, the p50 of each of the two
requests alone, and every answer that was not a 201.

    .venv/bin/python bench/checkout.py [--duration 10] [--rounds 3] [--clients 1,4,16]
    .venv/bin/python bench/checkout.py --quick     # 1 round x 3 s: a check that it all works

A benchmark, not a test: it asserts nothing. The target (issue 4): stage 2's p50 no more than
1.5 times stage 0's.
"""

import argparse
import contextlib
import math
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.stages import free_port  # noqa: E402
from shopctl import nginx  # noqa: E402
from shopctl.background import BackgroundShop  # noqa: E402

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE_PREFIX = "shop_benchco_"
STOCK = 5_000_000
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
TARGET_P50_RATIO = 1.5


def stage2_shop():
    """How the "stage 2" shop starts: (stage for `shop up --stage`, extra environment)."""
    return 2, {}


# label -> (stage for `shop up --stage`, extra environment)
SHOPS = {
    "stage 0": (0, {}),
    "stage 1": (1, {}),
    "stage 2": stage2_shop(),
}
FIRST, LAST = "stage 0", "stage 2"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per run (default 10)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs per shop and client count; the median is shown (default 3)"
    )
    parser.add_argument(
        "--clients", default="1,4,16", help="comma-separated numbers of concurrent clients (default 1,4,16)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 3 s per run: checks the set-up, not a measurement"
    )
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER),
        help=f"PostgreSQL server; the databases {DATABASE_PREFIX}* on it are dropped and made again",
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 3
    client_counts = [int(count) for count in args.clients.split(",")]

    with contextlib.ExitStack() as stack:
        shops = {
            label: stack.enter_context(start_shop(label, stage, env, args.server_url))
            for label, (stage, env) in SHOPS.items()
        }
        for shop in shops.values():
            shop.wait_until_ready(timeout=240)
        bases = {label: shop.url.rstrip("/") for label, shop in shops.items()}
        for label, shop in shops.items():
            stage, env = SHOPS[label]
            print(
                f"{label}: `shop up --stage {stage}`{''.join(f' {k}={v}' for k, v in env.items())} "
                f"at {bases[label]} (log: {shop.log_path})"
            )
        print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}.")

        skus = {label: stock_up(base) for label, base in bases.items()}
        print(
            f"{args.rounds} round(s) x {args.duration:g} s per shop and client count "
            f"(clients: {', '.join(map(str, client_counts))}).\n"
        )

        for label, base in bases.items():  # warm up: connections, caches, the adapters' sessions
            checkouts(base, skus[label], clients=4, duration=2)

        results, statuses = {}, {label: Counter() for label in SHOPS}
        for round_ in range(args.rounds):
            order = list(SHOPS) if round_ % 2 == 0 else list(reversed(SHOPS))
            for clients in client_counts:
                for label in order:
                    run = checkouts(bases[label], skus[label], clients, args.duration)
                    statuses[label].update(run.pop("statuses"))
                    results.setdefault((label, clients), []).append(run)
        print(f"Load average after the runs: {' '.join(f'{x:.1f}' for x in os.getloadavg())}.\n")
        print_table(results, client_counts)
        print()
        print_statuses(statuses)


@contextlib.contextmanager
def start_shop(label, stage, extra_env, server_url):
    """A BackgroundShop on free ports, its own run folder and fresh databases for all three processes."""
    name = DATABASE_PREFIX + label.replace(" ", "")
    databases = {
        "DATABASE_URL": name,
        "CATALOG_DATABASE_URL": f"{name}_catalog",
        "PAYMENTS_DATABASE_URL": f"{name}_payments",
    }
    for database in databases.values():
        recreate_database(server_url, database)
    run_dir = Path(tempfile.mkdtemp(prefix=f"bench-checkout-{label.replace(' ', '')}-"))
    env = {
        **nginx.UNLIMITED,  # no rate limit at the facade: the clients all come from one address
        **{key: f"{server_url}/{database}" for key, database in databases.items()},
        "SHOP_RUN_DIR": str(run_dir),
        "FACADE_ADDR": f"127.0.0.1:{free_port()}",
        "MONOLITH_ADDR": f"127.0.0.1:{free_port()}",
        "CATALOG_ADDR": f"127.0.0.1:{free_port()}",
        "PAYMENTS_ADDR": f"127.0.0.1:{free_port()}",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    with BackgroundShop(stage=stage, env=env, log_path=run_dir / "shop.log") as shop:
        yield shop


def recreate_database(server_url, name):
    import psycopg2

    assert name.startswith(DATABASE_PREFIX), name
    connection = psycopg2.connect(f"{server_url}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def stock_up(base):
    """The sku of a product in stock, given STOCK units through PATCH /api/catalog/products/<sku>/ as admin."""
    product = requests.get(
        f"{base}/api/catalog/products/", params={"page_size": 1, "in_stock": "true"}, timeout=10
    ).json()["results"][0]
    response = requests.patch(
        f"{base}/api/catalog/products/{product['sku']}/", json={"stock": STOCK}, auth=("admin", "admin"), timeout=10
    )
    if response.status_code != 200 or response.json()["stock"] != STOCK:
        sys.exit(f"PATCH {product['sku']} stock at {base} answered {response.status_code}: {response.text[:2000]}")
    return product["sku"]


ORDER = {
    "email": "bench@example.com",
    "shipping": {"name": "Bench", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
}


def checkout(session, base, sku):
    """One checkout: (seconds for the pair, seconds for the order, seconds for the pay, statuses)."""
    started = time.perf_counter()
    order = session.post(f"{base}/api/orders/", json={**ORDER, "lines": [{"sku": sku, "quantity": 1}]}, timeout=30)
    placed = time.perf_counter()
    if order.status_code != 201:
        return None, placed - started, None, [f"order {order.status_code}"]
    pay = session.post(
        f"{base}/api/orders/{order.json()['number']}/pay/",
        json={"card": CARD},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    paid = time.perf_counter()
    if pay.status_code != 201:
        return None, placed - started, paid - placed, [f"pay {pay.status_code}"]
    return paid - started, placed - started, paid - placed, ["pay 201"]


def checkouts(base, sku, clients, duration):
    """`clients` threads checking out again and again for `duration` s: rate, p50, p99 (ms) and statuses."""
    lock = threading.Lock()
    totals, orders, pays, statuses = [], [], [], Counter()
    start = threading.Barrier(clients)

    def client():
        session = requests.Session()
        session.get(f"{base}/healthz", timeout=10)  # open the connection before the clock starts
        start.wait()
        until = time.perf_counter() + duration
        while time.perf_counter() < until:
            try:
                total, order, pay, status = checkout(session, base, sku)
            except requests.RequestException as error:
                total, order, pay, status = None, None, None, [f"error {type(error).__name__}"]
            with lock:
                statuses.update(status)
                if total is not None:
                    totals.append(total)
                    orders.append(order)
                    pays.append(pay)
        session.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    elapsed = time.perf_counter() - began
    return {
        "rate": len(totals) / elapsed,
        "p50": percentile(totals, 50),
        "p99": percentile(totals, 99),
        "order_p50": percentile(orders, 50),
        "pay_p50": percentile(pays, 50),
        "statuses": statuses,
    }


def percentile(values, percent):
    """Milliseconds; the nearest-rank percentile (NaN when there are none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(percent / 100 * len(ordered)) - 1))] * 1000


def print_table(results, client_counts):
    m = {
        key: {name: statistics.median(run[name] for run in runs) for name in runs[0] if name != "statuses"}
        for key, runs in results.items()
    }
    print("Checkouts (POST /api/orders/ + POST /api/orders/<number>/pay/) through the facade; medians of the rounds.")
    print(f"ratio = {LAST} / {FIRST}: of p50 (target <= {TARGET_P50_RATIO}) and of checkouts/s.\n")
    header = (
        "| clients | "
        + " | ".join(f"{label} co/s | p50 ms | p99 ms" for label in SHOPS)
        + " | p50 ratio | co/s ratio |"
    )
    print(header)
    print("|" + "---:|" * (3 + 3 * len(SHOPS)))
    for clients in client_counts:
        cells = [f"{clients:>7}"]
        for label in SHOPS:
            r = m[(label, clients)]
            cells += [f"{r['rate']:>12.1f}", f"{r['p50']:>6.1f}", f"{r['p99']:>6.1f}"]
        p50_ratio = m[(LAST, clients)]["p50"] / m[(FIRST, clients)]["p50"]
        rate_ratio = m[(LAST, clients)]["rate"] / m[(FIRST, clients)]["rate"]
        verdict = "" if p50_ratio <= TARGET_P50_RATIO else " (misses)"
        cells += [f"{p50_ratio:>9.2f}{verdict}", f"{rate_ratio:>10.2f}"]
        print("| " + " | ".join(cells) + " |")
    print("\nThe two requests alone, p50 ms (medians of the rounds):\n")
    print("| clients | " + " | ".join(f"{label} order | {label} pay" for label in SHOPS) + " |")
    print("|---:|" + "---:|---:|" * len(SHOPS))
    for clients in client_counts:
        cells = [f"{clients:>7}"]
        for label in SHOPS:
            r = m[(label, clients)]
            cells += [f"{r['order_p50']:>13.1f}", f"{r['pay_p50']:>11.1f}"]
        print("| " + " | ".join(cells) + " |")


def print_statuses(statuses):
    for label, counter in statuses.items():
        others = {status: count for status, count in counter.items() if status != "pay 201"}
        verdict = (
            "every checkout succeeded (201 on pay)"
            if not others
            else "NOT every checkout succeeded: "
            + ", ".join(f"{status}: {count}" for status, count in sorted(others.items()))
        )
        print(f"{label}: {counter['pay 201']} checkouts paid (201); {verdict}.")


if __name__ == "__main__":
    main()
