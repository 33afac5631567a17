"""The HTTP client for every call the monolith makes to a service, and its settings in one place.

After pip's PipSession: a ServiceSession per peer and per use, with a default timeout and one
retry policy mounted once, the request id on every call, no proxy, netrc or cookie from the
environment, and never a path with a `.` or `..` segment. Its users:

    monolith/adapters/catalog_http.py   RemoteCatalog (reads, stock reservations)
    monolith/adapters/payments_http.py  RemotePayments (charges)
    monolith/strangler/middleware.py    the monolith passing a moved prefix on to its owner
    monolith/strangler/catalog_move.py  the data moves of `set_stage`, catalog_push and catalog_pull
    monolith/strangler/payments_move.py

The adapters put a circuit breaker in front (circuit_breaker() below); the middleware and the
data moves do not: a forwarded request answers its own client, and a move stops and resumes.
This module imports no context: it is part of the ground floor.
"""

import http.cookiejar
import logging
from urllib.parse import unquote, urlsplit

import pybreaker
import requests
from log_request_id import local as request_local
from prometheus_client import Counter
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

# Timeouts, (connect, read) in seconds. A connect on one machine or network takes about a
# millisecond: a refused connection fails at once, an unreachable host after 0.5 s.
#
# The catalog's reads: the shop must answer within 2 s when the catalog is down; a hung service
# costs 1.5 s (a catalog call takes a few ms), which leaves room for the rest of the page.
CATALOG_READ_TIMEOUT = (0.5, 1.5)
# Stock reservations, their commits and releases: in the service they queue for the rows of the
# products they take, behind every other checkout of those products, and a busy shop makes that
# queue longer than a read ever waits. Only checkout and payment wait so.
CATALOG_WRITE_TIMEOUT = (0.5, 5)
# A charge takes the payments service a few milliseconds; a read timeout is the ambiguous case
# (charged or not?), which the same Idempotency-Key settles on the next try.
PAYMENTS_TIMEOUT = (0.5, 3)
# A request passed on by the monolith, as the facade proxies one: connect fast or not at all; a
# request may take as long as gunicorn lets a worker take one (30 s, shopctl/gunicorn_config.py).
FORWARD_TIMEOUT = (2, 30)
# The data moves: a page of 100 rows from a cold service, or a batch of 200 written, may take a while.
MOVE_TIMEOUT = (3.05, 60)

# Consecutive failures (connection errors, timeouts, 5xx) that open a breaker: one blip, such as
# a worker restarting, does not trip it, and when the service is down no more than five requests
# per process wait to find out.
BREAKER_FAIL_MAX = 5
# Seconds an open breaker fails calls without trying; then one trial call goes through
# (half-open) and closes it again if it succeeds. A service that is back is used within 5 s; one
# still down costs one failed call per 5 s.
BREAKER_RESET_SECONDS = 5


# Every call a ServiceSession sends, by the service the path names (/api/<service>/...): what the
# comparison kit (shopctl/compare.py) reads at /metrics and divides by the requests it sent.
SERVICE_CALLS = Counter("shop_service_calls_total", "Calls the monolith sent to another service.", ["service"])


class AllowedMethodsRetry(Retry):
    """A Retry that retries no method outside allowed_methods.

    urllib3's allowed_methods guards retries after read errors and bad statuses only: a
    connection error is retried whatever the method. Here a method not allowed is never
    retried: the catalog's POSTs (READ_RETRY); the payments adapter allows its POSTs, which
    carry an Idempotency-Key (IDEMPOTENT_RETRY).
    """

    def increment(self, method=None, *args, **kwargs):
        if method is not None and method.upper() not in self.allowed_methods:
            # As if every retry were spent: urllib3 raises the error instead of trying again.
            return Retry.increment(self.new(total=0), method, *args, **kwargs)
        return super().increment(method, *args, **kwargs)


# Only GETs are retried. urllib3 retries no POST after the request was sent, and must not here:
# a POST that timed out may have taken effect. Reservations are idempotent by reservation_id,
# but retrying one is the orders flow's decision, not the transport's; a data move's write that
# failed is redone by running the move again, which plans from what the target holds then.
READ_RETRY = AllowedMethodsRetry(
    total=2,
    connect=2,  # refused or unreachable: the request never left, so trying again is safe
    read=0,  # a service that took the request and went quiet is not asked twice: that would double the wait
    status=2,
    other=0,
    status_forcelist=(502, 503, 504),  # a restart, or a proxy in between with nothing behind it
    allowed_methods=frozenset({"GET"}),
    backoff_factor=0.05,  # sleeps 0 s, then 0.1 s: urllib3 skips the sleep before the first retry
    # A 503 with `Retry-After: 120` would otherwise hold a page for two minutes.
    respect_retry_after_header=False,
    # After the last retry, the 5xx itself, which the caller turns into its Unavailable error.
    raise_on_status=False,
)

