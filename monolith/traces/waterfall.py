"""A trace as a waterfall: the spans the shop's processes wrote to the run folder, put in order.

Plain Python with no Django, so that `shop trace` (shopctl/trace.py) and the staff page
(monolith/traces/views.py) read the same files the same way. The files:

- $SHOP_RUN_DIR/traces/<service>-<pid>.jsonl: one finished span per line, written by each
  process's exporter (monolith/core/tracing.py and its copies in the services);
- $SHOP_RUN_DIR/nginx/facade-trace.jsonl: the facade's own access log (proxy/nginx.conf), one
  request per line with its request id and time taken. nginx makes no spans, so its line becomes
  the root hop of the trace whose server span carries the same request id.

A trace is found by its trace id or by a request id; the spans of other traces that link to it
(the relay committing a batch of orders' stock) are shown under it, as they belong to its story.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REQUEST_ID = "shop.request_id"
FACADE_LOG = Path("nginx") / "facade-trace.jsonl"
_TRACE_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Row:
    """One span of the waterfall: where it sits (depth, offset from the trace's start) and what it did."""

    depth: int
    service: str
    operation: str
    kind: str
    start_ms: float
    duration_ms: float
    sql: str = ""
    status: str = "UNSET"
    trace_id: str = ""
    linked: bool = False  # in another trace that links to this one


@dataclass
class Waterfall:
    trace_id: str
    request_id: str
    rows: list[Row] = field(default_factory=list)

    @property
    def total_ms(self):
        return max((row.start_ms + row.duration_ms for row in self.rows), default=0.0)

    @property
    def processes(self):
        """The processes that took part, in the order they first appear."""
        return list(dict.fromkeys(row.service for row in self.rows))

    @property
    def network_calls(self):
        """Calls from one process to another over HTTP: the facade's to its upstream, and every
        HTTP client span (the database's connections are counted as SQL statements instead)."""
        return sum(1 for row in self.rows if (row.kind == "CLIENT" and not row.sql) or row.service == "facade")

    @property
    def sql_statements(self):
        return sum(1 for row in self.rows if row.sql)


def load_spans(run_dir):
    """Every span in the run folder's trace files, as dicts (a line cut short by a crash is skipped)."""
    spans = []
    for path in sorted((Path(run_dir) / "traces").glob("*.jsonl")):
        spans.extend(_json_lines(path))
    return spans


def load_facade(run_dir):
    return list(_json_lines(Path(run_dir) / FACADE_LOG))


def _json_lines(path):
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record
    except OSError:
        return


def find_trace_ids(ident, spans):
    """The traces `ident` names: itself if it is a trace id with spans, else those whose spans carry
    it as their request id, oldest first."""
    ident = ident.strip()
    if _TRACE_ID.fullmatch(ident.lower()) and any(span["trace_id"] == ident.lower() for span in spans):
        return [ident.lower()]
    starts = {}
    for span in spans:
        if span.get("attributes", {}).get(REQUEST_ID) == ident:
            starts[span["trace_id"]] = min(starts.get(span["trace_id"], span["start"]), span["start"])
    return sorted(starts, key=starts.get)


def last_trace_id(spans, word="checkout", method="POST"):
    """The trace of the most recent request served whose operation names `word` (a POST by default)."""
    best = None
    for span in spans:
        if span.get("kind") != "SERVER":
            continue
        attributes = span.get("attributes", {})
        what = " ".join(str(attributes.get(key, "")) for key in ("http.route", "url.path", "http.target"))
        span_method = attributes.get("http.request.method", attributes.get("http.method"))
        matches = word in f"{span['name']} {what}" and span_method == method
        if matches and (best is None or span["start"] > best["start"]):
            best = span
    return best["trace_id"] if best else None


def build(trace_id, spans, facade_lines=()):
    """The waterfall of trace `trace_id`: its spans in call order, with the facade's hop as the root
    when the facade logged the request, then the spans of the traces that link to it."""
    own = [span for span in spans if span["trace_id"] == trace_id]
    linking = {
        span["trace_id"]
        for span in spans
        if span["trace_id"] != trace_id and any(link["trace_id"] == trace_id for link in span.get("links", []))
    }
    request_id = next(
        (
            span["attributes"][REQUEST_ID]
            for span in sorted(own, key=lambda s: s["start"])
            if span.get("kind") == "SERVER" and REQUEST_ID in span.get("attributes", {})
        ),
        "",
    )
    own = _with_facade(own, request_id, facade_lines)
    others = [span for span in spans if span["trace_id"] in linking]
    everything = own + others
    if not everything:
        return Waterfall(trace_id, request_id)
    origin = min(span["start"] for span in everything)
    rows = _rows(own, origin, linked=False) + _rows(others, origin, linked=True)
    return Waterfall(trace_id, request_id, rows)


def _with_facade(spans, request_id, facade_lines):
    """The spans plus the facade's hop, made from its log line, as the parent of the request's roots."""
    line = next((line for line in facade_lines if request_id and line.get("request_id") == request_id), None)
    if line is None:
        return spans
    try:
        end = float(line["msec"]) * 1e9
        start = end - float(line["request_time"]) * 1e9
    except (KeyError, ValueError):
        return spans
    ids = {span["span_id"] for span in spans}
    facade = {
        "trace_id": spans[0]["trace_id"] if spans else "",
        "span_id": "facade",
        "parent_id": None,
        "name": f"{line.get('method', '')} {line.get('uri', '')}".strip(),
        "kind": "SERVER",
        "service": "facade",
        "start": int(start),
        "end": int(end),
        "status": "UNSET",
        "attributes": {REQUEST_ID: request_id, "http.response.status_code": line.get("status")},
    }
    adopted = [
        {**span, "parent_id": "facade"}
        if span.get("parent_id") not in ids and span.get("attributes", {}).get(REQUEST_ID) == request_id
        else span
        for span in spans
    ]
    return [facade, *adopted]


def _rows(spans, origin, linked):
    """Depth-first, children in the order they started; a span whose parent is missing (not sampled,
    or in a file not flushed yet) starts a tree of its own."""
    ids = {span["span_id"] for span in spans}
    children = {}
    for span in spans:
        parent = span.get("parent_id") if span.get("parent_id") in ids else None
        children.setdefault(parent, []).append(span)
    for family in children.values():
        family.sort(key=lambda span: (span["start"], -span["end"]))
    rows = []

    def visit(span, depth):
        rows.append(_row(span, depth, origin, linked))
        for child in children.get(span["span_id"], []):
            visit(child, depth + 1)

    for root in children.get(None, []):
        visit(root, 0)
    return rows


def _row(span, depth, origin, linked):
    attributes = span.get("attributes", {})
    sql = attributes.get("db.statement") or attributes.get("db.query.text") or ""
    operation = span["name"]
    if sql:
        operation = "SQL"
    elif span.get("kind") == "CLIENT":
        url = attributes.get("url.full") or attributes.get("http.url") or ""
        operation = f"{span['name']} {url}".strip()
    return Row(
        depth=depth,
        service=span.get("service", "unknown"),
        operation=operation,
        kind=span.get("kind", ""),
        start_ms=(span["start"] - origin) / 1e6,
        duration_ms=(span["end"] - span["start"]) / 1e6,
        sql=" ".join(str(sql).split()),
        status=span.get("status", "UNSET"),
        trace_id=span["trace_id"],
        linked=linked,
    )
