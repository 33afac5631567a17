"""A moved prefix keeps its meaning: the monolith passes it on to the service that owns it now.

From stage 1 the facade sends /api/catalog/ straight to the catalog service, and from stage 2
/api/payments/ to the payments service. For the moment between the switch recording the stage
and the facade's reload (and for anyone who calls the monolith directly), the monolith forwards
those requests to the owner itself, so an answer always comes from whoever owns the context.
The forwarded answer keeps the service's X-Served-By: it is that service's answer.

Writes (any method but GET/HEAD/OPTIONS) under a context's API prefix or its admin pages hold
the context's write gate shared for their whole transaction and read the stage only once they
hold it (monolith/strangler/gate.py).
"""
import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse

from . import gate
from .selectors import service_owns

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class Context:
    service: str
    api: str  # the prefix the facade moves to the service
    admin: str  # the monolith's admin pages for it
    url_setting: str
    gate: gate.Gate


CONTEXTS = (
    Context("catalog", "/api/catalog/", "/admin/catalog/", "CATALOG_SERVICE_URL", gate.CATALOG),
    Context("payments", "/api/payments/", "/admin/payments/", "PAYMENTS_SERVICE_URL", gate.PAYMENTS),
)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a client's request carries that the catalog service needs to answer it as it would have
# answered the client: content, credentials, the request id and the facade's host and scheme
# (pagination links and CSRF origins are built from them).
REQUEST_HEADERS = (
    "Accept", "Accept-Language", "Authorization", "Content-Type", "Cookie", "Host", "Idempotency-Key",
    "X-CSRFToken", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-ID",
)
# What the answer carries back. Not Set-Cookie: a service's sessions are its own (catalog_sessionid).
RESPONSE_HEADERS = (
    "Allow", "Content-Type", "Idempotent-Replayed", "Location", "Retry-After", "Vary", "WWW-Authenticate", "X-Served-By",
)
# As the facade: connect fast or not at all; a request may take as long as gunicorn allows one.
TIMEOUT = (2, 30)

_session = requests.Session()


class StageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = next((c for c in CONTEXTS if request.path.startswith((c.api, c.admin))), None)
        if context is None:
            return self.get_response(request)
        if request.method in SAFE_METHODS:
            return self._answer(request, context)
        with transaction.atomic():
            context.gate.hold_shared()
            return self._answer(request, context)

    def _answer(self, request, context):
        if request.path.startswith(context.api) and service_owns(context.service):
            return forward(request, context)
        return self.get_response(request)


def forward(request, context):
    """The owning service's answer to this request."""
    url = getattr(settings, context.url_setting).rstrip("/") + request.get_full_path()
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    try:
        answer = _session.request(
            request.method, url, headers=headers, data=request.body, timeout=TIMEOUT, allow_redirects=False,
        )
    except requests.RequestException as error:
        logger.warning("Forwarding %s %s to the %s service failed: %s", request.method, request.path,
                       context.service, type(error).__name__)
        return JsonResponse(
            {"detail": f"The {context.service} service is temporarily unavailable. Nothing was changed: "
                       "please try again in a moment.",
             "code": f"{context.service}_unavailable"},
            status=503, headers={"Retry-After": "2"},
        )
    response = HttpResponse(answer.content, status=answer.status_code)
    for name in RESPONSE_HEADERS:
        if name in answer.headers:
            response[name] = answer.headers[name]
    return response
