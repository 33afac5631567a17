"""`shop load`: shoppers through the facade, with a live table of how the shop answers them.

Locust runs the users of shopctl/workload.py as a library (its Environment and local runner, no
web UI, no locustfile): Locust brings what a hand-written generator would get wrong (a gevent
user per shopper with its own cookies, think times or a constant rate, failures counted the
way load tests count them), and the comparison kit runs the same workload.

Every request is recorded with its page type, the process that answered it (the X-Served-By
header; "none" when nothing answered), its time and whether it failed. Once a second the table
shows, by page type and by process: requests and errors since the start, and requests per
second, p50 and p95 over the last WINDOW seconds. At the end (the duration is up, or Ctrl-C) it
prints the same figures over the whole run; the exit code is 1 when any request failed.

It only ever sends to 127.0.0.1: a load generator pointed at someone else's site by a typo is
an attack.
"""

import json
import logging
import signal
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# First: Locust patches the standard library for gevent when imported, which must happen before
# anything imports ssl (requests does). `shop load` runs `python -m shopctl.load` for that
# (shopctl/cli.py); in any other process, import this module before requests.
import gevent
from locust import between, constant_throughput
from locust.env import Environment

from shopctl import ShopError, stack, workload

WINDOW = 10  # seconds the live rates and percentiles cover
LONGEST = 3600  # seconds: the load always stops by itself
STOP_WITHIN = 10  # seconds the users get to finish what they are doing when the load stops
ALLOWED_HOST = "127.0.0.1"


def facade_url() -> str:
    """Where the running shop's facade answers: the one place `shop load` learns the address
    (FACADE_ADDR, which `shop` sets from what `shop up` recorded, unless the terminal sets it)."""
    return stack.url(["facade"])


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic() when the answer came
    page: str
    served_by: str
    ms: float
    failure: str | None


class Tally:
    """Every request of the run, and the figures the table shows, by page type or by process."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.started = time.monotonic()

    def record(self, request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
        """Locust's `request` event."""
        headers = getattr(response, "headers", None) or {}
        self.samples.append(
            Sample(
                at=time.monotonic(),
                page=name,
                served_by=headers.get("X-Served-By", "none"),
                ms=response_time,
                failure=None if exception is None else str(exception)[:120],
            )
        )

    def rows(self, key: str, window: float | None = WINDOW) -> list[dict]:
        """One row per value of key ("page" or "served_by"): requests and errors over the run,
        rate and percentiles over the last `window` seconds (over the run when None)."""
        now = time.monotonic()
        since = now - window if window else self.started
        span = max(min(window or now - self.started, now - self.started), 1e-9)
        totals, errors, recent = Counter(), Counter(), defaultdict(list)
        for sample in self.samples:
            name = getattr(sample, key)
            totals[name] += 1
            errors[name] += sample.failure is not None
            if sample.at >= since:
                recent[name].append(sample.ms)
        order = workload.PAGE_TYPES if key == "page" else sorted(totals)
        return [
            {
                key: name,
                "requests": totals[name],
                "errors": errors[name],
                "rps": round(len(recent[name]) / span, 2),
                "p50_ms": _percentile(recent[name], 0.50),
                "p95_ms": _percentile(recent[name], 0.95),
                "p99_ms": _percentile(recent[name], 0.99),
            }
            for name in [*order, *sorted(set(totals) - set(order))]
            if totals[name]
        ]

    def timeline(self) -> list[dict]:
        """One row per second of the run and page type that had requests in it: the second (from
        the start), requests and failures answered in it, and their p95 (the exercises' timeline)."""
        seconds = defaultdict(list)
        for sample in self.samples:
            seconds[int(sample.at - self.started), sample.page].append(sample)
        return [
            {
                "t": second,
                "page": page,
                "requests": len(samples),
                "failures": sum(sample.failure is not None for sample in samples),
                "p95": _percentile([sample.ms for sample in samples], 0.95),
            }
            for (second, page), samples in sorted(seconds.items())
        ]

    def failures(self) -> Counter:
        return Counter(sample.failure for sample in self.samples if sample.failure)

    def summary(self) -> dict:
        """The whole run as data (`--summary-json`): the comparison kit and the tests read this."""

        def by(key):
            return {row.pop(key): row for row in self.rows(key, window=None)}

        return {
            "seconds": round(time.monotonic() - self.started, 1),
            "user_agent": workload.USER_AGENT,
            "requests": len(self.samples),
            "failures": sum(self.failures().values()),
            "by_page": by("page"),
            "by_served_by": by("served_by"),
            # Every page type together (the comparison kit's "all").
            "latency_ms": {
                key: _percentile([sample.ms for sample in self.samples], fraction)
                for key, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
            },
            "failure_messages": dict(self.failures()),
            "timeline": self.timeline(),
        }


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 1)


