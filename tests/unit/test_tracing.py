"""The span exporter (monolith/core/tracing.py), the waterfall it feeds (monolith/traces/waterfall.py)
and its terminal form (shopctl/trace.py), on spans made by the real SDK in this process."""

import json
import time

import pytest
from opentelemetry import propagate
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind

from monolith.core import tracing
from monolith.traces import waterfall
from shopctl import trace as shop_trace

REQUEST_ID = "5c1dcafe5c1dcafe5c1dcafe5c1dcafe"


def _provider(tmp_path, service, rate=1.0):
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "process.pid": 1}),
        sampler=ParentBased(root=tracing._RootSampler(rate)),
    )
    exporter = tracing.JsonLinesExporter(tmp_path / "traces" / f"{service}-1.jsonl")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _checkout(tmp_path):
    """A checkout as two processes would trace it: the monolith's request with two SQL statements and
    a call to the payments service, whose server span continues the trace (its traceparent)."""
    monolith = _provider(tmp_path, "monolith").get_tracer("test")
    payments = _provider(tmp_path, "payments").get_tracer("test")
    with monolith.start_as_current_span(
        "POST checkout/",
        kind=SpanKind.SERVER,
        attributes={
            tracing.REQUEST_ID: REQUEST_ID,
            "http.request.method": "POST",
            "http.route": "checkout/",
        },
    ) as server:
        with monolith.start_as_current_span(
            "SELECT",
            kind=SpanKind.CLIENT,
            attributes={"db.statement": 'SELECT "orders_order"."id"\n  FROM "orders_order"'},
        ):
            time.sleep(0.002)
        with monolith.start_as_current_span(
            "POST", kind=SpanKind.CLIENT, attributes={"http.url": "http://127.0.0.1:8003/api/payments/"}
        ):
            carrier = {}
            propagate.inject(carrier)
            parent = propagate.extract(carrier)
            with (
                payments.start_as_current_span("POST api/payments/", context=parent, kind=SpanKind.SERVER),
                payments.start_as_current_span(
                    "INSERT", kind=SpanKind.CLIENT, attributes={"db.statement": 'INSERT INTO "payments_payment"'}
                ),
            ):
                time.sleep(0.002)
    return format(server.get_span_context().trace_id, "032x")


def test_the_exporter_writes_one_json_line_per_span_with_ids_times_and_attributes(tmp_path):
    trace_id = _checkout(tmp_path)

    lines = (tmp_path / "traces" / "monolith-1.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [record["name"] for record in records] == ["SELECT", "POST", "POST checkout/"]  # as they ended
    server = records[-1]
    assert server["trace_id"] == trace_id and server["parent_id"] is None and server["kind"] == "SERVER"
    assert server["service"] == "monolith" and server["attributes"][tracing.REQUEST_ID] == REQUEST_ID
    assert all(record["parent_id"] == server["span_id"] for record in records[:-1])
    assert all(record["end"] >= record["start"] > 0 for record in records)


def test_the_waterfall_is_in_call_order_across_processes_with_the_facade_as_its_root(tmp_path):
    trace_id = _checkout(tmp_path)
    spans = waterfall.load_spans(tmp_path)
    server = next(span for span in spans if span["kind"] == "SERVER" and span["service"] == "monolith")
    facade_line = {
        "msec": f"{(server['end'] + 1_000_000) / 1e9:.3f}",
        "request_time": "0.050",
        "request_id": REQUEST_ID,
        "method": "POST",
        "uri": "/checkout/",
        "status": "302",
    }

    assert waterfall.find_trace_ids(REQUEST_ID, spans) == [trace_id]
    assert waterfall.find_trace_ids(trace_id, spans) == [trace_id]
    assert waterfall.last_trace_id(spans, "checkout") == trace_id
    found = waterfall.build(trace_id, spans, [facade_line])

    assert [(row.depth, row.service, row.operation) for row in found.rows] == [
        (0, "facade", "POST /checkout/"),
        (1, "monolith", "POST checkout/"),
        (2, "monolith", "SQL"),
        (2, "monolith", "POST http://127.0.0.1:8003/api/payments/"),
        (3, "payments", "POST api/payments/"),
        (4, "payments", "SQL"),
    ]
    assert found.rows[0].start_ms == 0 and found.rows[0].duration_ms == pytest.approx(50, abs=0.01)
    assert found.rows[2].sql == 'SELECT "orders_order"."id" FROM "orders_order"'  # one line
    assert (found.processes, found.network_calls, found.sql_statements) == (["facade", "monolith", "payments"], 2, 2)


def test_the_terminal_waterfall_shows_counts_offsets_durations_and_sql_in_order(tmp_path):
    trace_id = _checkout(tmp_path)
    found = waterfall.build(trace_id, waterfall.load_spans(tmp_path))

    text = shop_trace.render(found)

    lines = text.splitlines()
    assert lines[0] == f"trace {trace_id}  request id {REQUEST_ID}"
    assert lines[1].startswith("2 processes (monolith, payments), 1 network call, 2 SQL statements; ")
    body = lines[4:]
    assert [line.split()[2] for line in body] == ["monolith", "monolith", "monolith", "payments", "payments"]
    assert 'SQL SELECT "orders_order"."id" FROM "orders_order"' in body[1]
    assert body[4].split()[3:5] == ["SQL", "INSERT"]
    assert all(len(line) <= 120 for line in lines)
    offsets = [float(line.split()[0]) for line in body]
    assert offsets == sorted(offsets) and offsets[0] == 0.0
    assert all(line.rstrip().endswith("|") and "#" in line for line in body)


def test_a_later_trace_that_links_to_the_checkout_is_shown_under_it(tmp_path, monkeypatch):
    trace_id = _checkout(tmp_path)
    provider = _provider(tmp_path, "relay")
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "tracer", lambda: provider.get_tracer("test"))
    traceparent = f"00-{trace_id}-{'1' * 16}-01"

    with (
        tracing.linked("relay: commit stock", [traceparent, None, "garbage"]),
        provider.get_tracer("test").start_as_current_span(
            "UPDATE", kind=SpanKind.CLIENT, attributes={"db.statement": "UPDATE x"}
        ),
    ):
        pass
    with tracing.continued("relay: deliver payment", traceparent):
        pass

    found = waterfall.build(trace_id, waterfall.load_spans(tmp_path))
    relay = [row for row in found.rows if row.service == "relay"]
    assert [(row.operation, row.linked) for row in relay] == [
        ("relay: deliver payment", False),
        ("relay: commit stock", True),
        ("SQL", True),
    ]
    assert "later, in a trace of its own that links to this one:" in shop_trace.render(found)


