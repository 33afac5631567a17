"""The waterfall of a request as an HTML page for staff: the same as `shop trace`, read from the same files."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from monolith.core import tracing

from . import waterfall

BAR_SCALE = 1000  # the bars' SVG is this wide in its own units; the browser stretches it to the column


@login_required
def trace_detail(request, ident):
    # A shopper who is logged in is refused outright: sending them to the login page again would loop.
    if not request.user.is_staff:
        raise PermissionDenied
    run_dir = tracing.trace_dir().parent
    spans = waterfall.load_spans(run_dir)
    facade = waterfall.load_facade(run_dir)
    found = [waterfall.build(trace_id, spans, facade) for trace_id in waterfall.find_trace_ids(ident, spans)]
    return render(
        request,
        "traces/trace_detail.html",
        {"ident": ident, "waterfalls": [_drawn(one) for one in found], "trace_dir": tracing.trace_dir()},
        status=200 if found else 404,
    )


def _drawn(found):
    """The waterfall with each row's bar in the SVG's units (at least one unit wide, to be seen)."""
    total = found.total_ms or 1.0
    rows = []
    for row in found.rows:
        x = min(BAR_SCALE - 1, round(row.start_ms / total * BAR_SCALE))
        width = max(1, min(BAR_SCALE - x, round(row.duration_ms / total * BAR_SCALE)))
        rows.append({"row": row, "x": x, "width": width, "indent": row.depth * 12})
    return {"waterfall": found, "rows": rows, "scale": BAR_SCALE}
