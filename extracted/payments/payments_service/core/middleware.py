"""Middleware: name the serving process on every response; JSON errors under /api/."""
import logging

from django.conf import settings
from django.http import JsonResponse

logger = logging.getLogger(__name__)


class ServedByMiddleware:
    """Set X-Served-By, so a client behind the facade sees which process answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Served-By"] = settings.SERVICE_NAME
        return response


def wants_json(request):
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


class ApiErrorMiddleware:
    """Answer an API client with JSON where Django would answer with an HTML error page.

    DRF handles errors inside its views; this covers what happens outside them
    (an unknown URL under /api/, and an unexpected exception) so that an API
    client never has to parse HTML and never sees a traceback.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and wants_json(request) and not _is_json(response):
            return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
        return response

    def process_exception(self, request, exception):
        if not wants_json(request):
            return None  # Django's handler500 renders the HTML page
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal server error.", "code": "server_error"}, status=500)


def _is_json(response):
    return response.get("Content-Type", "").startswith("application/json")