def table(tally: Tally, window: float | None = WINDOW) -> str:
    """The table: by page type, then by process."""
    over = f"last {window:.0f} s" if window else "whole run"
    lines = []
    for key, title in (("page", "page type"), ("served_by", "served by")):
        lines.append(f"{title:16}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}   ({over})")
        for row in tally.rows(key, window):
            lines.append(
                f"{row[key]:16}{row['requests']:>9}{row['errors']:>8}{row['rps']:>8.1f}"
                f"{_ms(row['p50_ms']):>9}{_ms(row['p95_ms']):>9}"
            )
        lines.append("")
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def run(
    *,
    url: str | None,
    duration: float,
    users: int,
    rate: float | None,
    summary_json: Path | None,
    think: tuple[float, float] | None = None,
) -> int:
    """Run the load; print the live table and the summary; 1 when any request failed, else 0."""
    url = (url or facade_url()).rstrip("/")
    host = urlsplit(url).hostname
    if host != ALLOWED_HOST:
        raise ShopError(f"`shop load` only sends to {ALLOWED_HOST}, not to {host!r}: it is for a shop on this machine.")
    if not 0 < duration <= LONGEST:
        raise ShopError(f"--duration must be between 1 and {LONGEST} seconds.")
    if users < 1:
        raise ShopError("--users must be at least 1.")
    if rate and think:
        raise ShopError("Give --rate (pages per second in all) or --think (each user's pause), not both.")
    if not stack.answers(f"{url}/readyz"):
        raise ShopError(f"No shop answers at {url}/readyz: start one with `shop up` (or `make up`) first.")

    logging.getLogger("locust").setLevel(logging.WARNING)
    user_classes = workload.USER_CLASSES
    low, high = think or workload.THINK_TIME
    if rate or think:
        # Pages per second in all, shared evenly: each user keeps its share whatever the answers take;
        # or another think time (0: a closed loop, the next page as soon as the last one answered).
        wait = constant_throughput(rate / users) if rate else between(low, high)
        user_classes = [type(cls.__name__, (cls,), {"wait_time": wait}) for cls in user_classes]
    # At the end each user finishes the page it is on (a checkout: its form, post and order page),
    # so that every request sent is counted; one stuck longer than STOP_WITHIN is cut off.
    env = Environment(user_classes=user_classes, host=url, stop_timeout=STOP_WITHIN)
    tally = Tally()
    env.events.request.add_listener(tally.record)
    runner = env.create_local_runner()
    pace = (
        f"{rate:g} pages/s in all"
        if rate
        else f"{low:g}-{high:g} s between pages"
        if high
        else "no pause between pages"
    )
    print(f"{users} users through {url}/ for {duration:g} s ({pace}); Ctrl-C stops early.\n", flush=True)

    interrupted = []
    gevent.signal_handler(signal.SIGINT, lambda: (interrupted.append(True), runner.quit()))
    gevent.signal_handler(signal.SIGTERM, lambda: (interrupted.append(True), runner.quit()))
    live = gevent.spawn(_show_live, tally, duration)
    runner.start(users, spawn_rate=users)
    stopper = gevent.spawn_later(duration, runner.quit)
    runner.greenlet.join()
    stopper.kill()
    live.kill()

    summary = tally.summary()
    ended = "Stopped by Ctrl-C" if interrupted else "Done"
    print(f"\n{ended} after {summary['seconds']:g} s: {summary['requests']} requests, {summary['failures']} failed.\n")
    print(table(tally, window=None))
    for message, count in tally.failures().most_common(10):
        print(f"  {count:>5} x {message}")
    if summary_json:
        summary_json.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if summary["failures"] else 0


def _show_live(tally: Tally, duration: float) -> None:
    """Redraw the table in place every second on a terminal; into a file or pipe, every 10 s."""
    tty = sys.stdout.isatty()
    drawn = 0
    while True:
        gevent.sleep(1 if tty else 10)
        elapsed = time.monotonic() - tally.started
        failed = sum(1 for sample in tally.samples if sample.failure)
        text = f"{elapsed:5.0f} / {duration:g} s   {len(tally.samples)} requests, {failed} failed\n\n" + table(tally)
        if tty and drawn:
            sys.stdout.write(f"\x1b[{drawn}F\x1b[J")  # back to the table's first line, clear to the end
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        drawn = text.count("\n") + 1


if __name__ == "__main__":
    from shopctl.cli import main

    main(["load", *sys.argv[1:]])
