"""manage.py payments_relay: deliver the payment attempts that their request could not settle, and commit paid stock.

A process of the stack (`shop up` runs it as `relay`). It claims the attempts that are due
(services.payment_attempts_due: SKIP LOCKED, so several relays share the work), delivers each
with its idempotency key (services.payment_deliver), and goes on until each payment is final: a
payments service that is down, slow or failing costs time, never an order or a second charge.
Stopping it (or killing it) at any point loses nothing: an attempt it had claimed is due again
once the claim runs out.

It also commits the stock reservations of paid orders in a catalog in another process
(services.order_stock_commit), which settling a payment leaves to it so that the shopper does
not wait for that call: an order stays due until the catalog has taken the commit.
"""
import logging
import signal
import time

from django.core.management.base import BaseCommand

from monolith.core.errors import ServiceUnavailable
from monolith.orders import services

logger = logging.getLogger(__name__)

BATCH = 20
IDLE_SECONDS = 0.5


class Command(BaseCommand):
    help = ("Deliver pending payment attempts to the payments context until each is final, and commit the "
            "stock of paid orders in the catalog (runs until stopped).")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="do what is due now, then stop")

    def handle(self, *args, once, **options):
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if not once:
            self.stdout.write("Payment relay: delivering pending payment attempts (Ctrl-C stops).")
        while not self.stopping:
            done = self._deliver_payments() + self._commit_stock()
            if once:
                return
            if not done:
                time.sleep(IDLE_SECONDS)

    def _deliver_payments(self):
        due = services.payment_attempts_due(limit=BATCH)
        for attempt in due:
            if self.stopping:
                break  # the claim runs out and another run delivers it
            try:
                result = services.payment_deliver(attempt)
            except Exception:  # a bug or a database hiccup must not stop the relay: the claim runs out
                logger.exception("Delivering the payment of order %s failed; it is due again shortly.",
                                 attempt.order.number)
                continue
            status = result.payment.status
            self.stdout.write(f"order {attempt.order.number}: {status}"
                              + (f" ({result.payment.failure_code})" if result.payment.failure_code else ""))
        return len(due)

    def _commit_stock(self):
        """Commit the reservations of paid orders; stop at the first the catalog cannot take (it stays due)."""
        committed = 0
        for order in services.order_stock_commits_due(limit=BATCH):
            if self.stopping:
                break
            try:
                committed += services.order_stock_commit(order=order)
            except ServiceUnavailable as error:
                logger.warning("Committing the stock of order %s failed: %s; it is due again shortly.", order.number, error)
                break
            except Exception:
                logger.exception("Committing the stock of order %s failed; it is due again shortly.", order.number)
                break
        return committed

    def _stop(self, signum, frame):
        self.stopping = True
