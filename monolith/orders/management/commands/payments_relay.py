"""manage.py payments_relay: deliver the payment attempts that their request could not settle, and commit paid stock.

A process of the stack (`shop up` runs it as `relay`). It claims the attempts that are due
(outbox.payment_attempts_due: SKIP LOCKED, so several relays share the work), delivers each
with its idempotency key (outbox.payment_deliver), and goes on until each payment is final: a
payments service that is down, slow or failing costs time, never an order or a second charge.
Stopping it (or killing it) at any point loses nothing: an attempt it had claimed is due again
once the claim runs out.

It also commits the stock reservations of paid orders in a catalog in another process
(outbox.order_stock_commit_due), which settling a payment leaves to it so that the shopper
does not wait for that call: an order stays due until the catalog has taken the commit. A
commit changes no stock count, so it is not urgent: the relay sends what is due at most every
COMMIT_SECONDS, up to COMMIT_BATCH reservations in one call (docs/benchmarks.md: it measured a
call per order at about a quarter of a stage-2 checkout's CPU).
"""

import logging
import signal
import time

from django.core.management.base import BaseCommand

from monolith.core import tracing
from monolith.core.errors import ServiceUnavailable
from monolith.orders import outbox

logger = logging.getLogger(__name__)

BATCH = 20
IDLE_SECONDS = 0.5
COMMIT_BATCH = 100  # the catalog API's limit for one call
COMMIT_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Deliver pending payment attempts to the payments context until each is final, and commit the "
        "stock of paid orders in the catalog (runs until stopped)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="do what is due now, then stop")

    def handle(self, *args, once, **options):
        self.stopping = False
        self.next_commit_at = 0.0
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if not once:
            # Not for a one-off run (the tests' call_command), which leaves its process as it was.
            tracing.setup("relay")
            self.stdout.write("Payment relay: delivering pending payment attempts (Ctrl-C stops).")
        while not self.stopping:
            done = self._deliver_payments() + self._commit_stock()
            if once:
                return
            if not done:
                time.sleep(IDLE_SECONDS)
        tracing.shutdown()  # export the spans still buffered

    def _deliver_payments(self):
        due = outbox.payment_attempts_due(limit=BATCH)
        for attempt in due:
            if self.stopping:
                break  # the claim runs out and another run delivers it
            try:
                # A child of the checkout that made the attempt: settled later, it shows in the same trace.
                with tracing.continued("relay: deliver payment", attempt.trace_context):
                    result = outbox.payment_deliver(attempt)
            except Exception:  # a bug or a database hiccup must not stop the relay: the claim runs out
                logger.exception(
                    "Delivering the payment of order %s failed; it is due again shortly.", attempt.order.number
                )
                continue
            status = result.payment.status
            self.stdout.write(
                f"order {attempt.order.number}: {status}"
                + (f" ({result.payment.failure_code})" if result.payment.failure_code else "")
            )
        return len(due)

    def _commit_stock(self):
        """Commit the reservations of the paid orders due, one batch per COMMIT_SECONDS (at once
        while a full batch leaves more behind); a catalog that cannot take them leaves them due."""
        if time.monotonic() < self.next_commit_at:
            return 0
        try:
            committed = outbox.order_stock_commit_due(limit=COMMIT_BATCH)
        except ServiceUnavailable as error:
            committed = 0
            logger.warning("Committing paid orders' stock failed: %s; they are due again shortly.", error)
        except Exception:  # a bug or a database hiccup must not stop the relay
            committed = 0
            logger.exception("Committing paid orders' stock failed; they are due again shortly.")
        if committed < COMMIT_BATCH:
            self.next_commit_at = time.monotonic() + COMMIT_SECONDS
        return committed

    def _stop(self, signum, frame):
        self.stopping = True
