"""What /staff/migration/ shows: the stage, who serves each prefix, the last moves, and per process its
requests, errors and latency, over the last WINDOW seconds.

Rates need two readings: each gunicorn worker keeps the readings it took (at most one a second,
when the page asks) for the last WINDOW seconds, in memory, and compares the newest with the
oldest. A worker that has only one reading yet shows the totals and no rates. Latency
percentiles come from the histogram's buckets, interpolated within a bucket as Prometheus'
histogram_quantile does, so they are as coarse as its buckets.
"""

import itertools
import math
import threading
import time
from collections import deque

from monolith.strangler import stages
from monolith.strangler.models import StageMove
from monolith.strangler.selectors import current_stage

from . import sources
from .sources import Reading

WINDOW = 60  # seconds the rates cover
FRESH = 1.0  # seconds a reading is reused for, however often the page asks
MOVES_SHOWN = 5
PROCESSES = ["facade", "monolith", "catalog", "payments"]

_readings: deque[tuple[float, dict[str, Reading | None]]] = deque()
_lock = threading.Lock()


def figures() -> dict:
    """Everything the page shows, as JSON-ready data."""
    stage = current_stage()
    return {
        "stage": stage,
        # "/" and every prefix a stage moves (the stage table), with its owner now.
        "routes": [{"prefix": "/", "served_by": stages.MONOLITH}]
        + [{"prefix": context.api, "served_by": stages.owner(context.name, stage)} for context in stages.CONTEXTS],
        "moves": [
            {
                "from": move.from_number,
                "to": move.to_number,
                "finished_at": move.finished_at.isoformat(),
                "seconds": round(move.seconds, 1),
                "writes_held_ms": move.writes_held_ms,
            }
            for move in StageMove.objects.all()[:MOVES_SHOWN]
        ],
        "window_seconds": WINDOW,
        "processes": process_figures(),
    }


def process_figures() -> list[dict]:
    """Per process: totals since it started, and rate, error share and latency over the window."""
    now = time.monotonic()
    with _lock:
        if not _readings or now - _readings[-1][0] >= FRESH:
            _readings.append((now, sources.read_all()))
        # Keep the newest reading at least WINDOW old as the base, and nothing older.
        while len(_readings) > 1 and _readings[1][0] <= now - WINDOW:
            _readings.popleft()
        history = list(_readings)
    (base_at, base), (last_at, last) = history[0], history[-1]
    return [
        {
            "name": name,
            "up": last[name] is not None,
            **_totals(last[name]),
            **_window(base[name], last[name], last_at - base_at),
            "sparkline": _rates(history, name),
        }
        for name in PROCESSES
    ]


def _totals(reading: Reading | None) -> dict:
    if reading is None:
        return {"requests": None, "errors": None, "active": None}
    return {"requests": int(reading.requests), "errors": _int(reading.errors), "active": reading.active}


def _window(base: Reading | None, last: Reading | None, seconds: float) -> dict:
    """Rate, error share and percentiles between two readings; None where they cannot be told
    (one reading only, a process silent, or restarted meanwhile: its counters went back)."""
    empty = {"seconds": round(seconds, 1), "rate": None, "error_rate": None, "p50_ms": None, "p95_ms": None}
    if base is None or last is None or seconds <= 0 or last.requests < base.requests:
        return empty
    served = last.requests - base.requests
    result = {**empty, "rate": round(served / seconds, 2)}
    if last.errors is not None and base.errors is not None:
        result["error_rate"] = round((last.errors - base.errors) / served, 4) if served else 0.0
    if last.buckets and base.buckets is not None:
        counts = {bound: count - base.buckets.get(bound, 0.0) for bound, count in last.buckets.items()}
        result["p50_ms"] = _quantile(counts, 0.50)
        result["p95_ms"] = _quantile(counts, 0.95)
    return result


def _quantile(cumulative: dict[float, float], fraction: float) -> float | None:
    """The fraction-quantile in ms of a histogram given as {upper bound s: cumulative count}."""
    total = cumulative.get(math.inf, 0.0)
    if total <= 0:
        return None
    rank = fraction * total
    lower, below = 0.0, 0.0
    for bound, count in cumulative.items():
        if count >= rank:
            if math.isinf(bound):
                return round(lower * 1000, 1)  # beyond the last finite bucket: its bound is all we know
            share = (rank - below) / (count - below) if count > below else 1.0
            return round((lower + (bound - lower) * share) * 1000, 1)
        lower, below = bound, count
    return None


def _rates(history: list[tuple[float, dict]], name: str) -> list[float | None]:
    """Requests per second between consecutive readings, oldest first: the page's sparkline."""
    points = []
    for (at, before), (later, after) in itertools.pairwise(history):
        old, new = before.get(name), after.get(name)
        ok = old is not None and new is not None and new.requests >= old.requests and later > at
        points.append(round((new.requests - old.requests) / (later - at), 2) if ok else None)
    return points


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
