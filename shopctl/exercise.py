"""`shop exercise NAME --stage N`: break one part of a fresh shop under shopper load, mend it, and
report what the shoppers saw, how long the shop took to recover, and whether anything was lost.

    shop exercise --list                          # each exercise: what breaks, what to watch
    shop exercise payments-down --stage 2         # about 75 s, then results/<when>-<host>-payments-down-stage-2/

Each run: a fresh shop (shopctl/kit.py SeparateShop: each process under its own `shop up`, so one
can be stopped alone), `shop load` running throughout (`python -m shopctl.load`, whose summary has
a per-second timeline), a quiet lead-in, the fault for a window, the fault removed, a tail to
recover in. Then the data check, once the payments waiting for the relay have settled: no order
lost, no order charged twice, every product's stock exact. The command's exit code is 1 when the
data check fails, 2 when the exercise has no form at the stage asked for. docs/exercises.md says
what each exercise does at stage 0 and 2 and how to read the report.
"""

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg2
import requests
from tqdm import tqdm

from shopctl import ShopError, kit, postgres, report, stack
from shopctl import secrets as run_secrets

STAGES = (0, 2)  # stage 1 is half of each: the catalog moved, payments not
DEFAULT_DURATION = 75  # seconds of load: lead-in, fault, tail
DEFAULT_USERS = 10
# Shares of the duration: the lead-in (the shop's normal, which recovery is measured against) and
# the fault window; the rest is the tail in which the shop recovers.
LEAD_IN_SHARE, FAULT_SHARE = 0.2, 0.4
# The timeline's lines: page types grouped by what a shopper is doing (shopctl/workload.py's page types).
PAGE_GROUPS = {
    "browsing": ["home", "category", "search", "product"],
    "cart": ["cart-add", "cart"],
    "checkout": ["checkout-form", "checkout", "order"],
    "catalog API": ["api-products", "api-product", "api-categories"],
}
# The first seconds of a fresh shop are its warm-up (empty caches, new connections): left out of
# the lead-in's normal, which recovery is measured against.
WARM_UP = 3
# Pages read before the load starts, so that the lead-in starts with the first connections made
# and the first queries planned (each a few times: gunicorn has several workers).
WARM_UP_PATHS = ("", "products/", "products/?category=coffee", "cart/", "api/catalog/products/")
WARM_UP_ROUNDS = 4
# Payments not settled yet, and paid orders whose stock commit in the catalog service is due (the relay's work).
WAITING = (
    "SELECT (SELECT count(*) FROM orders_orderpayment WHERE status = 'pending'),"
    " (SELECT count(*) FROM orders_order WHERE stock_commit_due)"
)
SETTLE_WITHIN = 90  # seconds for the payments waiting for the relay to settle after the load
# Recovery: the first second after the fault is removed from which RECOVERED_FOR seconds in a row
# (or every second left, if fewer) have no failed request and every page type's p95 within
# SLOWER_BY of its lead-in p95 (or SLACK_MS above it: a page of a few ms is noisy).
RECOVERED_FOR = 5
SLOWER_BY, SLACK_MS = 2.0, 100.0
CATALOG_LATENCY_MS = 1000  # catalog-slow: under the monolith's 1.5 s read timeout of the catalog service
FLAKY_RATE = 0.3  # payments-flaky: the share of payment calls that fail
# An exercise whose fault has nothing to break at stage 0 runs there all the same, injecting nothing:
# the same load, measured, is the contrast.
STAGE_0_NOTHING = "At stage 0 {what}: nothing is injected, and the same load shows what stage 2 adds to break."


@dataclass(frozen=True)
class Exercise:
    name: str
    broken: str  # what is broken, at each stage
    watch: str  # what to watch in the report
    contrast: str  # what stage 0 shows against stage 2, or why it has no stage-0 form
    inject: Callable  # (run, stage) -> None
    restore: Callable | None  # (run, stage) -> None; None: the fault is over once inject() returns


def _stop(name):
    return lambda run, stage: run.shop.stop(name)


def _start(name):
    return lambda run, stage: run.shop.start(name)


