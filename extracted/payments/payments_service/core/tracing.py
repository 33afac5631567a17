"""OpenTelemetry for the payments service: spans from Django, requests and psycopg2, kept on this machine.

A copy of the monolith's monolith/core/tracing.py (this service never imports the monolith); the
two should change together. setup("payments") is called once per gunicorn worker, after the fork
(the `post_fork` hook in payments_service/gunicorn_config.py): the SDK's batch processor runs a
thread, and a thread started before a fork is not in the child. It installs

- a TracerProvider whose resource names the process (service.name: monolith, catalog, payments,
  relay), sampling TRACE_SAMPLE_RATE of the traces that start here and following the caller's
  decision in those that arrive with a W3C `traceparent`;
- the Django, requests and psycopg2 instrumentations of the OpenTelemetry project. The requests
  instrumentation injects `traceparent` into every call this process makes, so the calls to the
  catalog and payments services continue the trace without a change to the HTTP client; each
  database span carries its SQL statement (`db.statement`, without parameters);
- an exporter that appends each finished span as one JSON line to
  $SHOP_RUN_DIR/traces/<service>-<pid>.jsonl, which `shop trace` and the staff page at
  /staff/traces/<id>/ read (the monolith's monolith/traces/waterfall.py), and, when
  OTEL_EXPORTER_OTLP_ENDPOINT is set (docker-compose points it at Jaeger), an OTLP exporter as
  well; OTEL_TRACES_EXPORTER chooses between them (exporters()).

The request id (django-log-request-id) goes on every span made while a request is served, the
server span included, as `shop.request_id`: the id the facade logs and the shopper's page shows.
"""

import json
import os
import threading
from pathlib import Path

from log_request_id import local as request_local
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import SpanKind

# The repository root, as in settings/base.py (RUN_DIR): extracted/<service>/<package>/core/ is 4 below;
# .parent, not .parents[4]: in an image the package sits near / and .parent stops there.
REPO = Path(__file__).resolve().parent.parent.parent.parent.parent
# The share of the traces started here that are kept. docs/benchmarks.md ("Tracing") measured
# stage-2 checkout throughput against tracing off: every trace kept gave 0.81 to 0.95 of it, one
# in ten 0.90 to 1.27 (the target is 0.9). A demo sets TRACE_SAMPLE_RATE=1 to trace every request.
DEFAULT_SAMPLE_RATE = 0.1
REQUEST_ID = "shop.request_id"
# Probes would fill the files with nothing worth a look.
EXCLUDED_URLS = "healthz,readyz,metrics,static/,favicon.ico"

_lock = threading.Lock()
_provider = None


def sample_rate(env=os.environ):
    """TRACE_SAMPLE_RATE (or the standard OTEL_TRACES_SAMPLER_ARG): a share between 0 and 1."""
    raw = env.get("TRACE_SAMPLE_RATE") or env.get("OTEL_TRACES_SAMPLER_ARG") or DEFAULT_SAMPLE_RATE
    try:
        rate = float(raw)
    except ValueError:
        raise ValueError(f"TRACE_SAMPLE_RATE must be a number between 0 and 1, not {raw!r}.") from None
    if not 0 <= rate <= 1:
        raise ValueError(f"TRACE_SAMPLE_RATE must be between 0 and 1, not {rate}.")
    return rate


def enabled(env=os.environ):
    """Tracing is on unless OTEL_SDK_DISABLED=true (the SDK's own switch) or the rate is 0."""
    return env.get("OTEL_SDK_DISABLED", "").lower() != "true" and sample_rate(env) > 0


def exporters(env=os.environ):
    """Where spans go: OTEL_TRACES_EXPORTER (the SDK's variable: "jsonfile", "otlp", both with a comma,
    or "none") when set; else the run folder's files, and OTLP as well when an endpoint is set."""
    if env.get("OTEL_TRACES_EXPORTER"):
        return {name.strip() for name in env["OTEL_TRACES_EXPORTER"].split(",")} - {"none", ""}
    otlp = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return {"jsonfile", "otlp"} if otlp else {"jsonfile"}


def trace_dir(env=os.environ):
    return Path(env.get("SHOP_RUN_DIR", REPO / ".run")) / "traces"


