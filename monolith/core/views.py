"""Health endpoints and the HTML error pages."""
from django.db import connection, transaction
from django.http import JsonResponse
from django.shortcuts import render

from monolith.strangler.selectors import current_stage

from .middleware import wants_json


# Outside ATOMIC_REQUESTS, which would open a connection (and fail with a 500)
# before these views could say anything about the database.
@transaction.non_atomic_requests
def healthz(request):
    """Alive: the process answers. Never touches the database."""
    return JsonResponse({"status": "ok", "service": "monolith"})


@transaction.non_atomic_requests
def readyz(request):
    """Ready: the process can reach its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        stage = current_stage()
    except Exception as exc:  # any database failure means "not ready", whatever its type
        return JsonResponse({"status": "unavailable", "detail": str(exc)[:200]}, status=503)
    # The stage, for `shop status`: the monolith's database is where it is recorded.
    return JsonResponse({"status": "ok", "service": "monolith", "stage": stage})


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
