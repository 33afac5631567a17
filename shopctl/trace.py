"""`shop trace`: the waterfall of one request through the shop's processes, in the terminal.

    shop trace REQUEST_ID          # the id in the page footer or the X-Request-ID header
    shop trace TRACE_ID            # 32 hex digits, as Jaeger shows it
    shop trace --last checkout     # the most recent POST whose operation names "checkout"
    shop trace --compare           # a checkout at stage 0 and one at stage 2, one above the other
    shop trace --compare ID ID     # the same for two requests already made

The spans come from the files the processes write in the run folder (monolith/core/tracing.py),
read and ordered by monolith/traces/waterfall.py, which the staff page /staff/traces/<id>/ shares.
"""

import re
import time
import uuid

import requests

from monolith.traces import waterfall
from shopctl import ShopError, stack

# Columns: start offset, duration, process, operation (indented by depth), and a bar.
BAR_WIDTH = 32
OPERATION_WIDTH = 54
# The processes flush their spans every half second (tracing.py); the relay commits stock within
# a second of a payment. Enough for the last of them to be on disk.
SETTLE_SECONDS = 3.0
# The test card that succeeds (the contract's).
GOOD_CARD_NUMBER = "4242 4242 4242 4242"


def add_parser(commands):
    """The `trace` subcommand of `shop` (shopctl/cli.py)."""
    parser = commands.add_parser(
        "trace",
        help="the waterfall of a request through the processes: shop trace REQUEST_ID | --last checkout",
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="a request id (X-Request-ID) or a trace id")
    parser.add_argument(
        "--last",
        metavar="WORD",
        help="the most recent POST whose operation names WORD (e.g. checkout)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="a checkout at stage 0 and one at stage 2 through the running shop (PostgreSQL needed), or two ids given",
    )
    parser.add_argument("--wide", action="store_true", help="print SQL statements whole, not cut to the column")
    parser.set_defaults(handler=main)
    return parser


def main(args):
    if args.compare:
        return compare(args.ids, wide=args.wide)
    if args.last:
        spans = waterfall.load_spans(stack.run_dir())
        trace_id = waterfall.last_trace_id(spans, args.last)
        if trace_id is None:
            raise ShopError(f"No traced POST names {args.last!r} in {_traces_dir()}.{_hint(spans)}")
        print(render(waterfall.build(trace_id, spans, waterfall.load_facade(stack.run_dir())), wide=args.wide))
        return 0
    if len(args.ids) != 1:
        raise ShopError("Give one request id or trace id (or --last WORD, or --compare).")
    print("\n\n".join(render(found, wide=args.wide) for found in lookup(args.ids[0])))
    return 0


def lookup(ident):
    """The waterfalls of the traces `ident` names (a request retried by the client may have several)."""
    spans = waterfall.load_spans(stack.run_dir())
    trace_ids = waterfall.find_trace_ids(ident, spans)
    if not trace_ids:
        raise ShopError(f"No span in {_traces_dir()} carries the request id or trace id {ident!r}.{_hint(spans)}")
    facade = waterfall.load_facade(stack.run_dir())
    return [waterfall.build(trace_id, spans, facade) for trace_id in trace_ids]


def _traces_dir():
    return stack.run_dir() / "traces"


def _hint(spans):
    if not spans:
        return (
            " No process has written a span there: is the shop running (`shop up`), with tracing on "
            "(OTEL_SDK_DISABLED unset, TRACE_SAMPLE_RATE above 0)?"
        )
    return " The request may not have been sampled (TRACE_SAMPLE_RATE), or its spans are not written yet."


