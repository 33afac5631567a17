"""The payments port over HTTP: RemotePayments charges cards through the payments service's /api/payments/.

The catalog adapter's client discipline (monolith/core/service_client.py): one session per process,
a connect and a read timeout, a circuit breaker, the request id on every call, the service token.
One difference: a POST here is retried, because it carries an Idempotency-Key: the same key and
body never charge twice, whatever happened to the first try (the payments service replays the
first answer). A payment that cannot be settled now raises PaymentsUnavailable; the order's
payment attempt stays pending and the relay delivers it again later, with the same key.
"""

import logging
from decimal import Decimal

import pybreaker
import requests
from django.conf import settings

from monolith.core.errors import ApplicationError
from monolith.core.service_client import (
    IDEMPOTENT_RETRY,
    PAYMENTS_TIMEOUT,
    ServiceFailure,
    ServiceSession,
    bearer,
    circuit_breaker,
)
from monolith.ports.payments import PaymentInfo, PaymentResult, PaymentsUnavailable

logger = logging.getLogger(__name__)


class RemotePayments:
    """The payments service at PAYMENTS_SERVICE_URL, behind the same port as LocalPayments."""

    # A charge is made in another database: never while an uncommitted transaction of ours
    # holds the attempt that would record it (services.payment_deliver).
    shares_transaction = False

    def __init__(self):
        self._api = settings.PAYMENTS_SERVICE_URL.rstrip("/") + "/api/payments/"
        self._session = ServiceSession(retry=IDEMPOTENT_RETRY, timeout=PAYMENTS_TIMEOUT)
        self._auth = bearer(settings.PAYMENTS_SERVICE_TOKEN)
        self.breaker = circuit_breaker("payments")

    def pay(
        self, *, idempotency_key: str, order_number: str, amount: Decimal, currency: str, card: dict
    ) -> PaymentResult:
        body = {"order_number": order_number, "amount": str(amount), "currency": currency, "card": card}
        response = self._call("POST", "", json=body, headers={"Idempotency-Key": idempotency_key})
        if response.status_code in (200, 201):
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            return PaymentResult(PaymentInfo.from_body(response.json()), replayed)
        raise _application_error(response)

    def payments_for_order(self, order_number: str) -> list[PaymentInfo]:
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
            logger.error(
                "The payments service refused the monolith's credentials (%s): check PAYMENTS_SERVICE_TOKEN.",
                response.status_code,
            )
            raise ServiceFailure(f"{response.status_code} {response.reason}")
        return response


def _application_error(response):
    """A 4xx from the payments service, as LocalPayments would have raised it."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") or "The payments service refused the payment."
    field = next(
        (name for name, value in body.items() if name not in ("detail", "code") and isinstance(value, list)), None
    )
    return ApplicationError(
        detail, code=body.get("code", "payment_refused"), field=field, status_code=response.status_code
    )
