"""A moved prefix keeps its meaning: the monolith passes it on to the service that owns it now.

From stage 1 the facade sends /api/catalog/ straight to the catalog service, and from stage 2
/api/payments/ to the payments service (the stage table, monolith/strangler/stages.py). For the
moment between the switch recording the stage and the facade's reload (and for anyone who calls
the monolith directly), the monolith forwards those requests to the owner itself, so an answer
always comes from whoever owns the context. The forwarded answer keeps the service's
X-Served-By: it is that service's answer.

Routing is decided on the normalised path, and only a path that is its own normal form is
served at all: `/api/payments/..%2F..%2Fops/payments/` reaches Django as
`/api/payments/../../ops/payments/`, which starts with a moved prefix but stands for the
service's /ops/payments/. Any path with a `.` or `..` segment is refused with a 400 naming the
problem (issue 10), and the client (monolith/core/service_client.py) never sends one either.

Writes (any method but GET/HEAD/OPTIONS) under a context's API prefix or its admin pages hold
the context's write gate shared for their whole transaction and read the stage only once they
hold it (monolith/strangler/gate.py).
"""

import logging

import requests
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from monolith.core.service_client import FORWARD_TIMEOUT, NO_RETRY, ServiceSession, UnsafePath

from . import gate, stages
from .selectors import service_owns

logger = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a client's request carries that the service needs to answer it as it would have answered
# the client: content, credentials, the request id and the facade's host and scheme (pagination
# links and CSRF origins are built from them).
REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Authorization",
    "Content-Type",
    "Cookie",
    "Host",
    "Idempotency-Key",
    "X-CSRFToken",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Request-ID",
)
# What the answer carries back. Not Set-Cookie: a service's sessions are its own (catalog_sessionid).
RESPONSE_HEADERS = (
    "Allow",
    "Content-Type",
    "Idempotent-Replayed",
    "Location",
    "Retry-After",
    "Vary",
    "WWW-Authenticate",
    "X-Served-By",
)

# The client's own credentials go with the request, never the monolith's service token; no
# retry: the client decides whether to send its request again.
_session = ServiceSession(retry=NO_RETRY, timeout=FORWARD_TIMEOUT)


class StageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if normalised(request.path) != request.path:
            return refuse_unnormalised(request)
        context = next((c for c in stages.CONTEXTS if request.path.startswith((c.api, c.admin))), None)
        if context is None:
            return self.get_response(request)
        if request.method in SAFE_METHODS:
            return self._answer(request, context)
        with transaction.atomic():
            gate.BY_CONTEXT[context.name].hold_shared()
            return self._answer(request, context)

    def _answer(self, request, context):
        if request.path.startswith(context.api) and service_owns(context.name):
            return forward(request, context)
        return self.get_response(request)


def normalised(path: str) -> str:
    """`path` with its `.` and `..` segments resolved (RFC 3986, 5.2.4), as a browser or nginx would read it."""
    kept = []
    segments = path.split("/")[1:]
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments and segments[-1] in (".", ".."):
        kept.append("")  # "/a/b/.." is "/a/", a folder
    return "/" + "/".join(kept)


def refuse_unnormalised(request):
    """400: the path has a `.` or `..` segment (once percent-decoded), so it is not what it seems to name."""
    target = normalised(request.path)
    # %r: the path is the client's, and may hold anything a log line should not.
    logger.warning("Refused %s %r: a '.' or '..' segment (it stands for %r).", request.method, request.path, target)
    if request.path.startswith("/api/") or target.startswith("/api/"):
        detail = (
            f"The path {request.path!r} has a '.' or '..' segment (it stands for {target!r}): "
            "the shop answers only normalised paths."
        )
        return JsonResponse({"path": [detail], "detail": detail, "code": "path_not_normalised"}, status=400)
    return render(request, "400.html", status=400)


def forward(request, context):
    """The owning service's answer to this request."""
    url = getattr(settings, f"{context.service.upper()}_SERVICE_URL").rstrip("/") + request.get_full_path()
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    try:
        answer = _session.request(request.method, url, headers=headers, data=request.body, allow_redirects=False)
    except UnsafePath:  # refused above already; the client's own guard, should that ever change
        return refuse_unnormalised(request)
    except requests.RequestException as error:
        logger.warning(
            "Forwarding %s %s to the %s service failed: %s",
            request.method,
            request.path,
            context.service,
            type(error).__name__,
        )
        return JsonResponse(
            {
                "detail": f"The {context.service} service is temporarily unavailable. Nothing was changed: "
                "please try again in a moment.",
                "code": f"{context.service}_unavailable",
            },
            status=503,
            headers={"Retry-After": "2"},
        )
    response = HttpResponse(answer.content, status=answer.status_code)
    for name in RESPONSE_HEADERS:
        if name in answer.headers:
            response[name] = answer.headers[name]
    return response