def _restart(stage_0_name, stage_2_name):
    """Stop the process and start it again at once: the fault is the time the restart takes."""

    def restart(run, stage):
        name = stage_0_name if stage == 0 else stage_2_name
        run.shop.stop(name)
        run.shop.start(name)

    return restart


def _catalog_faults(**values):
    """The catalog's faults: the catalog service's /ops/faults/ at stage 2, the monolith's in-process
    catalog switch (monolith/ops/faults.py) at stage 0."""

    def apply(run, stage):
        if stage == 0:
            options = [f"--{name.replace('_', '-')}={value}" for name, value in values.items()]
            run.manage("monolith", "catalog_faults", *(["set", *options] if values else ["clear"]))
        else:
            run.service_faults("catalog", **{"latency_ms": 0, "error_rate": 0, **values})

    return apply


def _payments_faults(**values):
    return lambda run, stage: run.service_faults(
        "payments", **{"latency_ms": 0, "error_rate": 0, "timeout_after_charge_ms": 0, **values}
    )


def _nothing(run, stage):
    """Nothing to break: at stage 0, the part another exercise breaks at stage 2 does not exist."""


def _per_stage(stage_0, stage_2):
    return lambda run, stage: (stage_0 if stage == 0 else stage_2)(run, stage)


EXERCISES = {
    exercise.name: exercise
    for exercise in [
        Exercise(
            "catalog-down",
            "Stage 2: the catalog service's process is stopped for the window, then started again. "
            "Stage 0: every read of the monolith's in-process catalog fails (its fault switch, error rate 1).",
            "Which pages fail: at stage 2 the monolith serves what its 5 s cache holds, then the 'temporarily "
            "unavailable' page (503, fast: the circuit breaker), and the catalog API's readers get the "
            "facade's 502; checkouts cannot reserve stock; the order pages still answer.",
            "At both stages every page that shows a product needs the catalog and fails without it: a "
            "service every page reads is a dependency every page shares. Stage 0 shows the same failures "
            "without the cache's first seconds.",
            _per_stage(_catalog_faults(error_rate=1), _stop("catalog")),
            _per_stage(_catalog_faults(), _start("catalog")),
        ),
        Exercise(
            "catalog-slow",
            f"Every catalog read takes {CATALOG_LATENCY_MS} ms more: the catalog service's /ops/faults/ "
            "latency at stage 2, the monolith's in-process catalog switch at stage 0.",
            "The p95 of each page type: every page that reads the catalog slows by a second per read; "
            "the order page, which reads none, is the control.",
            "At stage 0 the wait is a second per catalog read in the monolith's own threads; at stage 2 "
            "each page's catalog calls also queue for the catalog service's threads, each holding the "
            "injected second, so the HTML pages can be slower than at stage 0 while the API's readers "
            "see the bare second.",
            _catalog_faults(latency_ms=CATALOG_LATENCY_MS),
            _catalog_faults(),
        ),
        Exercise(
            "payments-down",
            "Stage 2: the payments service's process is stopped for the window, then started again. "
            "Stage 0: payments are code in the monolith, so the monolith itself is stopped for the window.",
            "Stage 2: browsing, cart and checkout answer without error; orders placed meanwhile wait "
            "'payment pending' and the relay pays them once the service is back. Stage 0: every page fails.",
            "A payments outage at stage 0 can only be the monolith's outage: the whole shop is down for "
            "the window, where at stage 2 only the payment waits.",
            _per_stage(_stop("monolith"), _stop("payments")),
            _per_stage(_start("monolith"), _start("payments")),
        ),
        Exercise(
            "payments-flaky",
            f"Stage 2: the payments service fails {FLAKY_RATE:.0%} of its calls (503, nothing charged) "
            "for the window (/ops/faults/ error_rate).",
            "Checkouts still end paid: the monolith's client retries with the same idempotency key, and "
            "the relay delivers what a request could not; no order is charged twice.",
            STAGE_0_NOTHING.format(what="payments are a function call inside the monolith, with no network to fail"),
            _per_stage(_nothing, _payments_faults(error_rate=FLAKY_RATE)),
            _per_stage(_nothing, _payments_faults()),
        ),
        Exercise(
            "relay-down",
            "Stage 2: the payment relay (`manage.py payments_relay`) is stopped for the window.",
            "Nothing a shopper sees while payments answer: the relay only delivers payments a request "
            "could not settle and commits paid orders' stock in the catalog service, so those wait "
            "(stock commits due) until it is back.",
            STAGE_0_NOTHING.format(what="there is no relay: each payment settles in its request"),
            _per_stage(_nothing, _stop("relay")),
            _per_stage(_nothing, _start("relay")),
        ),
        Exercise(
            "restart",
            "A process restarted under load (stopped, then `shop up` again at once): the catalog "
            "service at stage 2, the monolith at stage 0.",
            "How long the restart costs and who notices: at stage 2 the catalog pages, for the seconds "
            "the cache and the breaker cannot cover; at stage 0 every page.",
            "At stage 0 there is one process to restart for any change, and every page waits for it.",
            _restart("monolith", "catalog"),
            None,
        ),
    ]
}


