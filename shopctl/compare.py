"""`shop compare`: the same shoppers against the monolith and the services, measured side by side.

    shop compare                      # stages 0, 1 and 2, 2 rounds of 35 s each: about 5 minutes
    shop compare --quick              # stages 0 and 2, one round of 15 s: about a minute
    shop compare --url http://127.0.0.1:8080/   # the shop running there, as it is

By default it starts a fresh shop for each stage (shopctl/kit.py: its own run folder, PostgreSQL
and free ports, seeded alike, only the processes the stage needs), all at once, and keeps them up
for the whole run; warms each up; then sends each in turn the same shoppers (`python -m
shopctl.load`, shopctl/workload.py) for --duration seconds, in rounds that alternate the order of
the stages (0 1 2, then 2 1 0, ...) so that the drift of a shared machine hits each alike.

Around each window it reads, for the stage being loaded only (so idle shops never count):
- CPU seconds and memory (Pss) of each process under that shop's `shop up`, and of the
  PostgreSQL backends of each of its databases (shopctl/procstat.py);
- each Django process's Prometheus counters at its own address: SQL statements
  (django_db_execute_total) and the monolith's calls to the services (shop_service_calls_total);
- the load's own summary: requests, failures and latency per page type.
The report (shopctl/report.py) goes to results/<date>-<machine>/ or --out.
"""

import argparse
import contextlib
import datetime
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from prometheus_client.parser import text_string_to_metric_families
from tqdm import tqdm

from shopctl import ShopError, kit, postgres, procstat, stack, state

# The default run: at most 6 minutes on a 2-core machine, start-up (about 30 s for three shops
# at once) included. --quick: at most 90 s. A closed loop (no think time), so that throughput
# is what each stage can serve, not what the shoppers ask for.
DEFAULTS = {"stages": [0, 1, 2], "rounds": 2, "duration": 35.0, "users": 16, "think": (0.0, 0.0)}
QUICK = {"stages": [0, 2], "rounds": 1, "duration": 10.0, "users": 8, "think": (0.0, 0.0)}
WARM_UP = {"duration": 4.0, "users": 4}  # unmeasured, each shop at once: caches, connections, imports
LONGEST_WINDOW = 600  # seconds
MOST_USERS = 200
MOST_ROUNDS = 20
# Tries at starting a stage's shop when a port picked for it was taken meanwhile.
PORT_ATTEMPTS = 3
# The load stops within its duration plus the time its users get to finish (shopctl/load.py).
LOAD_GRACE = 60  # seconds

# Each deployable's database, as the process kind its backends count as.
DATABASE_KINDS = {
    "DATABASE_URL": "postgres:monolith",
    "CATALOG_DATABASE_URL": "postgres:catalog",
    "PAYMENTS_DATABASE_URL": "postgres:payments",
}
# django-prometheus's and the monolith's counter names (monolith/core/service_client.py).
SQL_METRIC = "django_db_execute"
CALLS_METRIC = "shop_service_calls"


def add_parser(commands):
    """The `compare` subcommand of `shop` (shopctl/cli.py)."""
    parser = commands.add_parser(
        "compare",
        help="the same shoppers against each stage, side by side: throughput, latency, CPU, memory, SQL; "
        "a report with charts in results/",
        description="Start a fresh shop for each stage (or measure --url), send each the same shoppers in "
        "alternating rounds, and write a report (Markdown, PNG charts, CSV, JSON). "
        "Default: stages 0,1,2, 2 rounds of 35 s, 16 users, no think time (about 5 minutes).",
    )
    parser.add_argument(
        "--stages", type=stage_list, default=None, help="the stages to compare, e.g. 0,2 (default 0,1,2)"
    )
    parser.add_argument(
        "--rounds", type=_bounded(int, 1, MOST_ROUNDS), default=None, help="rounds over the stages (default 2)"
    )
    parser.add_argument(
        "--duration",
        type=_bounded(float, 5, LONGEST_WINDOW),
        default=None,
        help="seconds of load per stage and round (default 35)",
    )
    parser.add_argument(
        "--users",
        type=_bounded(int, 1, MOST_USERS),
        default=None,
        help="simultaneous users, 4 shoppers to 1 API reader (default 16)",
    )
    parser.add_argument(
        "--think",
        type=think_time,
        default=None,
        help="seconds each user waits between pages, LOW-HIGH or one number (default 0: a closed loop)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="stages 0 and 2, one round of 10 s, 8 users: about a minute"
    )
    parser.add_argument(
        "--url",
        type=local_url,
        default=None,
        help="measure the shop already running there (127.0.0.1 only) instead of starting shops",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="the report's folder (default results/<date>-<machine>/)"
    )
    parser.add_argument(
        "--microcache",
        choices=("on", "off"),
        default=None,
        help="the facade's microcache for anonymous catalog API reads in the shops started (default: the facade's)",
    )
    parser.add_argument(
        "--trace-rate",
        type=_bounded(float, 0, 1),
        default=None,
        help="the share of requests traced in the shops started, 0 to 1 (TRACE_SAMPLE_RATE; default: the shop's, docs/tracing.md)",
    )
    parser.set_defaults(handler=main)
    return parser


