"""The HTML error pages (the health endpoints, which report the stage, are monolith/health.py)."""

import threading

from django.http import JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView

from .middleware import wants_json


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)


def bad_request(request, exception=None):
    # A request Django refused before any view (a bad Host header, too many form fields).
    if wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


# drf-spectacular's generator keeps state while it walks the views, and two threads generating at
# once (gunicorn's threads, the first requests after a start) can trip over each other: a 500
# ("'NoneType' object has no attribute 'startswith'", tfranzel/drf-spectacular#1122). One at a time
# per process; a document takes a few hundred milliseconds, and is cached by whoever reads it.
_generating = threading.Lock()


@extend_schema(exclude=True)  # as SERVE_INCLUDE_SCHEMA=False leaves out drf-spectacular's own view
class SchemaView(SpectacularAPIView):
    """SpectacularAPIView, generating one document at a time in this process."""

    def get(self, request, *args, **kwargs):
        with _generating:
            return super().get(request, *args, **kwargs)
