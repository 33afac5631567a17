"""/api/catalog/ keeps its meaning while it moves: the monolith passes it on once the catalog is the service's.

From stage 1 the facade sends /api/catalog/ straight to the catalog service. For the moment
between the switch recording the stage and the facade's reload (and for anyone who calls the
monolith directly), the monolith forwards those requests to the catalog service itself, so an
answer always comes from whoever owns the catalog. The forwarded answer keeps the service's
X-Served-By: it is the catalog service's answer.

Catalog writes (/api/catalog/ and the catalog's admin pages, any method but GET/HEAD/OPTIONS)
hold the catalog write gate shared for their whole transaction and read the stage only once they
hold it (monolith/strangler/gate.py).
"""
import logging

import requests
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse

from . import gate
from .selectors import catalog_is_remote

logger = logging.getLogger(__name__)

CATALOG_API = "/api/catalog/"
CATALOG_WRITE_PATHS = (CATALOG_API, "/admin/catalog/")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a client's request carries that the catalog service needs to answer it as it would have
# answered the client: content, credentials, the request id and the facade's host and scheme
# (pagination links and CSRF origins are built from them).
REQUEST_HEADERS = (
    "Accept", "Accept-Language", "Authorization", "Content-Type", "Cookie", "Host", "Idempotency-Key",
    "X-CSRFToken", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-ID",
)
# What the answer carries back. Not Set-Cookie: the service's sessions are its own (catalog_sessionid).
RESPONSE_HEADERS = ("Allow", "Content-Type", "Location", "Retry-After", "Vary", "WWW-Authenticate", "X-Served-By")
# As the facade: connect fast or not at all; a request may take as long as gunicorn allows one.
TIMEOUT = (2, 30)

_session = requests.Session()


class CatalogStageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(CATALOG_WRITE_PATHS):
            return self.get_response(request)
        if request.method in SAFE_METHODS:
            return self._answer(request)
        with transaction.atomic():
            gate.hold_shared()
            return self._answer(request)

    def _answer(self, request):
        if request.path.startswith(CATALOG_API) and catalog_is_remote():
            return forward(request)
        return self.get_response(request)


def forward(request):
    """The catalog service's answer to this request."""
    url = settings.CATALOG_SERVICE_URL.rstrip("/") + request.get_full_path()
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    try:
        answer = _session.request(
            request.method, url, headers=headers, data=request.body, timeout=TIMEOUT, allow_redirects=False,
        )
    except requests.RequestException as error:
        logger.warning("Forwarding %s %s to the catalog service failed: %s", request.method, request.path, type(error).__name__)
        return JsonResponse(
            {"detail": "The catalog is temporarily unavailable. Nothing was changed: please try again in a moment.",
             "code": "catalog_unavailable"},
            status=503, headers={"Retry-After": "2"},
        )
    response = HttpResponse(answer.content, status=answer.status_code)
    for name in RESPONSE_HEADERS:
        if name in answer.headers:
            response[name] = answer.headers[name]
    return response
