"""Health endpoints: /healthz (the process answers) and /readyz (it can reach its database); the 400 page."""

from django.conf import settings
from django.db import connection, transaction
from django.http import JsonResponse
from django.views import defaults

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