# The payments adapter's: its POSTs carry an Idempotency-Key, so they may be retried after a read
# timeout too; a 409 is the service saying that the first try with this key is still running.
IDEMPOTENT_RETRY = AllowedMethodsRetry(
    total=2,
    connect=2,
    read=1,
    status=2,
    other=0,
    status_forcelist=(409, 502, 503, 504),
    allowed_methods=frozenset({"GET", "POST"}),
    backoff_factor=0.1,
    respect_retry_after_header=False,
    raise_on_status=False,
)

# A forwarded request is tried once (requests' own default): it is the client's, who decides
# whether to send it again.
NO_RETRY = Retry(total=0, read=False)


class BearerToken(AuthBase):
    """`Authorization: Bearer <token>`, a service token; its repr never shows the token."""

    def __init__(self, token):
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self):
        return "BearerToken(<hidden>)"


def bearer(token: str) -> BearerToken | None:
    """The credentials for a service token (settings.CATALOG_SERVICE_TOKEN, say); None sends none."""
    return BearerToken(token) if token else None


class UnsafePath(ValueError):
    """A URL whose path has a `.` or `..` segment: it could name another path than it seems to."""


def has_dot_segments(path: str) -> bool:
    """Whether `path`, once percent-decoded, has a `.` or `..` segment (`/a/../b`, `/a/%2e%2e/b`, `/a/..%2Fb`)."""
    return any(segment in (".", "..") for segment in unquote(path).split("/"))


class ServiceSession(requests.Session):
    """The HTTP client for a peer service: one per process and use, shared by its threads."""

    def __init__(
        self, *, retry: Retry = READ_RETRY, timeout: tuple = CATALOG_READ_TIMEOUT, auth: AuthBase | None = None
    ):
        super().__init__()
        self._timeout = timeout
        self.auth = auth  # sent on every call unless the call passes its own (or auth=None)
        # The service is at a configured address: no proxy from the environment, no ~/.netrc.
        self.trust_env = False
        # Keep no cookies: this client calls on behalf of every shopper in turn.
        self.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = HTTPAdapter(max_retries=retry)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method, url, *args, **kwargs):
        # urllib3 resolves dot segments before it sends: `/api/payments/../../ops/` would reach
        # `/ops/`. No caller means to send one, so none is sent (issue 10).
        if has_dot_segments(urlsplit(url).path):
            raise UnsafePath(f"Refusing to send {method} {urlsplit(url).path!r}: it has a '.' or '..' segment.")
        kwargs.setdefault("timeout", self._timeout)
        SERVICE_CALLS.labels(_service_of(urlsplit(url).path)).inc()
        request_id = getattr(request_local, "request_id", None)
        if request_id:
            # The same id in the service's log lines as in ours (django-log-request-id sets it per request).
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "X-Request-ID": request_id}
        return super().request(method, url, *args, **kwargs)


def _service_of(path: str) -> str:
    """The service a path is for: "catalog" for /api/catalog/..., else "other" (a label per service, never per path)."""
    parts = path.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "api" and parts[2] in ("catalog", "payments") else "other"


class ServiceFailure(Exception):
    """The service answered, but not usefully (a 5xx, or no JSON): counts against the breaker."""


class BreakerLog(pybreaker.CircuitBreakerListener):
    """Say in the log when a breaker opens, tries again and closes: an outage is visible."""

    def state_change(self, breaker, old_state, new_state):
        logger.warning(
            "%s circuit breaker: %s -> %s",
            breaker.name.capitalize(),
            old_state.name if old_state else "-",
            new_state.name,
        )


def circuit_breaker(name: str) -> pybreaker.CircuitBreaker:
    """A breaker for the calls to service `name`, logging its changes.

    Pitfall: pybreaker holds its lock for the whole guarded call (danielfm/pybreaker#3), so one
    process's threads (gunicorn's 2) call the service one at a time. That costs a few ms when the
    service is up, and lets exactly one trial call through when half-open; but until a hung
    service has opened the breaker, a second thread waits out the first's read timeout before its own.
    """
    return pybreaker.CircuitBreaker(
        fail_max=BREAKER_FAIL_MAX,
        reset_timeout=BREAKER_RESET_SECONDS,
        listeners=[BreakerLog()],
        name=name,
    )
