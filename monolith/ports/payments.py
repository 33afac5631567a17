"""The payments port: how orders charge a card and learn how a payment ended.

Only the port itself: its Protocol, the DTOs it answers with and its error. The adapters are in
monolith/adapters/ (payments_local, payments_http, payments_staged), and monolith/wiring.py
chooses one; callers ask `wiring.get_payments()`.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from django.utils.dateparse import parse_datetime

from monolith.core.errors import ServiceUnavailable


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
    django ValidationErrors naming the bad card field; PaymentsUnavailable when the payment
    cannot be settled now.

    `shares_transaction` says whether a charge is written in this process's database, inside the
    caller's transaction, or in another process's (then never inside an open transaction of ours).
    """

    shares_transaction: bool

    def pay(
        self, *, idempotency_key: str, order_number: str, amount: Decimal, currency: str, card: dict
    ) -> PaymentResult: ...

    def payments_for_order(self, order_number: str) -> list[PaymentInfo]: ...