# --- options -----------------------------------------------------------------------------------------


def _bounded(kind, low, high):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low} and {high}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def stage_list(text: str) -> list[int]:
    """ "0,2" -> [0, 2]: known stages, each once."""
    stages = sorted(stack.STAGE_ROUTES)
    try:
        chosen = [int(part) for part in text.split(",")]
    except ValueError:
        chosen = None
    if not chosen or any(stage not in stages for stage in chosen) or len(set(chosen)) != len(chosen):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give stages from {', '.join(map(str, stages))}, each once, separated by commas (e.g. 0,2)"
        )
    return chosen


def think_time(text: str) -> tuple[float, float]:
    """ "1-3" -> (1.0, 3.0); "0" -> (0.0, 0.0): seconds between a user's pages, drawn uniformly."""
    try:
        low, _, high = text.partition("-")
        pair = (float(low), float(high or low))
    except ValueError:
        pair = None
    if pair is None or not 0 <= pair[0] <= pair[1] <= 60:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds as LOW-HIGH (e.g. 1-3) or one number (0: none)")
    return pair


def local_url(text: str) -> str:
    parts = urlsplit(text if "//" in text else f"http://{text}")
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or not parts.port:
        raise argparse.ArgumentTypeError(f"{text!r}: give the facade as http://127.0.0.1:PORT/ (this machine only)")
    return f"http://127.0.0.1:{parts.port}/"


@dataclass(frozen=True)
class Plan:
    stages: list[int]
    rounds: int
    duration: float
    users: int
    think: tuple[float, float]
    url: str | None
    microcache: str | None
    trace_rate: float | None
    quick: bool

    @classmethod
    def from_args(cls, args) -> "Plan":
        base = QUICK if args.quick else DEFAULTS
        if args.url and (args.stages is not None or args.microcache is not None or args.trace_rate is not None):
            raise ShopError(
                "--url measures the shop running there as it is: --stages, --microcache and --trace-rate are for "
                "the shops `shop compare` starts itself."
            )
        return cls(
            stages=base["stages"] if args.stages is None else args.stages,
            rounds=args.rounds or base["rounds"],
            duration=args.duration or base["duration"],
            users=args.users or base["users"],
            think=base["think"] if args.think is None else args.think,
            url=args.url,
            microcache=args.microcache,
            trace_rate=args.trace_rate,
            quick=args.quick,
        )

    @property
    def think_text(self) -> str:
        low, high = self.think
        return f"{low:g}" if low == high else f"{low:g}-{high:g}"


# --- what is measured --------------------------------------------------------------------------------------


@dataclass
class Target:
    """One shop being measured: where it answers, and where its processes and counters are."""

    label: str  # the stage, as the report's key
    url: str
    names: list[str]  # the processes it runs, when known
    roots: list[int]  # the pids of its `shop up`s: procstat looks under them
    databases: dict[str, str]  # process kind -> database name
    metrics: dict[str, str]  # Django process -> its own base URL (for /metrics)
    windows: list[dict] = field(default_factory=list)


def target_of(url: str, run_dir: Path, label: str) -> Target:
    """The shop answering at url, its processes found through the run state `shop up` keeps in run_dir
    (shopctl/state.py) when that shop's facade is at url; else a Target whose processes are unknown."""
    record = state.running(run_dir) or {}
    env = record.get("environment", {})
    if env.get("FACADE_ADDR") != urlsplit(url).netloc:
        return Target(label, url, names=[], roots=[], databases={}, metrics={})
    names = [name for shop in record["shops"].values() for name in shop["names"]]
    databases = {
        kind: urlsplit(env[variable]).path.lstrip("/") for variable, kind in DATABASE_KINDS.items() if env.get(variable)
    }
    metrics = {
        name: f"http://{stack.address(name, env)}"
        for name in stack.servers(names)
        if name != "facade" and f"{name.upper()}_ADDR" in env
    }
    return Target(label, url, names, [int(pid) for pid in record["shops"]], databases, metrics)


