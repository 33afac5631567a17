"""The monolith's health endpoints, /healthz and /readyz.

Beside urls.py rather than in core: /readyz reports the migration's stage, which the strangler
app records, and core imports no context.
"""

from django.db import connection, transaction
from django.http import JsonResponse

from monolith.strangler.selectors import current_stage


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
