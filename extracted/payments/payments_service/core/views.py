"""Health endpoints: /healthz (the process answers) and /readyz (it can reach its database); the 400 page."""

import threading

from django.conf import settings
from django.db import connection, transaction
from django.http import JsonResponse
from django.views import defaults
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView

from .middleware import wants_json


# Outside ATOMIC_REQUESTS: its transaction would connect to the database before the view
# runs, so a database outage would make /healthz fail and /readyz answer an HTML 500.
@transaction.non_atomic_requests
def healthz(request):
    """Alive: the process answers. Never touches the database."""
    return JsonResponse({"status": "ok", "service": settings.SERVICE_NAME})


@transaction.non_atomic_requests
def readyz(request):
    """Ready: the process can reach its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database failure means "not ready", whatever its type
        return JsonResponse({"status": "unavailable", "detail": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "service": settings.SERVICE_NAME})


def bad_request(request, exception=None):
    """A request Django refused before any view (a bad Host header, too many form fields): JSON for an API
    client, Django's plain page otherwise; never a debug page."""
    if wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


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
