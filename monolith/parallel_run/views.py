"""The staff page of the parallel run: counts by method and kind, and the latest differences."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from . import selectors

RECENT = 100  # differences shown; the admin pages through all of them


@login_required
def difference_list(request):
    # A shopper who is logged in is refused outright: sending them to the login page again would loop.
    if not request.user.is_staff:
        raise PermissionDenied
    counts = selectors.difference_counts()
    return render(
        request,
        "parallel_run/difference_list.html",
        {
            "counts": counts,
            "total": sum(row["count"] for row in counts),
            "differences": selectors.difference_list()[:RECENT],
            "recent": RECENT,
        },
    )