def render(found, wide=False):
    """The waterfall as text: a heading with the counts, then a line per span."""
    total = found.total_ms or 1.0
    processes = found.processes
    lines = [
        f"trace {found.trace_id}" + (f"  request id {found.request_id}" if found.request_id else ""),
        f"{len(processes)} process{'es' if len(processes) != 1 else ''} ({', '.join(processes)}), "
        f"{found.network_calls} network call{'s' if found.network_calls != 1 else ''}, "
        f"{found.sql_statements} SQL statement{'s' if found.sql_statements != 1 else ''}; {found.total_ms:.1f} ms",
        "",
        f"{'start ms':>9} {'took ms':>8}  {'process':9} {'operation':{OPERATION_WIDTH}} timeline",
    ]
    in_linked = False
    for row in found.rows:
        if row.linked and not in_linked:
            lines.append("  later, in a trace of its own that links to this one:")
            in_linked = True
        operation = "  " * row.depth + (f"SQL {row.sql}" if row.sql else row.operation)
        if not wide:
            operation = _cut(operation, OPERATION_WIDTH)
        start = min(BAR_WIDTH - 1, round(row.start_ms / total * BAR_WIDTH))
        width = max(1, round(row.duration_ms / total * BAR_WIDTH))
        bar = "|" + (" " * start + "#" * width).ljust(BAR_WIDTH)[:BAR_WIDTH] + "|"
        lines.append(
            f"{row.start_ms:9.1f} {row.duration_ms:8.1f}  {row.service:9} {operation:{OPERATION_WIDTH}} {bar}"
            + (" ERROR" if row.status == "ERROR" else "")
        )
    return "\n".join(lines)


def _cut(text, width):
    return text if len(text) <= width else text[: width - 1] + "…"


def compare(ids, wide=False):
    """Two waterfalls one above the other: two requests given, or a checkout made at stage 0 and one
    at stage 2 through the running shop (which `shop stage` moves there and back)."""
    if ids and len(ids) != 2:
        raise ShopError("--compare takes two ids (stage 0's, then stage 2's), or none to make the two checkouts.")
    labelled = list(zip(("first", "second"), ids, strict=False)) if ids else _checkouts_at((0, 2))
    blocks = []
    for label, ident in labelled:
        found = lookup(ident)[0]
        blocks.append(f"=== {label} ===\n{render(found, wide=wide)}")
    print("\n\n".join(blocks))
    return 0


def _checkouts_at(stages):
    """[("stage N", request id)] of a checkout made at each stage, then the shop back where it was."""
    before = stack.recorded_stage()
    made = []
    try:
        for stage in stages:
            stack.switch(stage)
            made.append((f"stage {stage}", checkout(stack.url(["facade"]))))
            print(f"Checkout at stage {stage}: request id {made[-1][1]}.", flush=True)
    finally:
        stack.switch(before)
    time.sleep(SETTLE_SECONDS)
    return made


def checkout(url):
    """Buy one unit of a product in stock through the shop's HTML pages, as a browser does; the
    request id of the POST /checkout/ (found in the response's X-Request-ID)."""
    browser = requests.Session()
    products = browser.get(f"{url}api/catalog/products/", params={"in_stock": "true", "page_size": 1}, timeout=10)
    products.raise_for_status()
    sku = products.json()["results"][0]["sku"]
    browser.get(f"{url}products/{sku}/", timeout=10).raise_for_status()
    csrf = {"X-CSRFToken": browser.cookies.get("csrftoken", ""), "Referer": url}
    browser.post(f"{url}cart/add/", data={"sku": sku, "quantity": 1}, headers=csrf, timeout=10).raise_for_status()
    form = browser.get(f"{url}checkout/", timeout=10)
    form.raise_for_status()
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', form.text)
    request_id = uuid.uuid4().hex
    answer = browser.post(
        f"{url}checkout/",
        data={
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "line1": "12 Analytical Row",
            "line2": "",
            "city": "London",
            "postal_code": "N1 7AA",
            "country": "GB",
            "card_number": GOOD_CARD_NUMBER,
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "idempotency_key": key.group(1) if key else str(uuid.uuid4()),
        },
        headers={**csrf, "X-CSRFToken": browser.cookies.get("csrftoken", ""), "X-Request-ID": request_id},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302 or "/orders/" not in answer.headers.get("Location", ""):
        raise ShopError(f"The checkout at {url}checkout/ answered {answer.status_code}, not a redirect to the order.")
    return answer.headers.get("X-Request-ID", request_id)
