"""Benchmark: stage 1 against stage 0, side by side, and how long a price change takes to show.

Starts two shops at once with `shop up`: one at stage 0 (the monolith reads its own catalog
tables) and one at stage 1 (the monolith reads the catalog service over HTTP, through
monolith/ports/catalog_http.py). Each has its own free ports, run folder and PostgreSQL
databases (shop_bench_stage0, shop_bench_stage1 and shop_bench_stage1_catalog, made afresh at
every run so both are seeded the same way). It loads, through each shop's facade, the HTML
product list, the list filtered by a category, and the cart page with three lines in it, with
wrk at each connection count, interleaving the two shops run by run (in the order 0 1, then
1 0, ...) so that drift on a shared machine hits both alike, and prints requests per second,
p50 and p99 latency, and the ratio stage 1 / stage 0 (the target is 0.9 or better).

Then, on the stage-1 shop, it changes a product's price through the catalog service's API
(PATCH /api/catalog/products/<sku>/ as admin, through the facade), places an order for that
product at once (POST /api/orders/) to show that checkout charges the new price, and polls
the product's HTML page until every worker shows it: the delay is the adapter's read cache
(CACHE_SECONDS, 5 s).

    .venv/bin/python bench/stages.py [--duration 8] [--rounds 3] [--connections 8,32]
    .venv/bin/python bench/stages.py --quick     # 1 round x 3 s: a check that it all works

Needs wrk (`apt-get install wrk`). A benchmark, not a test: it asserts nothing.
"""

import argparse
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from shopctl import nginx  # noqa: E402
from shopctl.background import BackgroundShop  # noqa: E402

STAGES = (0, 1)
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
# The contract's default ports and the ranges other shops on a shared machine use: never ours.
RESERVED_PORTS = {8080, *range(8001, 8004), *range(8090, 8100)}
CART_LINES = 3


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run (default 8)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs per URL, stage and connection count; the median is shown (default 3)",
    )
    parser.add_argument("--connections", default="8,32", help="comma-separated connection counts (default 8,32)")
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 3 s per run: checks the set-up, not a measurement"
    )
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER),
        help="PostgreSQL server; the databases shop_bench_stage* on it are dropped and made again",
    )
    parser.add_argument("--skip-price", action="store_true", help="leave out the price-change measurement")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 3
    connection_counts = [int(count) for count in args.connections.split(",")]
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    with contextlib.ExitStack() as stack:
        shops = {stage: stack.enter_context(start_shop(stage, args.server_url)) for stage in STAGES}
        for shop in shops.values():
            shop.wait_until_ready(timeout=240)
        bases = {stage: shop.url.rstrip("/") for stage, shop in shops.items()}
        print(
            f"Both shops up: stage 0 at {bases[0]}, stage 1 at {bases[1]} (logs: "
            f"{shops[0].log_path}, {shops[1].log_path}); {os.cpu_count()} cores."
        )

        category = first_category(bases[0])
        cookies = {stage: cart_cookie(base) for stage, base in bases.items()}
        scenarios = {
            "/products/": ("/products/", {}, None),
            f"/products/?category={category}": (f"/products/?category={category}", {}, None),
            f"/cart/ ({CART_LINES} lines)": ("/cart/", {"Cookie": cookies}, None),
            # A search term no one asked before at every request: the adapter's cache never
            # answers, so at stage 1 every page waits for the catalog service (the worst case).
            "/products/?q=<new> (miss)": ("/products/", {}, stack.enter_context(lua_script(NEW_SEARCH_EACH_TIME))),
        }
        print(
            f"{args.rounds} round(s) x {args.duration} s per URL, stage and connection count "
            f"(connections: {', '.join(map(str, connection_counts))}).\n"
        )

        for stage, base in bases.items():  # warm up: fill the caches, open the keepalive connections
            for path, headers, script in scenarios.values():
                wrk(base + path, 32, 2, header_for(headers, stage), script)

        results = {}
        for round_ in range(args.rounds):
            order = STAGES if round_ % 2 == 0 else tuple(reversed(STAGES))
            for name, (path, headers, script) in scenarios.items():
                for connections in connection_counts:
                    for stage in order:
                        run = wrk(bases[stage] + path, connections, args.duration, header_for(headers, stage), script)
                        results.setdefault((name, connections, stage), []).append(run)
        print_table(results, scenarios, connection_counts)

        if not args.skip_price:
            print()
            price_change(bases[1])


