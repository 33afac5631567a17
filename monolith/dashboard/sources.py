"""Reading each process's counters now: the Django processes' Prometheus metrics, the facade's stub_status.

Every reading is cumulative (since the process started); dashboard/selectors.py turns two
readings into rates. The monolith reads its own metrics in-process (all its gunicorn workers, from
the multiprocess folder), the services' over HTTP at their own addresses, never through the facade.
"""

import http.client
import os
import re
import socket
from dataclasses import dataclass, field

import requests
from django.conf import settings
from prometheus_client import REGISTRY as IN_PROCESS
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families

TIMEOUT = 1  # seconds: the page polls every few seconds, and a process that takes longer is shown as silent

# django-prometheus's names (monolith/dashboard/metrics.py leaves the reads of /metrics out of the first two).
RESPONSES = "django_http_responses_before_middlewares"
LATENCY = "django_http_requests_latency_including_middlewares_seconds"
BY_STATUS = "django_http_responses_total_by_status"


@dataclass
class Reading:
    """One process's counters at one moment. errors and buckets are None where the process has none
    (the facade's stub_status counts requests only)."""

    requests: float
    errors: float | None = None
    # Upper bound in seconds (inf last) → requests that took at most that long, cumulative.
    buckets: dict[float, float] | None = field(default=None)
    active: int | None = None  # open connections (the facade)


def parse_metrics(text: str) -> Reading:
    """A Reading from a Django process's /metrics text."""
    requests_total, errors, buckets = 0.0, 0.0, {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if family.name == RESPONSES and sample.name.endswith("_total"):
                requests_total += sample.value
            elif family.name == BY_STATUS and sample.name.endswith("_total"):
                errors += sample.value if sample.labels.get("status", "").startswith("5") else 0.0
            elif family.name == LATENCY and sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return Reading(requests=requests_total, errors=errors, buckets=dict(sorted(buckets.items())))


def read_monolith() -> Reading:
    """This process's metrics, summed over its gunicorn workers when it runs several (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = IN_PROCESS
    return parse_metrics(generate_latest(registry).decode())


def read_service(base_url: str) -> Reading | None:
    """A service's metrics at its own address; None when it does not answer."""
    try:
        response = requests.get(f"{base_url.rstrip('/')}/metrics", timeout=TIMEOUT)
        response.raise_for_status()
    except requests.RequestException:
        return None
    return parse_metrics(response.text)


_STUB_STATUS = re.compile(r"Active connections:\s*(\d+)\s+server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)")


def read_facade(status_url: str) -> Reading | None:
    """The facade's nginx stub_status at status_url (`unix:<socket>` or http://...); None when silent."""
    if not status_url:
        return None
    try:
        if status_url.startswith("unix:"):
            connection = _UnixHTTPConnection(status_url.removeprefix("unix:"))
            try:
                connection.request("GET", "/status")
                text = connection.getresponse().read().decode()
            finally:
                connection.close()
        else:
            text = requests.get(status_url, timeout=TIMEOUT).text
    except (OSError, http.client.HTTPException, requests.RequestException):
        return None
    match = _STUB_STATUS.search(text)
    if match is None:
        return None
    return Reading(requests=float(match[4]), active=int(match[1]))


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: the facade's status listens on one, where no browser can reach it."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(self.socket_path)


def read_all() -> dict[str, Reading | None]:
    """Every process's reading now, by name, in the order the page lists them."""
    return {
        "facade": read_facade(settings.FACADE_STATUS_URL),
        "monolith": read_monolith(),
        "catalog": read_service(settings.CATALOG_SERVICE_URL),
        "payments": read_service(settings.PAYMENTS_SERVICE_URL),
    }
