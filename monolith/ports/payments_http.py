"""The payments port over HTTP: RemotePayments charges cards through the payments service's /api/payments/.

The catalog adapter's client discipline (monolith/ports/catalog_http.py): one session per process,
a connect and a read timeout, a circuit breaker, the request id on every call, the service token.
One difference: a POST here is retried, because it carries an Idempotency-Key: the same key and
body never charge twice, whatever happened to the first try (the payments service replays the
first answer). A payment that cannot be settled now raises PaymentsUnavailable; the order's
payment attempt stays pending and the relay delivers it again later, with the same key.
"""
import logging

import pybreaker
import requests
from django.conf import settings

from monolith.core.errors import ApplicationError

from .catalog_http import BearerToken, BreakerLog, AllowedMethodsRetry, ServiceFailure, ServiceSession
from .payments import PaymentInfo, PaymentResult, PaymentsUnavailable

logger = logging.getLogger(__name__)

# (connect, read) in seconds. A charge takes the payments service a few milliseconds; a read
# timeout is the ambiguous case (charged or not?), which the same key settles on the next try.
TIMEOUT = (0.5, 3)

# POSTs carry an Idempotency-Key, so they may be retried after a read timeout too; a 409 is the
# service saying that the first try with this key is still running.
RETRY = AllowedMethodsRetry(
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

BREAKER_FAIL_MAX = 5
BREAKER_RESET_SECONDS = 5


class RemotePayments:
    """The payments service at PAYMENTS_SERVICE_URL, behind the same port as LocalPayments."""

    # A charge is made in another database: never while an uncommitted transaction of ours
    # holds the attempt that would record it (services.payment_deliver).
    shares_transaction = False

    def __init__(self):
        self._api = settings.PAYMENTS_SERVICE_URL.rstrip("/") + "/api/payments/"
        self._session = ServiceSession(retry=RETRY, timeout=TIMEOUT)
        self._auth = BearerToken(settings.PAYMENTS_SERVICE_TOKEN) if settings.PAYMENTS_SERVICE_TOKEN else None
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=BREAKER_FAIL_MAX, reset_timeout=BREAKER_RESET_SECONDS, listeners=[BreakerLog()], name="payments"
        )

    def pay(self, *, idempotency_key, order_number, amount, currency, card):
        body = {"order_number": order_number, "amount": str(amount), "currency": currency, "card": card}
        response = self._call("POST", "", json=body, headers={"Idempotency-Key": idempotency_key})
        if response.status_code in (200, 201):
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            return PaymentResult(PaymentInfo.from_body(response.json()), replayed)
        raise _application_error(response)

    def payments_for_order(self, order_number):
        response = self._call("GET", "", params={"order_number": order_number, "page_size": 100})
        if response.status_code != 200:
            raise _application_error(response)
        return [PaymentInfo.from_body(body) for body in response.json()["results"]]

    def _call(self, method, path, **kwargs):
        try:
            return self.breaker.call(self._send, method, self._api + path, auth=self._auth, **kwargs)
        except pybreaker.CircuitBreakerError as error:
            raise PaymentsUnavailable() from error
        except (requests.RequestException, ServiceFailure) as error:
            # The method and URL, never a header: the token and the key stay out of the log.
            logger.warning("Payments service call failed: %s %s: %s", method, path or "/", error)
            raise PaymentsUnavailable() from error

    def _send(self, method, url, **kwargs):
        response = self._session.request(method, url, **kwargs)
        if response.status_code >= 500 or response.status_code == 409:
            raise ServiceFailure(f"{response.status_code} {response.reason}")
        if response.status_code in (401, 403):
            logger.error("The payments service refused the monolith's credentials (%s): check PAYMENTS_SERVICE_TOKEN.",
                         response.status_code)
            raise ServiceFailure(f"{response.status_code} {response.reason}")
        return response


def _application_error(response):
    """A 4xx from the payments service, as LocalPayments would have raised it."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") or "The payments service refused the payment."
    field = next((name for name, value in body.items() if name not in ("detail", "code") and isinstance(value, list)), None)
    return ApplicationError(detail, code=body.get("code", "payment_refused"), field=field, status_code=response.status_code)
