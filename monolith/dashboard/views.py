"""The migration dashboard: a page for staff, and the JSON it polls every POLL_SECONDS."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render

from . import selectors

POLL_SECONDS = 2


def _staff_only(view):
    @login_required
    def wrapped(request):
        # A shopper who is logged in is refused outright: sending them to the login page again would loop.
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request)

    wrapped.__name__ = view.__name__
    return wrapped


@_staff_only
def migration(request):
    return render(request, "dashboard/migration.html", {"figures": selectors.figures(), "poll_seconds": POLL_SECONDS})


@_staff_only
def figures(request):
    return JsonResponse(selectors.figures(), headers={"Cache-Control": "no-store"})
