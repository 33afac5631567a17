"""Inject the configured faults into /api/payments/ requests, for demos and tests.

In order: `latency_ms` of sleep before the request is handled; then, for a share `error_rate`
of requests, a 503 JSON (`injected_fault`) instead of any handling; and after a charge (a POST
/api/payments/ answered 201, not a replay) `timeout_after_charge_ms` of sleep before the
response leaves. This middleware is the innermost one, so the view's ATOMIC_REQUESTS
transaction has committed when that sleep starts: a client with a shorter read timeout gives
up although its charge happened, and learns what happened by retrying with the same key.
The schema and docs pages are left alone.
"""

import random
import time

from django.http import JsonResponse

from payments_service.core.idempotency import REPLAY_HEADER

from .faults import faults_in_force_or_none

PREFIX = "/api/payments/"
UNAFFECTED = (PREFIX + "schema/", PREFIX + "docs/")


class FaultInjectionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX) or request.path.startswith(UNAFFECTED):
            return self.get_response(request)
        faults = faults_in_force_or_none()
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        # random() is in [0, 1): a rate of 0 never fires, a rate of 1 always does.
        if faults.error_rate and random.random() < faults.error_rate:
            return JsonResponse(
                {"detail": "Fault injected for a test or demo: nothing was done; try again.", "code": "injected_fault"},
                status=503,
            )
        response = self.get_response(request)
        if faults.timeout_after_charge_ms and _is_new_charge(request, response):
            time.sleep(faults.timeout_after_charge_ms / 1000)
        return response


def _is_new_charge(request, response):
    return (
        request.method == "POST"
        and request.path == PREFIX
        and response.status_code == 201
        and not response.has_header(REPLAY_HEADER)
    )
