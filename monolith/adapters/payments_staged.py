"""The payments adapter that follows the stage (PAYMENTS_BACKEND=stage, the default).

The payments' owner at the recorded stage (monolith/strangler/stages.py) serves each call: the
monolith up to stage 1 (LocalPayments), the payments service at stage 2 (RemotePayments). A
payment holds the payments' write gate (monolith/strangler/gate.py) shared while it is made, and
reads the stage only once inside, so none lands on the old owner after the switch's final copy.
"""

from collections.abc import Callable
from decimal import Decimal

from monolith.ports.payments import PaymentInfo, PaymentResult, PaymentsPort
from monolith.strangler import gate
from monolith.strangler.selectors import service_owns


class StagedPayments:
    def __init__(self, *, local: Callable[[], PaymentsPort], remote: Callable[[], PaymentsPort]):
        # Factories, called when first needed, as StagedCatalog's.
        self._factories = {False: local, True: remote}
        self._adapters = {}

    def current(self) -> PaymentsPort:
        remote = service_owns("payments")
        if remote not in self._adapters:
            self._adapters[remote] = self._factories[remote]()
        return self._adapters[remote]

    @property
    def shares_transaction(self) -> bool:
        return self.current().shares_transaction

    def pay(
        self, *, idempotency_key: str, order_number: str, amount: Decimal, currency: str, card: dict
    ) -> PaymentResult:
        with gate.PAYMENTS.shared():
            return self.current().pay(
                idempotency_key=idempotency_key,
                order_number=order_number,
                amount=amount,
                currency=currency,
                card=card,
            )

    def payments_for_order(self, order_number: str) -> list[PaymentInfo]:
        return self.current().payments_for_order(order_number)