def test_sampling_keeps_a_share_of_new_traces_follows_the_caller_and_drops_lone_database_calls(tmp_path):
    kept = _provider(tmp_path, "all", rate=1.0).get_tracer("test")
    none = _provider(tmp_path, "none", rate=0.0).get_tracer("test")

    with kept.start_as_current_span("GET /", kind=SpanKind.SERVER) as server:
        assert server.is_recording()
        # The caller decided: a process sampling nothing of its own still records this trace.
        with none.start_as_current_span("child", kind=SpanKind.SERVER) as child:
            assert child.is_recording()
    assert not none.start_span("GET /", kind=SpanKind.SERVER).is_recording()
    assert not kept.start_span("SELECT", kind=SpanKind.CLIENT).is_recording()  # a poll, outside any request


@pytest.mark.parametrize(
    ("env", "rate"),
    [
        ({}, tracing.DEFAULT_SAMPLE_RATE),
        ({"TRACE_SAMPLE_RATE": "0.25"}, 0.25),
        ({"OTEL_TRACES_SAMPLER_ARG": "0.5"}, 0.5),
    ],
)
def test_the_sample_rate_comes_from_the_environment(env, rate):
    assert tracing.sample_rate(env) == rate


@pytest.mark.parametrize("raw", ["half", "1.5", "-0.1"])
def test_a_sample_rate_that_is_not_a_share_says_so(raw):
    with pytest.raises(ValueError, match="TRACE_SAMPLE_RATE"):
        tracing.sample_rate({"TRACE_SAMPLE_RATE": raw})


def test_tracing_is_off_with_the_sdk_switch_or_a_rate_of_zero():
    assert tracing.enabled({})
    assert not tracing.enabled({"OTEL_SDK_DISABLED": "true"})
    assert not tracing.enabled({"TRACE_SAMPLE_RATE": "0"})


def test_a_torn_line_is_skipped(tmp_path):
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "monolith-9.jsonl").write_text('{"trace_id": "a"}\n{"trace_id": "b", "na')
    assert waterfall.load_spans(tmp_path) == [{"trace_id": "a"}]


def test_shop_trace_prints_the_waterfall_of_a_request_id_and_says_when_there_is_none(tmp_path, monkeypatch, capsys):
    from shopctl import cli

    trace_id = _checkout(tmp_path)
    monkeypatch.setenv("SHOP_RUN_DIR", str(tmp_path))

    with pytest.raises(SystemExit) as done:
        cli.main(["trace", REQUEST_ID])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"trace {trace_id}  request id {REQUEST_ID}\n")

    with pytest.raises(SystemExit) as done:
        cli.main(["trace", "--compare", REQUEST_ID, trace_id])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.count(f"trace {trace_id}") == 2
    assert out.index("=== first ===") < out.index("=== second ===")

    with pytest.raises(SystemExit) as done:
        cli.main(["trace", "no-such-request"])
    assert "No span in" in str(done.value.code) and "no-such-request" in str(done.value.code)
