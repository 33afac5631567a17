"""The payments port in this process: LocalPayments calls the payments context's services directly."""

from decimal import Decimal

from monolith.payments import selectors, services
from monolith.payments.serializers import PaymentSerializer
from monolith.ports.payments import PaymentInfo, PaymentResult


class LocalPayments:
    """The payments context in this process."""

    # The charge is written in this database, in the caller's transaction if there is one.
    shares_transaction = True

    def pay(
        self, *, idempotency_key: str, order_number: str, amount: Decimal, currency: str, card: dict
    ) -> PaymentResult:
        outcome = services.payment_create(
            idempotency_key=idempotency_key, order_number=order_number, amount=amount, currency=currency, card=card
        )
        return PaymentResult(PaymentInfo.from_body(PaymentSerializer(outcome.payment).data), outcome.replayed)

    def payments_for_order(self, order_number: str) -> list[PaymentInfo]:
        return [
            PaymentInfo.from_body(PaymentSerializer(p).data) for p in selectors.payment_list(order_number=order_number)
        ]