def usage(target: Target) -> dict[str, procstat.Usage]:
    """CPU seconds and memory of each kind of the target's processes, summed over its `shop up`s."""
    total: dict[str, procstat.Usage] = {}
    for root in target.roots:
        for kind, found in procstat.sample(root, target.databases).items():
            before = total.get(kind, procstat.Usage(0, 0))
            total[kind] = procstat.Usage(before.cpu_s + found.cpu_s, before.pss_mib + found.pss_mib)
    return total


def counters(target: Target) -> dict[str, Counter]:
    """Each Django process's SQL statements and service calls so far (its /metrics);
    a process that does not answer is left out."""
    readings = {}
    for name, base in target.metrics.items():
        try:
            response = requests.get(f"{base}/metrics", timeout=5)
            response.raise_for_status()
        except requests.RequestException:
            continue
        reading = Counter()
        for family in text_string_to_metric_families(response.text):
            if family.name in (SQL_METRIC, CALLS_METRIC):
                reading[family.name] += sum(s.value for s in family.samples if s.name.endswith("_total"))
        readings[name] = reading
    return readings


def load(target: Target, plan: Plan, seconds: float, users: int, log: Path, summary: Path) -> subprocess.Popen:
    """The shoppers, as `shop load` sends them, in a process of their own (Locust patches the
    standard library for gevent: never in this one), its live table into log."""
    summary.unlink(missing_ok=True)  # an earlier run's in the same folder must not pass for this one's
    with open(log, "wb") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shopctl.load",
                "--url",
                target.url,
                "--duration",
                f"{seconds:g}",
                "--users",
                str(users),
                "--think",
                plan.think_text,
                "--summary-json",
                str(summary),
            ],
            cwd=stack.REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def measure(target: Target, plan: Plan, round_number: int, out: Path, bar: tqdm) -> None:
    """One window of load on target, with its CPU, memory and counters before and after."""
    name = f"stage-{target.label}-round-{round_number}"
    log, summary_path = out / "logs" / f"{name}.log", out / "logs" / f"{name}.json"
    bar.set_postfix_str(f"stage {target.label}, round {round_number}")
    counted, used = counters(target), usage(target)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = load(target, plan, plan.duration, plan.users, log, summary_path)
    started = time.monotonic()
    shown = 0.0
    while process.poll() is None:
        time.sleep(0.5)
        elapsed = min(time.monotonic() - started, plan.duration)
        bar.update(elapsed - shown)
        shown = elapsed
        if time.monotonic() - started > plan.duration + LOAD_GRACE:
            process.kill()
    bar.update(plan.duration - shown)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used_after, counted_after = usage(target), counters(target)
    if not summary_path.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise ShopError(
            f"The load on stage {target.label} ended (code {process.returncode}) without a summary:\n{tail}"
        )
    target.windows.append(
        {
            "round": round_number,
            "summary": json.loads(summary_path.read_text()),
            "cpu_s": procstat.spent(used, used_after),
            "pss_mib": {kind: found.pss_mib for kind, found in used_after.items()},
            "counters": {
                name: dict(counted_after[name] - counted.get(name, Counter()))
                for name in counted_after
                if name in counted
            },
            "load_cpu_s": (after_children.ru_utime + after_children.ru_stime) - (children.ru_utime + children.ru_stime),
        }
    )