@contextlib.contextmanager
def start_shop(stage, server_url):
    """A BackgroundShop at `stage` on free ports, its own run folder and fresh databases."""
    databases = {"DATABASE_URL": f"shop_bench_stage{stage}"}
    if stage >= 1:
        databases["CATALOG_DATABASE_URL"] = f"shop_bench_stage{stage}_catalog"
    for name in databases.values():
        recreate_database(server_url, name)
    run_dir = Path(tempfile.mkdtemp(prefix=f"bench-stage{stage}-"))
    env = {
        **nginx.UNLIMITED,  # no rate limit at the facade: the load comes from one address
        **{key: f"{server_url}/{name}" for key, name in databases.items()},
        "SHOP_RUN_DIR": str(run_dir),
        "FACADE_ADDR": f"127.0.0.1:{free_port()}",
        "MONOLITH_ADDR": f"127.0.0.1:{free_port()}",
        "CATALOG_ADDR": f"127.0.0.1:{free_port()}",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    with BackgroundShop(stage=stage, env=env, log_path=run_dir / "shop.log") as shop:
        yield shop


def recreate_database(server_url, name):
    import psycopg2

    assert name.startswith("shop_bench_"), name
    connection = psycopg2.connect(f"{server_url}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def free_port():
    """A port no one listens on now, outside the ones reserved for other shops."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def first_category(base):
    body = requests.get(f"{base}/api/catalog/categories/", timeout=10).json()
    return body["results"][0]["slug"]


def cart_cookie(base):
    """The Cookie header of a shopper with CART_LINES lines in the cart: CSRF token first, then POST /cart/add/."""
    skus = [
        p["sku"]
        for p in requests.get(
            f"{base}/api/catalog/products/", params={"page_size": CART_LINES, "in_stock": "true"}, timeout=10
        ).json()["results"]
    ]
    session = requests.Session()
    session.get(
        f"{base}/products/{skus[0]}/", timeout=10
    ).raise_for_status()  # its add-to-cart form sets the CSRF cookie
    token = session.cookies["csrftoken"]
    for sku in skus:
        response = session.post(
            f"{base}/cart/add/",
            data={"csrfmiddlewaretoken": token, "sku": sku, "quantity": 1},
            headers={"Referer": f"{base}/products/"},
            timeout=10,
        )
        if response.status_code != 200:
            sys.exit(f"POST /cart/add/ {sku} at {base} answered {response.status_code}: {response.text[:2000]}")
    page = session.get(f"{base}/cart/", timeout=10)  # shows (and so clears) the "Added ..." messages
    page.raise_for_status()
    missing = [sku for sku in skus if sku not in page.text]
    if missing:
        sys.exit(f"The cart at {base} does not show {missing}: the cart scenario would measure an empty cart.")
    header = "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)
    again = requests.get(f"{base}/cart/", headers={"Cookie": header}, timeout=10)
    # Django sends the csrftoken cookie again with every page that has a form; the session (the
    # cart, in a signed cookie) must not change, or wrk would measure a different cart each time.
    if "sessionid=" in again.headers.get("set-cookie", "") or any(sku not in again.text for sku in skus):
        print(
            f"  warning: the cart page at {base} does not settle with the same cookie: {again.headers.get('set-cookie')}"
        )
    return header


def header_for(headers, stage):
    return {name: value[stage] if isinstance(value, dict) else value for name, value in headers.items()}


# wrk's request(): /products/?q=<a term never used before>, which matches no product.
NEW_SEARCH_EACH_TIME = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/products/?q=zz" .. counter .. "x" .. math.random(1, 1000000000))
end
"""


@contextlib.contextmanager
def lua_script(text):
    with tempfile.NamedTemporaryFile("w", prefix="bench-stages-", suffix=".lua") as file:
        file.write(text)
        file.flush()
        yield file.name


def wrk(url, connections, duration, headers, script=None):
    # --timeout 10s: wrk's default of 2 s leaves the slowest answers out of the latencies.
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", url]
    if script:
        command += ["-s", script]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
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


def print_table(results, scenarios, connection_counts):
    print("Through the facade; medians of the rounds. ratio = stage 1 req/s / stage 0 req/s (target >= 0.9).\n")
    print(
        f"| {'page':<28} | {'conns':>5} | {'stage 0 req/s':>13} | {'p50 ms':>7} | {'p99 ms':>7} "
        f"| {'stage 1 req/s':>13} | {'p50 ms':>7} | {'p99 ms':>7} | {'ratio':>5} |"
    )
    print(f"|{'-' * 30}|{'-' * 6}:|{'-' * 14}:|{'-' * 8}:|{'-' * 8}:|{'-' * 14}:|{'-' * 8}:|{'-' * 8}:|{'-' * 6}:|")
    for name in scenarios:
        for connections in connection_counts:
            m = {
                stage: {
                    key: statistics.median(run[key] for run in results[(name, connections, stage)])
                    for key in ("rps", "p50", "p99")
                }
                for stage in STAGES
            }
            ratio = m[1]["rps"] / m[0]["rps"]
            print(
                f"| {name:<28} | {connections:>5} | {m[0]['rps']:>13.1f} | {m[0]['p50']:>7.1f} | {m[0]['p99']:>7.1f} "
                f"| {m[1]['rps']:>13.1f} | {m[1]['p50']:>7.1f} | {m[1]['p99']:>7.1f} | {ratio:>5.2f} |"
            )


def price_change(base):
    """PATCH a price through the catalog service, order at once, poll the HTML page until it shows everywhere."""
    admin = requests.Session()
    admin.auth = ("admin", "admin")
    product = requests.get(
        f"{base}/api/catalog/products/", params={"page_size": 1, "ordering": "-price"}, timeout=10
    ).json()["results"][-1]
    sku, old = product["sku"], Decimal(product["price"])
    new = old + Decimal("1.11")
    page_url = f"{base}/products/{sku}/"
    shows = lambda price, html: f">{price} {product['currency']}<" in html  # noqa: E731 (product_detail.html: "<p class="price large">6.90 EUR</p>")

    # Fill every worker's cache with the old price. Requests from one client one after another
    # would all ride one of nginx's kept-alive upstream connections to one gunicorn worker, so
    # POLLERS clients ask at once, and nginx spreads them over the workers.
    before = poll(page_url, seconds=1.5)
    print(
        f"Price change (stage 1): {sku} {old} -> {new} {product['currency']} through PATCH /api/catalog/products/{sku}/."
    )
    if not all(shows(old, html) for _, html in before):
        print(f"  warning: the product page did not always show the old price {old}; the poll below cannot be trusted.")

    changed_at = time.monotonic()
    response = admin.patch(f"{base}/api/catalog/products/{sku}/", json={"price": str(new)}, timeout=10)
    response.raise_for_status()
    order = requests.post(
        f"{base}/api/orders/",
        timeout=10,
        json={
            "email": "bench@example.com",
            "shipping": {
                "name": "Bench",
                "line1": "1 Main St",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            },
            "lines": [{"sku": sku, "quantity": 1}],
        },
    )
    ordered_after = time.monotonic() - changed_at
    order.raise_for_status()
    charged = Decimal(order.json()["lines"][0]["unit_price"])
    verdict = "the new price" if charged == new else ("THE OLD PRICE" if charged == old else "neither price")
    print(
        f"  checkout: order {order.json()['number']} placed {ordered_after * 1000:.0f} ms after the PATCH "
        f"charges unit_price {charged}: {verdict}."
    )

    # Poll for 8 s (the cache's 5 s and room to spare), POLLERS clients at once.
    seen = [(at - changed_at, html) for at, html in poll(page_url, seconds=8 - (time.monotonic() - changed_at))]
    old_times = [at for at, html in seen if shows(old, html)]
    new_times = [at for at, html in seen if shows(new, html)]
    print(
        f"  HTML product page ({len(seen)} polls by {POLLERS} clients at once, for 8 s after the PATCH): "
        f"the new price first at {fmt(min(new_times, default=None))}, the old one last at "
        f"{fmt(max(old_times, default=None))}; from {fmt(min(new_times, default=None) if not old_times else max(old_times))} "
        "on, every answer showed the new price."
    )
    if old_times and max(old_times) > 5.5:
        print("  warning: the old price showed longer than the adapter's 5 s cache.")


POLLERS = 8


def poll(url, seconds):
    """(time.monotonic(), html) of GET url by POLLERS clients at once, each again and again, for `seconds`."""
    until = time.monotonic() + seconds

    def client():
        seen = []
        while time.monotonic() < until:
            html = requests.get(url, timeout=10).text
            seen.append((time.monotonic(), html))
            time.sleep(0.02)
        return seen

    with ThreadPoolExecutor(POLLERS) as pool:
        return sorted(
            (item for seen in pool.map(lambda _: client(), range(POLLERS)) for item in seen), key=lambda item: item[0]
        )


def fmt(seconds):
    return "never" if seconds is None else f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