def add_parser(commands):
    """The `exercise` subcommand of `shop` (shopctl/cli.py)."""
    parser = commands.add_parser(
        "exercise",
        help="break one part of a fresh shop under load, mend it, report what shoppers saw and that nothing was lost",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the exercise: " + ", ".join(EXERCISES))
    parser.add_argument("--list", action="store_true", help="describe each exercise")
    parser.add_argument("--stage", type=int, default=None, help="0 (the monolith) or 2 (the services)")
    parser.add_argument(
        "--duration", type=float, default=DEFAULT_DURATION, help=f"seconds of load (default {DEFAULT_DURATION})"
    )
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help=f"shoppers (default {DEFAULT_USERS})")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the report's folder (default results/<date-time>-<host>-<name>-stage-<N>/)",
    )
    parser.set_defaults(handler=main)
    return parser


def main(args) -> int:
    if args.list:
        print(describe())
        return 0
    if args.name is None:
        raise ShopError(f"Name an exercise ({', '.join(EXERCISES)}), or `shop exercise --list`.")
    exercise = EXERCISES.get(args.name)
    if exercise is None:
        raise ShopError(f"There is no exercise {args.name!r}; there are {', '.join(EXERCISES)} (`--list` says more).")
    if args.stage not in STAGES:
        given = "" if args.stage is None else f", not {args.stage}"
        raise ShopError(f"--stage must be 0 or 2 (the monolith, or the services){given}.")
    if not 20 <= args.duration <= 600:
        raise ShopError("--duration must be between 20 and 600 seconds.")
    if not 1 <= args.users <= 100:
        raise ShopError("--users must be between 1 and 100.")
    folder = args.out or default_folder(exercise.name, args.stage)
    # Each process of the shop runs in a session of its own (kit.SeparateShop): a SIGTERM must stop
    # them as Ctrl-C does, through the with-blocks, not leave them running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return ExerciseRun(exercise, args.stage, args.duration, args.users, folder).run()


def describe() -> str:
    blocks = []
    for exercise in EXERCISES.values():
        blocks.append(
            f"{exercise.name}\n"
            f"  broken:    {exercise.broken}\n"
            f"  watch:     {exercise.watch}\n"
            f"  stage 0:   {exercise.contrast}"
        )
    lead, window = LEAD_IN_SHARE * DEFAULT_DURATION, FAULT_SHARE * DEFAULT_DURATION
    return (
        "\n\n".join(blocks)
        + f"\n\nEach runs {DEFAULT_DURATION} s of load by default (--duration): a {lead:.0f} s lead-in, the fault "
        f"for {window:.0f} s, then the tail. docs/exercises.md explains the report."
    )


def default_folder(name: str, stage: int) -> Path:
    when = datetime.now().strftime("%Y-%m-%d-%H%M%S")
    return stack.REPO / "results" / f"{when}-{socket.gethostname()}-{name}-stage-{stage}"