def warm_up(targets: list[Target], plan: Plan, out: Path) -> None:
    """A few seconds of the same shoppers on every shop at once, not measured."""
    running = [
        load(
            target,
            plan,
            WARM_UP["duration"],
            WARM_UP["users"],
            out / "logs" / f"warm-up-stage-{target.label}.log",
            out / "logs" / f"warm-up-stage-{target.label}.json",
        )
        for target in targets
    ]
    for process in running:
        try:
            process.wait(timeout=WARM_UP["duration"] + LOAD_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the figures -----------------------------------------------------------------------------------------


def figures(target: Target) -> dict:
    """The target's windows together: pages, processes and work per request, as shopctl/report.py reads them."""
    windows = target.windows
    requests_total = sum(w["summary"]["requests"] for w in windows)
    seconds = sum(w["summary"]["seconds"] for w in windows)
    pages = {}
    names = []
    for window in windows:
        names += [page for page in window["summary"]["by_page"] if page not in names]
    for page in [*names, "all"]:
        rows = [
            w["summary"]["by_page"].get(page)
            if page != "all"
            else {
                "requests": w["summary"]["requests"],
                "errors": w["summary"]["failures"],
                **{f"{key}_ms": value for key, value in w["summary"].get("latency_ms", {}).items()},
            }
            for w in windows
        ]
        rows = [row for row in rows if row]
        count = sum(row["requests"] for row in rows)
        pages[page] = {
            "requests": count,
            "failures": sum(row["errors"] for row in rows),
            "rps": round(count / seconds, 2) if seconds else None,
            # Percentiles do not add up: the median of the windows' (the mean of two).
            **{key: _median([row.get(f"{key}_ms") for row in rows]) for key in ("p50", "p95", "p99")},
        }
    processes = {}
    cpu = Counter()
    for window in windows:
        cpu.update(window["cpu_s"])
    kinds = []
    for window in windows:
        kinds += [kind for kind in window["pss_mib"] if kind not in kinds]
    sql = Counter()
    calls = Counter()
    for window in windows:
        for name, counted in window["counters"].items():
            sql[name] += counted.get(SQL_METRIC, 0)
            calls[name] += counted.get(CALLS_METRIC, 0)
    for kind in _process_order(kinds):
        row = {
            "cpu_ms_per_request": round(cpu[kind] * 1000 / requests_total, 3) if requests_total else None,
            "pss_mib": round(statistics.mean(w["pss_mib"][kind] for w in windows if kind in w["pss_mib"]), 1),
        }
        if kind in target.metrics and requests_total and any(kind in w["counters"] for w in windows):
            row["sql_per_request"] = round(sql[kind] / requests_total, 2)
        processes[kind] = row
    per_request = {}
    if requests_total and any(w["counters"] for w in windows):
        per_request = {
            "sql_queries": round(sum(sql.values()) / requests_total, 2),
            "service_calls": round(sum(calls.values()) / requests_total, 3),
        }
    if requests_total:
        per_request["load_cpu_ms"] = round(sum(w["load_cpu_s"] for w in windows) * 1000 / requests_total, 3)
    rounds = [
        {
            "round": w["round"],
            "requests": w["summary"]["requests"],
            "failures": w["summary"]["failures"],
            "seconds": w["summary"]["seconds"],
            "rps": round(w["summary"]["requests"] / w["summary"]["seconds"], 2) if w["summary"]["seconds"] else None,
        }
        for w in windows
    ]
    return {"pages": pages, "processes": processes, "per_request": per_request, "rounds": rounds}


def _median(values):
    values = [value for value in values if value is not None]
    return round(statistics.median(values), 1) if values else None


def _process_order(kinds):
    order = ["facade", "monolith", "catalog", "payments", "relay", *DATABASE_KINDS.values()]
    return [kind for kind in order if kind in kinds] + sorted(set(kinds) - set(order))


def default_out() -> Path:
    now = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    return stack.REPO / "results" / f"{now}-{socket.gethostname()}"


# --- running it ------------------------------------------------------------------------------------------


def main(args) -> int:
    plan = Plan.from_args(args)
    stage = _stage_at(plan.url) if plan.url else None  # before anything is written: is a shop there?
    out = (args.out or default_out()).resolve()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    record = {"machine": kit.machine(), "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    if plan.url:
        targets, notes = _measure_running(plan, stage, out)
    else:
        targets, notes = _measure_fresh(plan, out)
    results = _results(plan, targets, notes, record, time.monotonic() - began)
    from shopctl import report  # matplotlib: only now, not at every `shop` command

    written = report.write(results, out)
    print(_summary_table(results, report))
    print(f"\nReport: {written}")
    failed = sum(results["pages"][label]["all"]["failures"] for label in results["stages"])
    if failed:
        print(f"{failed} requests failed: the report's latency table says which pages, logs/ what they answered.")
    return 1 if failed else 0


def _measure_fresh(plan: Plan, out: Path) -> tuple[list[Target], list[str]]:
    env = {}
    if plan.microcache is not None:
        env["FACADE_MICROCACHE"] = plan.microcache
    if plan.trace_rate is not None:
        env["TRACE_SAMPLE_RATE"] = f"{plan.trace_rate:g}"
    with contextlib.ExitStack() as exits:
        # The shops' run folders (and their PostgreSQL clusters) live outside the report's folder,
        # which may be committed (docs/reference/compare); their logs are copied in at the end.
        scratch = Path(tempfile.mkdtemp(prefix="shop-compare-"))
        scratch.chmod(0o755)  # PostgreSQL runs as the postgres user under root: it must reach its folder
        exits.callback(shutil.rmtree, scratch, ignore_errors=True)
        exits.callback(_keep_logs, scratch, out)
        targets = _start_shops(plan, scratch, env, exits)
        print(f"Warming up ({WARM_UP['duration']:g} s of shoppers on every shop at once, not measured).", flush=True)
        warm_up(targets, plan, out)
        by_stage = {int(target.label): target for target in targets}
        total = plan.rounds * len(targets) * plan.duration
        with tqdm(
            total=total, unit="s", desc="load", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s {postfix}"
        ) as bar:
            for number in range(1, plan.rounds + 1):
                order = plan.stages if number % 2 else list(reversed(plan.stages))
                for stage in order:
                    measure(by_stage[stage], plan, number, out, bar)
    notes = [
        f"Stage {target.label} ran {', '.join(target.names)} (a fresh shop: its own PostgreSQL, seeded alike)."
        for target in targets
    ]
    notes.append(
        "All the shops were up for the whole run; each stage's CPU and memory were read over its own processes "
        "during its own windows only, so an idle shop never counts."
    )
    return targets, notes


def _start_shops(plan: Plan, scratch: Path, env: Mapping[str, str], exits: contextlib.ExitStack) -> list[Target]:
    """A fresh shop per stage, started at once (each is mostly waiting for its database and migrations)."""
    print(
        f"Starting {len(plan.stages)} fresh shops (stages {', '.join(map(str, plan.stages))}): "
        "PostgreSQL, migrations and seed data each; up to a minute.",
        flush=True,
    )
    started: dict[int, tuple] = {}  # stage -> (its fresh_shop, the shop, its folder)
    # Registered before any starts: a shop that came up is stopped (and its cluster deleted) however
    # the run ends, Ctrl-C during the others' start included.
    exits.callback(_stop_shops, started)
    began = time.monotonic()
    problems = []
    with ThreadPoolExecutor(len(plan.stages)) as pool, tqdm(total=len(plan.stages), unit="shop", desc="start") as bar:
        futures = {stage: pool.submit(_start_one, stage, scratch, env, started, bar) for stage in plan.stages}
        for stage, future in futures.items():
            try:
                future.result()
            except (ShopError, OSError) as error:
                problems.append(f"stage {stage}: {error}")
    if problems:
        raise ShopError("A shop did not start:\n" + "\n".join(problems))
    print(f"The shops were ready in {time.monotonic() - began:.0f} s.", flush=True)
    return [target_of(started[stage][1].url, started[stage][2] / "run", str(stage)) for stage in plan.stages]


def _start_one(stage: int, scratch: Path, env: Mapping[str, str], started: dict, bar: tqdm) -> None:
    for attempt in range(1, PORT_ATTEMPTS + 1):
        folder = scratch / (f"stage-{stage}" if attempt == 1 else f"stage-{stage}-try-{attempt}")
        manager = kit.fresh_shop(stage, folder, env=env)
        try:
            shop = manager.__enter__()
        except ShopError as error:
            postgres.remove(folder / "run")
            # A port free when kit picked it was taken before the shop bound it: under load, any
            # outgoing connection may get it as its own port. Other free ports, in a new folder.
            if "already in use" in str(error) and attempt < PORT_ATTEMPTS:
                continue
            raise
        started[stage] = (manager, shop, folder)
        bar.update(1)
        return


def _stop_shops(started: dict) -> None:
    def stop(entry):
        manager, _, folder = entry
        manager.__exit__(None, None, None)
        postgres.remove(folder / "run")

    with ThreadPoolExecutor(max(1, len(started))) as pool:
        list(pool.map(stop, list(started.values())))


def _keep_logs(scratch: Path, out: Path) -> None:
    for log in scratch.glob("stage-*/shop.log"):
        shutil.copyfile(log, out / "logs" / f"shop-{log.parent.name}.log")


def _stage_at(url: str) -> str:
    """The stage of the shop at url, as its /readyz says."""
    try:
        return str(requests.get(f"{url}readyz", timeout=5).json()["stage"])
    except (requests.RequestException, ValueError, KeyError, TypeError):
        raise ShopError(f"No shop answers at {url}readyz with its stage: start one (`shop up`) first.") from None


def _measure_running(plan: Plan, stage: str, out: Path) -> tuple[list[Target], list[str]]:
    target = target_of(plan.url, stack.run_dir(), stage)
    notes = [f"Measured the shop already running at {plan.url} (stage {stage}, from its /readyz), as it was."]
    if target.roots:
        notes.append(f"Its processes ({', '.join(target.names)}) were found in the run state of {stack.run_dir()}.")
    else:
        notes.append(
            f"CPU, memory and SQL per request are missing: no shop recorded in {stack.run_dir()} (the run state of "
            "`shop up`; SHOP_RUN_DIR names another) has its facade at this address."
        )
    total = plan.rounds * plan.duration
    with tqdm(total=total, unit="s", desc="load", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s {postfix}") as bar:
        for number in range(1, plan.rounds + 1):
            measure(target, plan, number, out, bar)
    return [target], notes


def _results(plan: Plan, targets: list[Target], notes: list[str], record: dict, took: float) -> dict:
    labels = [target.label for target in targets]
    measured = {target.label: figures(target) for target in targets}
    record["machine"]["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    return {
        "kind": "compare",
        "title": "Stage against stage: the same shoppers, side by side",
        **record,
        "versions": kit.versions(),
        "options": {
            "stages": ",".join(labels),
            "rounds": plan.rounds,
            "duration_s": plan.duration,
            "users": plan.users,
            "think_s": plan.think_text,
            "url": plan.url or "fresh shops",
            "microcache": plan.microcache or "facade default",
            "trace_rate": "shop default" if plan.trace_rate is None else plan.trace_rate,
            "quick": plan.quick,
            "took_s": round(took),
        },
        "stages": labels,
        "notes": notes,
        "pages": {label: figures_["pages"] for label, figures_ in measured.items()},
        "processes": {label: figures_["processes"] for label, figures_ in measured.items() if figures_["processes"]},
        "per_request": {label: figures_["per_request"] for label, figures_ in measured.items()},
        "rounds": {label: figures_["rounds"] for label, figures_ in measured.items()},
        "running": {target.label: target.names for target in targets},
    }


def _summary_table(results: dict, report) -> str:
    """The terminal's short version of the report: the whole mix, and the ratios of its two groups to stage 0."""
    lines = [
        f"\n{'stage':>5} {'req/s':>8} {'x st.0':>7} {'pages x':>8} {'API x':>6} {'errors':>7} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'CPU ms/req':>10} {'MiB':>7} {'SQL/req':>8} {'calls/req':>9}"
    ]
    base = results["pages"].get("0", {}).get("all", {}).get("rps")
    base_groups = report.page_groups(results, "0") if "0" in results["stages"] else {}
    for label in results["stages"]:
        row = results["pages"][label]["all"]
        processes = results.get("processes", {}).get(label, {})
        cpu = sum(p.get("cpu_ms_per_request") or 0 for p in processes.values()) if processes else None
        memory = sum(p.get("pss_mib") or 0 for p in processes.values()) if processes else None
        work = results["per_request"].get(label, {})
        ratio = row["rps"] / base if base and row.get("rps") is not None else None
        groups = report.page_groups(results, label)
        pages, api = (
            (groups[name] / base_groups[name] if groups and base_groups else None) for name in report.PAGE_GROUPS
        )
        lines.append(
            f"{label:>5} {_cell(row.get('rps'))} {_cell(ratio, 7, 2)} {_cell(pages, 8, 2)} {_cell(api, 6, 2)} "
            f"{row['failures']:>7} {_cell(row.get('p50'), 7)} "
            f"{_cell(row.get('p95'), 7)} {_cell(cpu, 10)} {_cell(memory, 7, 0)} {_cell(work.get('sql_queries'), 8)} "
            f"{_cell(work.get('service_calls'), 9, 2)}"
        )
    return "\n".join(lines)


def _cell(value, width=8, digits=1):
    return f"{'–':>{width}}" if value is None else f"{value:>{width}.{digits}f}"
