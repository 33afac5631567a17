"""Middleware: name the serving process on every response; personal answers kept out of caches; JSON errors under
/api/; 503 when a peer is down."""

import logging

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from .errors import ServiceUnavailable

logger = logging.getLogger(__name__)


class ServedByMiddleware:
    """Set X-Served-By, so a client behind the facade sees which process answered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # setdefault: an answer the monolith passed on from a service keeps that service's name.
        response.headers.setdefault("X-Served-By", settings.SERVICE_NAME)
        return response


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every answer that may hold someone's own data.

    That is every path under settings.PRIVATE_PATH_PREFIXES (orders, cart, checkout, accounts,
    the admin, the orders and payments APIs), and any answer to a signed-in caller: a shared
    cache (a proxy, a CDN) must never hand one shopper's page to another, and a browser should
    not keep it on disk after the shopper logs out. After authentication in MIDDLEWARE, so that
    request.user is known; static files (WhiteNoise, earlier) never reach it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith(tuple(settings.PRIVATE_PATH_PREFIXES)) or (user and user.is_authenticated):
            # patch, not set: Django's never_cache (the admin) adds no-cache and must-revalidate, which stay.
            patch_cache_control(response, private=True, no_store=True)
        return response


def wants_json(request):
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


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


class ServiceUnavailableMiddleware:
    """Answer 503 when a view meets a context that is out of reach, such as a stopped catalog service.

    The port raises a ServiceUnavailable (CatalogUnavailable) and the view lets it go: a page
    answers with the "temporarily unavailable" page, which needs nothing but the session, and a
    JSON client with the error's JSON, never a 500 or a traceback.
    The API views answer it themselves, through the API's exception handler.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ServiceUnavailable):
            return None
        if wants_json(request):
            return JsonResponse(exception.as_dict(), status=503)
        return render(request, "503.html", {"message": exception.message}, status=503)
