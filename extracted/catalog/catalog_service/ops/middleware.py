"""Inject the configured faults into /api/catalog/ requests, for demos, exercises and tests.

In order: `latency_ms` of sleep before the request is handled (a slow catalog); then, for a share
`error_rate` of requests, a 503 JSON (`injected_fault`) instead of any handling (a flaky one). The
schema and docs pages, health checks and /ops/ are left alone.
"""

import random
import time

from django.http import JsonResponse

from .faults import faults_in_force_or_none

PREFIX = "/api/catalog/"
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
        return self.get_response(request)