class ExerciseRun:
    """One exercise at one stage: the shop, the load, the fault, the figures."""

    def __init__(self, exercise: Exercise, stage: int, duration: float, users: int, folder: Path):
        self.exercise, self.stage, self.duration, self.users = exercise, stage, duration, users
        self.folder = folder
        self.lead_in = round(duration * LEAD_IN_SHARE)
        self.window = round(duration * FAULT_SHARE)
        self.shop: kit.SeparateShop | None = None
        self.waiting = []  # once a second: {"t", "pending", "commits_due"} (_waiting())

    # --- what the faults use -------------------------------------------------------------------

    def database(self, variable: str) -> str:
        return postgres.cluster(self.shop.run_dir).url(postgres.DATABASES[variable])

    def manage(self, name: str, *args: str) -> None:
        env = {**stack.environment(name, self.shop.env), "DATABASE_URL": self.database("DATABASE_URL")}
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=stack.PROJECT_DIRS[name],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise ShopError(f"`manage.py {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")

    def service_faults(self, service: str, **values) -> None:
        token = run_secrets.load(self.shop.run_dir, self.shop.env)[f"{service.upper()}_OPS_TOKEN"]
        response = requests.put(
            f"http://{stack.address(service, self.shop.env)}/ops/faults/",
            headers={"Authorization": f"Bearer {token}"},
            json=values,
            timeout=10,
        )
        if response.status_code != 200:
            raise ShopError(
                f"The {service} service refused the faults {values}: {response.status_code} {response.text}"
            )

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        print(f"{self.exercise.name} at stage {self.stage}: starting a fresh shop in {self.folder} ...", flush=True)
        # The monolith's in-process catalog fault switch, for the stage-0 forms (monolith/ops/faults.py).
        shop = kit.separate_shop(self.stage, self.folder / "shop", env={"CATALOG_FAULT_SWITCH": "on"})
        try:
            with shop:
                self.shop = shop
                before = self.snapshot()
                self.warm_up()
                load, fault = self.load_with_fault()
                settled = self.settle()
                check = self.data_check(before, settled)
        finally:
            # The shop's logs stay with the report; its database (some 80 MB) does not.
            postgres.remove(shop.run_dir)
        summary = json.loads((self.folder / "load.json").read_text())
        results = self.results(summary, fault, check)
        report.write(results, self.folder)
        print(self.summary(results))
        if load.returncode not in (0, 1):  # 1: some request failed, which is what an exercise is for
            raise ShopError(f"The load exited with code {load.returncode}: see {self.folder / 'load.log'}.")
        if not check["passed"]:
            print(f"\nDATA CHECK FAILED: {', '.join(check['problems'])}.", file=sys.stderr)
            return 1
        return 0

    def warm_up(self) -> None:
        with requests.Session() as session:
            for _ in range(WARM_UP_ROUNDS):
                for path in WARM_UP_PATHS:
                    try:
                        session.get(self.shop.url + path, timeout=10)
                    except requests.RequestException:
                        continue  # the load will show it

    def load_with_fault(self):
        """Run the load; inject and restore the fault on time; the load's process and the fault's times."""
        with open(self.folder / "load.log", "w") as log:
            return self._run_load(log)

    def _run_load(self, log):
        load = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shopctl.load",
                "--url",
                self.shop.url,
                "--duration",
                str(self.duration),
                "--users",
                str(self.users),
                "--summary-json",
                str(self.folder / "load.json"),
            ],
            cwd=stack.REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            started = self._wait_for_load_start(load)
            fault = {"name": self.exercise.name, "description": self.exercise.broken}
            with tqdm(total=round(self.duration), unit="s", desc=self.exercise.name, file=sys.stdout) as bar:
                phase = "lead-in"
                while load.poll() is None:
                    elapsed = time.monotonic() - started
                    if phase == "lead-in" and elapsed >= self.lead_in:
                        fault["start_s"] = round(time.monotonic() - started, 1)
                        bar.set_postfix_str("fault")
                        self.exercise.inject(self, self.stage)
                        phase = "fault"
                        if self.exercise.restore is None:
                            fault["restore_s"] = fault["end_s"] = round(time.monotonic() - started, 1)
                            bar.set_postfix_str("tail")
                            phase = "tail"
                    elif phase == "fault" and elapsed >= self.lead_in + self.window:
                        fault["restore_s"] = round(time.monotonic() - started, 1)
                        bar.set_postfix_str("restoring")
                        self.exercise.restore(self, self.stage)
                        fault["end_s"] = round(time.monotonic() - started, 1)
                        bar.set_postfix_str("tail")
                        phase = "tail"
                    self.waiting.append({"t": round(elapsed), **self._waiting()})
                    bar.n = min(round(time.monotonic() - started), bar.total)
                    bar.refresh()
                    time.sleep(1 - (time.monotonic() - started) % 1)
                bar.n = bar.total
        finally:
            if load.poll() is None:
                load.terminate()
            load.wait()
        if "end_s" not in fault:
            raise ShopError("The load ended before the fault's window was over: see load.log.")
        return load, fault

    def _wait_for_load_start(self, load) -> float:
        """The moment the load's clock started (it prints its first line then)."""
        deadline = time.monotonic() + 60
        while "users through" not in (self.folder / "load.log").read_text():
            if load.poll() is not None or time.monotonic() > deadline:
                raise ShopError(f"The load did not start: see {self.folder / 'load.log'}.")
            time.sleep(0.05)
        return time.monotonic()

    def _waiting(self) -> dict:
        """What waits now: payments not settled yet, and paid orders whose stock commit the relay has to do."""
        try:
            pending, commits_due = self._query("DATABASE_URL", WAITING)[0]
        except psycopg2.Error:
            return {"pending": None, "commits_due": None}
        return {"pending": pending, "commits_due": commits_due}

    def _query(self, variable: str, sql: str) -> list[tuple]:
        connection = psycopg2.connect(self.database(variable), connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            connection.close()

    # --- the data check ------------------------------------------------------------------------

    def _catalog_db(self) -> str:
        return "CATALOG_DATABASE_URL" if self.stage >= 1 else "DATABASE_URL"

    def _payments_db(self) -> str:
        return "PAYMENTS_DATABASE_URL" if self.stage >= 2 else "DATABASE_URL"

    def snapshot(self) -> dict:
        """Each product's stock, and the reservations there are, before the load."""
        return {
            "stock": dict(self._query(self._catalog_db(), "SELECT sku, stock FROM catalog_product")),
            "reservations": {
                row[0] for row in self._query(self._catalog_db(), "SELECT reservation_id FROM catalog_stockreservation")
            },
        }

    def settle(self) -> float | None:
        """Wait until no payment waits for the relay and no paid order's stock commit is due; the
        seconds it took, None if not within SETTLE_WITHIN."""
        started = time.monotonic()
        while time.monotonic() - started < SETTLE_WITHIN:
            waiting = self._query("DATABASE_URL", WAITING)[0]
            if not any(waiting):
                return round(time.monotonic() - started, 1)
            time.sleep(1)
        return None

    def data_check(self, before: dict, settled: float | None) -> dict:
        """Orders lost, charges duplicated, stock exact; what the exercise asserts."""
        orders = {
            number: (status, attempt)
            for number, status, attempt in self._query(
                "DATABASE_URL", "SELECT number, status, reservation_attempt FROM orders_order"
            )
        }
        attempts = self._query(
            "DATABASE_URL",
            "SELECT o.number, p.status, p.deliveries, p.failure_code FROM orders_orderpayment p"
            " JOIN orders_order o ON o.id = p.order_id",
        )
        charges = self._query(self._payments_db(), "SELECT order_number, status FROM payments_payment")
        succeeded = Counter(number for number, status in charges if status == "succeeded")
        # Lost: an order charged that does not say paid, a charge for no order, a paid order with
        # no charge, or a payment still pending once the relay had its time.
        lost = sorted(
            {number for number in succeeded if orders.get(number, ("missing",))[0] != "paid"}
            | {number for number, (status, _) in orders.items() if status == "paid" and not succeeded[number]}
            | {number for number, status, _, _ in attempts if status == "pending"}
        )
        duplicated = sorted(number for number, count in succeeded.items() if count > 1)

        # Stock: a reservation takes its units when held, keeps them when committed (sold) and gives
        # them back when released; so each product's stock is its stock before the load minus the
        # units of the reservations made since that are held or committed.
        stock_now = dict(self._query(self._catalog_db(), "SELECT sku, stock FROM catalog_product"))
        lines = self._query(
            self._catalog_db(),
            "SELECT r.reservation_id, r.status, p.sku, l.quantity FROM catalog_stockreservation r"
            " JOIN catalog_stockreservationline l ON l.reservation_id = r.id"
            " JOIN catalog_product p ON p.id = l.product_id",
        )
        taken = Counter()
        reservation_status = {}
        for reservation_id, status, sku, quantity in lines:
            reservation_status[reservation_id] = status
            if reservation_id not in before["reservations"] and status in ("held", "committed"):
                taken[sku] += quantity
        wrong_stock = sorted(
            sku for sku, stock in stock_now.items() if stock != before["stock"].get(sku, 0) - taken[sku]
        )
        # And each order's reservation is where its status says: a paid order's units sold, a
        # failed or cancelled order's given back.
        expected = {"paid": {"committed"}, "payment_failed": {"released"}, "cancelled": {"released"}}
        wrong_reservations = sorted(
            number
            for number, (status, attempt) in orders.items()
            if status in expected
            and reservation_status.get(f"order-{number}-{attempt}", "released") not in expected[status]
        )
        statuses = Counter(status for status, _ in orders.values())
        held_units = sum(
            quantity
            for reservation_id, status, _, quantity in lines
            if status == "held" and reservation_id not in before["reservations"]
        )
        problems = []
        if lost:
            problems.append(f"{len(lost)} order(s) lost ({', '.join(lost[:5])})")
        if duplicated:
            problems.append(f"{len(duplicated)} order(s) charged twice ({', '.join(duplicated[:5])})")
        if wrong_stock:
            problems.append(f"stock wrong for {', '.join(wrong_stock[:5])}")
        if wrong_reservations:
            problems.append(f"reservation not as the order says for {', '.join(wrong_reservations[:5])}")
        if settled is None:
            problems.append(f"payments still pending {SETTLE_WITHIN} s after the load")
        return {
            "orders": len(orders),
            "paid": statuses["paid"],
            "payment_failed": statuses["payment_failed"],
            "awaiting_payment": statuses["pending_payment"],
            "paid_after_waiting": sum(
                1 for _, status, deliveries, _ in attempts if deliveries and status == "succeeded"
            ),
            # Why payments failed: the load's declined cards say card_declined; a fault that turned
            # into a failed payment would say something else.
            "failure_codes": dict(Counter(code for _, status, _, code in attempts if status == "failed")),
            "charges": len(charges),
            "lost": len(lost),
            "charged_twice": len(duplicated),
            "units_sold": sum(taken.values()) - held_units,
            "units_held": held_units,
            "stock_exact": not wrong_stock and not wrong_reservations,
            "settled_in_s": settled,
            "passed": not problems,
            "problems": problems,
        }

    # --- the figures -------------------------------------------------------------------------

    def results(self, summary: dict, fault: dict, check: dict) -> dict:
        stage = str(self.stage)
        timeline = summary.get("timeline", [])
        pages = {
            page: {
                "requests": row["requests"],
                "failures": row["errors"],
                "rps": round(row["requests"] / max(summary["seconds"], 1), 2),
                "p50": row["p50_ms"],
                "p95": row["p95_ms"],
                "p99": row["p99_ms"],
            }
            for page, row in summary.get("by_page", {}).items()
        }
        pages["all"] = {
            "requests": summary["requests"],
            "failures": summary["failures"],
            "rps": round(summary["requests"] / max(summary["seconds"], 1), 2),
        }
        return {
            "kind": "exercise",
            "title": f"Exercise {self.exercise.name} at stage {self.stage}",
            "created": datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": kit.machine(),
            "versions": kit.versions(),
            "options": {
                "exercise": self.exercise.name,
                "stage": self.stage,
                "duration": self.duration,
                "users": self.users,
            },
            "stages": [self.stage],
            "pages": {stage: pages},
            "fault": fault,
            "timeline": {stage: timeline},
            "pending_payments": {stage: self.waiting},
            "page_groups": PAGE_GROUPS,
            "before_fault": {stage: during(timeline, WARM_UP, fault["start_s"])},
            "during_fault": {stage: during(timeline, fault["start_s"], fault["end_s"])},
            "recovery_s": {stage: recovery(timeline, fault["start_s"], fault["end_s"])},
            "data_check": {stage: check},
        }

    def summary(self, results: dict) -> str:
        stage = str(self.stage)
        fault = results["fault"]
        lines = [
            "",
            f"{self.exercise.name} at stage {self.stage}: fault from {fault['start_s']} s to {fault['end_s']} s "
            f"of {self.duration:g} s.",
            "",
            f"{'page type':16}{'requests':>9}{'failed':>8}{'in fault':>10}{'failed':>8}{'p95 before':>12}{'p95 in fault':>14}",
        ]
        lead = results["before_fault"][stage]
        for page, whole in results["pages"][stage].items():
            if page == "all":
                continue
            row = results["during_fault"][stage].get(page, {"requests": 0, "failures": 0, "p95": None})
            lines.append(
                f"{page:16}{whole.get('requests', 0):>9}{whole.get('failures', 0):>8}{row['requests']:>10}"
                f"{row['failures']:>8}{_ms(lead.get(page, {}).get('p95')):>12}{_ms(row['p95']):>14}"
            )
        recovered = results["recovery_s"][stage]
        lines.append("")
        lines.append(
            "recovery: " + ("not within the run" if recovered is None else f"{recovered} s after the fault was removed")
        )
        peak = max((point["pending"] or 0 for point in self.waiting), default=0)
        commits = max((point["commits_due"] or 0 for point in self.waiting), default=0)
        check = results["data_check"][stage]
        lines.append(
            f"payments: at most {peak} pending at once, {check['paid_after_waiting']} paid after waiting for the relay; "
            f"at most {commits} paid orders' stock commits waiting for the relay"
        )
        lines.append(
            f"data check: {check['orders']} orders ({check['paid']} paid, {check['payment_failed']} failed, "
            f"{check['awaiting_payment']} awaiting payment; failed: {check['failure_codes'] or 'none'}), "
            f"lost {check['lost']}, charged twice "
            f"{check['charged_twice']}, stock {'exact' if check['stock_exact'] else 'WRONG'} "
            f"({check['units_sold']} units sold, {check['units_held']} held): "
            + ("passed" if check["passed"] else "FAILED")
        )
        lines.append(f"report: {self.folder / 'report.md'}")
        return "\n".join(lines)


def _ms(value):
    return "-" if value is None else f"{value:.0f} ms"


def during(timeline: list[dict], start: float, end: float) -> dict:
    """Per page type, over the seconds from start to end: requests, failures, and the worst second's p95."""
    rows = defaultdict(lambda: {"requests": 0, "failures": 0, "p95": None})
    for point in timeline:
        if start <= point["t"] < end:
            row = rows[point["page"]]
            row["requests"] += point["requests"]
            row["failures"] += point["failures"]
            if point["p95"] is not None:
                row["p95"] = max(row["p95"] or 0, point["p95"])
    return dict(rows)


def recovery(timeline: list[dict], lead_in: float, end: float) -> float | None:
    """Seconds from the fault's removal (end) to the first second from which RECOVERED_FOR seconds in
    a row (or all those left) are healthy: no failure, and each page type's p95 within SLOWER_BY
    of its worst second's p95 over the lead-in after the warm-up (or SLACK_MS above it). 0 when the shop never noticed; None when it
    had not recovered by the end of the load."""
    normal = {page: row["p95"] for page, row in during(timeline, WARM_UP, lead_in).items()}
    seconds = defaultdict(list)
    for point in timeline:
        seconds[point["t"]].append(point)
    last = max(seconds, default=0)

    def healthy(second):
        for point in seconds.get(second, []):
            if point["failures"]:
                return False
            base = normal.get(point["page"])
            if base is not None and point["p95"] is not None and point["p95"] > max(base * SLOWER_BY, base + SLACK_MS):
                return False
        return True

    first = int(end)
    for second in range(first, last + 1):
        if all(healthy(s) for s in range(second, min(second + RECOVERED_FOR, last + 1))):
            return round(max(0.0, second - end), 1)
    return None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="shop")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args()
    sys.exit(args.handler(args))
