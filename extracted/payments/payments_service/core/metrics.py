"""django-prometheus's request metrics, without the reads of /metrics itself.

Whoever reads /metrics (the monolith's staff page, Prometheus) would otherwise count as traffic,
and the page's figures would not agree with what the facade served. Only the "before" middleware
is narrowed: its counters and latency are the figures read; the "after" one stays as it is.

A copy of monolith/dashboard/metrics.py: a service never imports the monolith.
"""

from django_prometheus import middleware

METRICS_PATH = "/metrics"


class PrometheusBeforeMiddleware(middleware.PrometheusBeforeMiddleware):
    def process_request(self, request):
        if request.path_info != METRICS_PATH:
            super().process_request(request)

    def process_response(self, request, response):
        if request.path_info == METRICS_PATH:
            return response
        return super().process_response(request, response)
