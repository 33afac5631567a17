"""The payments port: how orders charge a card and learn how a payment ended."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from django.utils.dateparse import parse_datetime

from monolith.core.errors import ServiceUnavailable
from monolith.ports import adapter
from monolith.payments import selectors, services
from monolith.payments.serializers import PaymentSerializer


class PaymentsUnavailable(ServiceUnavailable):
    """The payments service cannot settle a payment now (down, slow, or busy with the same key).

    Nothing is lost: the order's payment attempt stays pending, and the relay delivers it again
    with the same idempotency key until the payment is final.
    """

    code = "payments_unavailable"

    def __init__(self, message="Payments are temporarily unavailable: the payment will be settled shortly."):
        super().__init__(message)


@dataclass(frozen=True)
class PaymentInfo:
    id: UUID
    order_number: str
    amount: Decimal
    currency: str
    status: str  # pending | succeeded | failed | partially_refunded | refunded
    failure_code: str
    amount_refunded: Decimal
    card_brand: str
    card_last4: str
    created_at: datetime

    @classmethod
    def from_body(cls, body):
        """Build from the payments API's JSON representation (the same from both adapters)."""
        created_at = body["created_at"]
        return cls(
            id=UUID(str(body["id"])),
            order_number=body["order_number"],
            amount=Decimal(body["amount"]),
            currency=body["currency"],
            status=body["status"],
            failure_code=body["failure_code"],
            amount_refunded=Decimal(body["amount_refunded"]),
            card_brand=body["card_brand"],
            card_last4=body["card_last4"],
            created_at=parse_datetime(created_at) if isinstance(created_at, str) else created_at,
        )


@dataclass(frozen=True)
class PaymentResult:
    payment: PaymentInfo
    replayed: bool  # the key was seen before: this is the first request's outcome


class PaymentsPort(Protocol):
    """Errors are ApplicationErrors (422 for a reused key with another request) or
    django ValidationErrors naming the bad card field."""

    def pay(self, *, idempotency_key: str, order_number: str, amount: Decimal, currency: str, card: dict) -> PaymentResult: ...

    def payments_for_order(self, order_number: str) -> list[PaymentInfo]: ...


class LocalPayments:
    """The payments context in this process."""

    # The charge is written in this database, in the caller's transaction if there is one.
    shares_transaction = True

    def pay(self, *, idempotency_key, order_number, amount, currency, card):
        outcome = services.payment_create(
            idempotency_key=idempotency_key, order_number=order_number, amount=amount, currency=currency, card=card
        )
        return PaymentResult(PaymentInfo.from_body(PaymentSerializer(outcome.payment).data), outcome.replayed)

    def payments_for_order(self, order_number):
        return [
            PaymentInfo.from_body(PaymentSerializer(p).data)
            for p in selectors.payment_list(order_number=order_number)
        ]


def _remote_payments():
    from monolith.ports.payments_http import RemotePayments

    return RemotePayments()


class StagedPayments:
    """The adapter the stage asks for: in-process up to stage 1, the payments service at stage 2."""

    def __init__(self):
        self._adapters = {}

    def current(self):
        from monolith.strangler.selectors import current_stage

        remote = current_stage() >= 2
        if remote not in self._adapters:
            self._adapters[remote] = _remote_payments() if remote else LocalPayments()
        return self._adapters[remote]

    @property
    def shares_transaction(self):
        return self.current().shares_transaction

    def pay(self, **kwargs):
        # Through the payments' gate, to the owner found once inside (monolith/strangler/gate.py).
        from monolith.strangler import gate

        with gate.PAYMENTS.shared():
            return self.current().pay(**kwargs)

    def payments_for_order(self, order_number):
        return self.current().payments_for_order(order_number)


ADAPTERS = {"stage": StagedPayments, "local": LocalPayments, "remote": _remote_payments}


def get_payments() -> PaymentsPort:
    return adapter("PAYMENTS_BACKEND", ADAPTERS)
