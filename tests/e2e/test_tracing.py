"""Traces of a real checkout through the real processes (`shop up`): what `shop trace` shows.

At stage 0 a checkout is the facade's hop and one process, the monolith, with its SQL. At stage 2
it is the monolith calling the catalog and payments services, each with its own SQL, all in one
trace that carries the request id, and the relay's later stock commit linked to it.
"""

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monolith.traces import waterfall
from shopctl import stack, trace
from shopctl.background import BackgroundShop
from tests.e2e.conftest import _stage1_env, _start

pytestmark = pytest.mark.e2e

TRACING_DATABASE = "shop_e2e_tracing"
# Every request traced: the default keeps one in ten (monolith/core/tracing.py).
EVERY_REQUEST = {"TRACE_SAMPLE_RATE": "1"}
WITHIN = 15  # seconds for the spans (flushed every 0.5 s) and the relay's commit to be written


def _traced_shop(tmp_path_factory, stage: int) -> Iterator[BackgroundShop]:
    """The whole shop at `stage` under `shop up --stage N`, on databases and ports of its own."""
    run_dir = tmp_path_factory.mktemp(f"shop_tracing_stage{stage}")
    env = {**_stage1_env(f"{TRACING_DATABASE}{stage}"), "SHOP_RUN_DIR": str(run_dir), **EVERY_REQUEST}
    running = BackgroundShop(stage=stage, env=env, log_path=run_dir / "shop.log")
    try:
        _start(running)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def stage0_shop(tmp_path_factory) -> Iterator[BackgroundShop]:
    yield from _traced_shop(tmp_path_factory, 0)


@pytest.fixture(scope="module")
def stage2_shop(tmp_path_factory) -> Iterator[BackgroundShop]:
    yield from _traced_shop(tmp_path_factory, 2)


def _waterfall_when(shop: BackgroundShop, request_id: str, done) -> waterfall.Waterfall:
    """The waterfall of the request once done(waterfall) holds (or the last one seen, after WITHIN s)."""
    run_dir = Path(shop.env["SHOP_RUN_DIR"])
    deadline = time.monotonic() + WITHIN
    found = None
    while time.monotonic() < deadline:
        spans = waterfall.load_spans(run_dir)
        trace_ids = waterfall.find_trace_ids(request_id, spans)
        if trace_ids:
            found = waterfall.build(trace_ids[0], spans, waterfall.load_facade(run_dir))
            if done(found):
                return found
        time.sleep(0.25)
    assert found is not None, f"no span carries the request id {request_id} in {run_dir / 'traces'}"
    return found


def _served(found: waterfall.Waterfall, service: str) -> bool:
    return any(row.service == service and row.kind == "SERVER" and not row.linked for row in found.rows)


def test_a_checkout_at_stage_0_is_the_facade_and_one_process_with_its_sql(stage0_shop):
    request_id = trace.checkout(stage0_shop.url)

    # A request's server span ends after its statements: once it is written, they are too.
    found = _waterfall_when(stage0_shop, request_id, lambda found: _served(found, "monolith"))

    assert found.processes == ["facade", "monolith"], trace.render(found)
    assert found.rows[0].service == "facade" and found.rows[0].operation == "POST /checkout/"
    assert found.rows[1].service == "monolith" and found.rows[1].kind == "SERVER"
    assert found.request_id == request_id
    assert found.network_calls == 1  # the facade's call to the monolith, nothing else
    statements = [row.sql for row in found.rows if row.sql]
    assert any(sql.startswith('INSERT INTO "orders_order"') for sql in statements), trace.render(found)
    assert any("catalog_stockreservation" in sql for sql in statements), trace.render(found)
    # The facade's hop contains the monolith's.
    facade, monolith = found.rows[0], found.rows[1]
    assert facade.duration_ms >= monolith.duration_ms - 1


def test_a_checkout_at_stage_2_is_one_trace_across_monolith_catalog_and_payments(stage2_shop):
    request_id = trace.checkout(stage2_shop.url)

    # Done once the relay's commit has reached the catalog (each process writes its spans on its own).
    found = _waterfall_when(
        stage2_shop,
        request_id,
        lambda found: (
            all(_served(found, service) for service in ("monolith", "catalog", "payments"))
            and any(row.linked and row.service == "catalog" and row.kind == "SERVER" for row in found.rows)
        ),
    )

    rendered = trace.render(found)
    assert {"facade", "monolith", "catalog", "payments"} <= set(found.processes), rendered
    own = [row for row in found.rows if not row.linked]
    assert {row.trace_id for row in own if row.service != "facade"} == {found.trace_id}
    assert found.request_id == request_id
    for service in ("monolith", "catalog", "payments"):
        assert any(row.service == service and row.kind == "SERVER" for row in own), rendered
        assert any(row.service == service and row.sql for row in own), f"no SQL from {service}:\n{rendered}"
    # traceparent went with the monolith's calls: each service's request is the child of one.
    calls = [row for row in own if row.service == "monolith" and row.kind == "CLIENT" and not row.sql]
    assert len(calls) >= 2, rendered
    for before, row in itertools.pairwise(own):
        if row.service in ("catalog", "payments") and row.kind == "SERVER":
            assert (before.service, before.kind, before.depth) == ("monolith", "CLIENT", row.depth - 1), rendered
    # The relay commits the order's stock later, in a trace of its own that links to this one.
    assert any(row.linked and row.service == "relay" for row in found.rows), rendered
    assert any(row.linked and row.service == "catalog" and row.kind == "SERVER" for row in found.rows), rendered


def _payments_faults(shop: BackgroundShop, *args: str) -> None:
    """`manage.py faults ...` of the shop's payments service (the store every worker reads)."""
    subprocess.run(
        [sys.executable, "manage.py", "faults", *args],
        cwd=stack.PROJECT_DIRS["payments"],
        env=stack.environment("payments", shop.env),
        check=True,
        capture_output=True,
    )


def test_a_payment_left_pending_and_settled_later_by_the_relay_is_in_its_checkout_s_trace(stage2_shop):
    _payments_faults(stage2_shop, "set", "--error-rate", "1")  # every payments call answers 503
    try:
        request_id = trace.checkout(stage2_shop.url)
        time.sleep(1)  # the relay's first deliveries fail too
    finally:
        _payments_faults(stage2_shop, "clear")

    def settled_by_the_relay(found):
        delivered = [row for row in found.rows if row.operation == "relay: deliver payment"]
        return (
            any(
                row.service == "payments"
                and row.kind == "SERVER"
                and row.status != "ERROR"
                and row.start_ms > delivered[-1].start_ms
                for row in found.rows
            )
            if delivered
            else False
        )

    found = _waterfall_when(stage2_shop, request_id, settled_by_the_relay)

    rendered = trace.render(found)
    assert settled_by_the_relay(found), rendered
    deliveries = [row for row in found.rows if row.operation == "relay: deliver payment"]
    assert all(not row.linked and row.trace_id == found.trace_id and row.depth == 2 for row in deliveries), rendered
    # The request's own attempt was refused (503) before the relay took over.
    first_refusal = next(row for row in found.rows if row.service == "payments" and row.kind == "SERVER")
    assert first_refusal.start_ms < deliveries[0].start_ms
