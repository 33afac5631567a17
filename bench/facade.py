"""Benchmark: anonymous catalog API reads through the facade, its microcache on and off, beside nginx serving a static file.

Starts a shop of its own (`shop up` on free ports, in a run folder of its own, on the PostgreSQL
`shop up` runs there) and, beside it, a bare nginx (the same binary, `worker_processes auto`,
default access log) serving one static file: the bytes of the API answer measured, so both send
as much. At each stage asked for (0 and 2 by default; `shop stage N` between), it loads with wrk:

- nginx, a static file: what this machine's nginx can do, the yardstick;
- the facade's own answer: GET /metrics, the 404 nginx makes itself (no upstream, no cache; the
  facade's maps, headers and two access logs), so the cost of the facade's config alone;
- /api/catalog/products/?page_size=20 through the facade, microcache on (FACADE_MICROCACHE=on);
- the same, microcache off (the facade's config rendered with FACADE_MICROCACHE=off and reloaded);
- the same straight at its owner, no facade (the monolith at stage 0, the catalog service from 1);
- the HTML product list (/products/, never cached) through the facade and straight at the monolith:
  what the facade costs a page (shopctl/gunicorn_config.py's workers and threads were chosen on it).

Runs are interleaved (the order reversed every round) so that drift on a shared machine hits all
alike; the median of the rounds is shown, as a Markdown table with requests per second, p50 and p99
latency, and how many times slower than the static file each is. The goal (issue 12): anonymous
catalog API reads through the facade within 10x of the static file.

    .venv/bin/python bench/facade.py [--duration 5] [--rounds 3] [--connections 32] [--stages 0,2]
    .venv/bin/python bench/facade.py --quick     # 1 round x 2 s: a check that it all works

Needs wrk (`apt-get install wrk`). A benchmark, not a test: it asserts nothing, though it stops if
the microcache does not answer as the row says (a HIT when on, nothing when off).
"""

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from shopctl import kit, nginx, postgres, stack  # noqa: E402
from shopctl.background import BackgroundShop  # noqa: E402