def setup(service, env=os.environ):
    """Install the tracer provider, exporters and instrumentations for this process, once."""
    global _provider
    with _lock:
        if _provider is not None or not enabled(env):
            return
        # The Django instrumentation reads settings.MIDDLEWARE; gunicorn's post_fork runs before
        # the worker imports the WSGI module that would set this (payments_service/wsgi.py).
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_service.settings.local")
        provider = TracerProvider(
            resource=Resource.create({"service.name": service, "process.pid": os.getpid()}),
            sampler=ParentBased(root=_RootSampler(sample_rate(env))),
        )
        provider.add_span_processor(_RequestIdProcessor())
        chosen = exporters(env)
        if "jsonfile" in chosen:
            spans_file = trace_dir(env) / f"{service}-{os.getpid()}.jsonl"
            # Every half second rather than the SDK's 5 s: `shop trace` right after a request finds it.
            provider.add_span_processor(BatchSpanProcessor(JsonLinesExporter(spans_file), schedule_delay_millis=500))
        if "otlp" in chosen:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _provider = provider

        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        DjangoInstrumentor().instrument(response_hook=_record_request_id, excluded_urls=EXCLUDED_URLS)
        RequestsInstrumentor().instrument()
        # skip_dep_check: the shop installs psycopg2-binary, whose name the check does not accept.
        Psycopg2Instrumentor().instrument(skip_dep_check=True)


def shutdown():
    """Export what is buffered (the relay calls this as it stops; gunicorn workers rely on atexit)."""
    if _provider is not None:
        _provider.shutdown()


def tracer():
    return trace.get_tracer("strangler-shop")


def current_traceparent():
    """The W3C traceparent of the current span, to be stored with work finished later ("" if none)."""
    carrier = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


def continued(name, traceparent, **attributes):
    """A span (a context manager) that continues the trace a stored traceparent belongs to, as a
    child of the span that stored it: the relay delivering a checkout's payment later."""
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else context.Context()
    return tracer().start_as_current_span(name, context=parent, kind=SpanKind.INTERNAL, attributes=attributes)


def linked(name, traceparents, **attributes):
    """A new trace's root span (a context manager) linked to each stored traceparent: one piece of
    work done for many requests at once (the relay committing a batch of orders' stock)."""
    links = []
    # Untraced, the traceparents (a query, perhaps) are not even read.
    for traceparent in traceparents if _provider is not None else ():
        span_context = trace.get_current_span(propagate.extract({"traceparent": traceparent or ""})).get_span_context()
        if span_context.is_valid:
            links.append(trace.Link(span_context))
    return tracer().start_as_current_span(name, context=context.Context(), links=links, attributes=attributes)


class _RootSampler(Sampler):
    """TraceIdRatioBased for a trace that starts here, except a database or HTTP call made outside
    any request or relay job (the relay's polling, a startup check): a trace of one query is noise."""

    def __init__(self, rate):
        self._ratio = TraceIdRatioBased(rate)

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None):
        if kind == SpanKind.CLIENT:
            return ALWAYS_OFF.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)
        return self._ratio.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self):
        return f"ShopRoot{{{self._ratio.get_description()}}}"


class _RequestIdProcessor(SpanProcessor):
    """Puts the request id of the request being served on every span started while it is."""

    def on_start(self, span, parent_context=None):
        request_id = getattr(request_local, "request_id", None)
        if request_id:
            span.set_attribute(REQUEST_ID, request_id)


def _record_request_id(span, request, response):
    # The server span starts before django-log-request-id has read the id; it is known by now.
    request_id = getattr(request, "id", None)
    if request_id and span.is_recording():
        span.set_attribute(REQUEST_ID, request_id)


class JsonLinesExporter(SpanExporter):
    """Appends each finished span as one JSON line to a file of this process's own (no locking
    needed: one writer per file; the batch processor exports from one thread)."""

    def __init__(self, path):
        self.path = Path(path)

    def export(self, spans):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.writelines(json.dumps(span_record(span), separators=(",", ":")) + "\n" for span in spans)
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


def span_record(span):
    """A finished span as the dict that `shop trace` reads: ids in hex, times in ns since the epoch."""
    span_context = span.get_span_context()
    return {
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name", "unknown"),
        "pid": span.resource.attributes.get("process.pid"),
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name,
        "attributes": {key: _plain(value) for key, value in (span.attributes or {}).items()},
        "links": [
            {"trace_id": format(link.context.trace_id, "032x"), "span_id": format(link.context.span_id, "016x")}
            for link in span.links
        ],
    }


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