API = "/api/catalog/products/?page_size=20"
PAGE = "/products/"
STATIC = "/products.json"
OWN = "/metrics"  # the facade's own 404 (proxy/nginx.conf, `location = /metrics`)
ROWS = {
    "static": "nginx, a static file (same bytes)",
    "own": "facade, its own answer (404, no upstream)",
    "on": "API through the facade, microcache on",
    "off": "API through the facade, microcache off",
    "direct": "API straight at its owner, no facade",
    "page": "HTML product list through the facade",
    "page-direct": "HTML product list straight at the monolith",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per row; the median is shown (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: a core left for nginx)")
    parser.add_argument("--stages", default="0,2", help="comma-separated stages, in order (default 0,2)")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s per row: checks the set-up")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 2
    try:
        stages = [int(stage) for stage in args.stages.split(",")]
    except ValueError:
        sys.exit(f"--stages {args.stages!r}: give stages as numbers, e.g. 0,2")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    with contextlib.ExitStack() as cleanup:
        run_dir = cleanup.enter_context(kit.reachable_run_dir("bench-facade-"))
        env = {
            **nginx.UNLIMITED,  # one address loads the shop as fast as it answers
            "FACADE_MICROCACHE": "on",
            "SHOP_RUN_DIR": str(run_dir),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            **{f"{name.upper()}_ADDR": stack.free_address() for name in stack.DEFAULT_ADDRESSES},
        }
        shop = cleanup.enter_context(BackgroundShop(env=env, without=postgres.DATABASES, log_path=run_dir / "shop.log"))
        shop.wait_until_ready(timeout=240)
        facade = shop.url.rstrip("/")
        body = requests.get(facade + API, timeout=10)
        body.raise_for_status()
        static = cleanup.enter_context(static_nginx(run_dir / "static", body.content))
        print(
            f"Shop up at {facade} (log: {shop.log_path}); a static file of {len(body.content)} bytes at {static}. "
            f"{args.rounds} x {args.duration} s per row, {args.connections} connections, wrk -t{args.threads}, "
            f"{os.cpu_count()} cores, {nginx_version()}, {time.strftime('%Y-%m-%d %H:%M %Z')}.\n",
            flush=True,
        )

        results = {}
        for stage in stages:
            if stage != 0:
                switched = shop.switch(stage)
                if switched.returncode != 0:
                    sys.exit(f"`shop stage {stage}` failed:\n{switched.stdout}{switched.stderr}")
            urls = {
                "static": static + STATIC,
                "own": facade + OWN,
                "on": facade + API,
                "off": facade + API,
                "direct": f"http://{stack.address(owner(stage), env)}{API}",
                "page": facade + PAGE,
                "page-direct": f"http://{stack.address('monolith', env)}{PAGE}",
            }
            cache = Microcache(env, stage, facade + API)
            for row, url in urls.items():  # warm up: open the keepalive connections, fill the caches
                cache.set(row)
                wrk(url, args.connections, 1, args.threads)
            for round_ in range(args.rounds):
                for row in list(urls) if round_ % 2 == 0 else list(reversed(urls)):
                    cache.set(row)
                    results.setdefault((stage, row), []).append(
                        wrk(urls[row], args.connections, args.duration, args.threads)
                    )
                    print(".", end="", flush=True)
            cache.set("on")  # as `shop up` started it, for the next `shop stage`
            print(f" stage {stage} done", flush=True)
        print()
        print_table(results, stages)


@contextlib.contextmanager
def static_nginx(prefix: Path, content: bytes):
    """A bare nginx serving `content` as STATIC at a free port; its base URL."""
    address = stack.free_address()
    (prefix / "html").mkdir(parents=True)
    (prefix / "html" / STATIC.lstrip("/")).write_bytes(content)
    temp_paths = "".join(
        f"    {kind}_temp_path {kind}_temp;\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        "worker_processes auto;\npid nginx.pid;\nerror_log stderr;\nevents { worker_connections 1024; }\n"
        f"http {{\n{temp_paths}    access_log access.log;\n    server {{\n"
        f"        listen {address};\n        root html;\n    }}\n}}\n"
    )
    process = subprocess.Popen(nginx.command(prefix), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not stack.answers(f"http://{address}{STATIC}"):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"The static nginx did not start at {address} ({prefix / 'nginx.conf'}).")
            time.sleep(0.1)
        yield f"http://{address}"
    finally:
        process.terminate()
        process.wait(timeout=15)


class Microcache:
    """The running facade's microcache switched on or off: its config rendered again and reloaded."""

    def __init__(self, env, stage, probe_url):
        self.prefix = stack.run_dir(env) / "nginx"
        self.stage, self.probe_url, self.state = stage, probe_url, "on"
        self.addresses = {name: stack.address(name, env) for name in stack.DEFAULT_ADDRESSES}
        self.settings = {name: env[name] for name in nginx.SETTING_DEFAULTS}

    def set(self, row):
        wanted = "off" if row == "off" else "on"
        if wanted != self.state:
            nginx.render(self.prefix, self.stage, self.addresses, {**self.settings, "FACADE_MICROCACHE": wanted})
            nginx.check(self.prefix)
            nginx.reload(self.prefix)
            self.state = wanted
        if row in ("on", "off"):
            # What the row says it measures, or stop: two reads in a row, the second a HIT or uncached.
            # No Accept header, as wrk sends: the same variant of the entry (the API says Vary: Accept).
            # A few tries, a second and a half apart: right after a row of wrk the upstream may still
            # be working through that row's backlog (seen once at stage 2: EXPIRED twice in a row).
            for _ in range(4):
                answers = [requests.get(self.probe_url, headers={"Accept": None}, timeout=10) for _ in range(2)]
                seen = [answer.headers.get("X-Cache-Status") for answer in answers]
                if (seen[1] == "HIT") == (wanted == "on") and (wanted == "on" or seen == [None, None]):
                    break
                time.sleep(1.5)
            else:
                sys.exit(
                    f"The microcache is meant to be {wanted}, but two reads of {self.probe_url} gave {seen}: "
                    + "; ".join(str(dict(answer.headers)) for answer in answers)
                )


def owner(stage):
    """The process that owns /api/catalog/ at the stage."""
    return stack.STAGE_ROUTES[stage].get("/api/catalog/", "monolith")


def nginx_version():
    result = subprocess.run([nginx._binary(), "-v"], capture_output=True, text=True)
    return result.stderr.strip().replace("nginx version: ", "")


def wrk(url, connections, duration, threads):
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if errors or (non_2xx and not url.endswith(OWN)):
        print(f"\n  warning: {url}: {non_2xx and non_2xx.group(0)} {errors and errors.group(0)}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": to_ms(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99": to_ms(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
    }


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def print_table(results, stages):
    print("| stage | what | req/s | p50 ms | p99 ms | static ÷ this |")
    print("|---|---|---:|---:|---:|---:|")
    medians = {
        key: {measure: statistics.median(run[measure] for run in runs) for measure in ("rps", "p50", "p99")}
        for key, runs in results.items()
    }
    for stage in stages:
        static = medians[(stage, "static")]["rps"]
        for row, label in ROWS.items():
            m = medians[(stage, row)]
            if row == "direct":
                label = f"{label} ({owner(stage)})"
            print(
                f"| {stage} | {label} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {static / m['rps']:,.1f} |"
            )
    print(f"\n{API} is the API row's URL; the goal is a 'static ÷ this' of 10 or less for the microcache on.")


if __name__ == "__main__":
    main()
