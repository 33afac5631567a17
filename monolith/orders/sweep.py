"""The reservation sweep: give back stock held for orders nobody will pay, and reservations no order owns.

Run by `manage.py sweep_reservations` (an operator's cron job). Two kinds of stock go back:

- abandoned orders: still awaiting payment after the TTL. They are cancelled through
  `order_cancel`, the same service the order page and the API call, which releases their stock.
- orphan reservations: held in the catalog for longer than the TTL, with no order awaiting
  payment behind them. A crash between a remote reserve and the monolith's commit, or a failed
  compensating release (see `services._order_reserve_and_create`), leaves one behind. A paid
  order's own reservation is never one: its units are sold, and the relay commits it
  (`outbox.order_stock_commit_due`), later if the catalog was down.

Every step is idempotent, so a second run finds nothing left to do.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from monolith.core.errors import ApplicationError, Conflict, NotFound, ServiceUnavailable
from monolith.wiring import get_catalog

from . import selectors, services
from .models import Order

# The ids the orders context gives its reservations (Order.reservation_id); others are not ours to release.
ORDER_RESERVATION = re.compile(r"^order-(?P<number>[A-Z0-9]{1,16})-(?P<attempt>[0-9]{1,9})\Z")


@dataclass(frozen=True)
class SweepStep:
    """One thing the sweep did (or, in a dry run, would do), or failed to do."""

    action: str  # "cancel" or "release"
    subject: str  # an order number, or a reservation id
    reason: str
    error: str = ""

    def describe(self, *, dry_run=False):
        if self.error:
            verb = {"cancel": "cancel order", "release": "release reservation"}[self.action]
            return f"FAILED to {verb} {self.subject} ({self.reason}): {self.error}"
        verb = (
            {"cancel": "cancel order", "release": "release reservation"}
            if dry_run
            else {"cancel": "Cancelled order", "release": "Released reservation"}
        )
        return f"{'Would ' if dry_run else ''}{verb[self.action]} {self.subject} ({self.reason})"


def reservations_sweep(*, older_than: datetime, dry_run: bool = False) -> list[SweepStep]:
    """Cancel the orders abandoned before `older_than`, then release the orphan reservations made before it."""
    steps = [_cancel(order, dry_run) for order in selectors.order_list_abandoned(updated_before=older_than)]
    # Read after the cancels, which released their reservations: only the orphans are left held.
    for reservation_id in get_catalog().held_reservations(older_than=older_than):
        reason = _orphan_reason(reservation_id)
        if reason:
            steps.append(_release(reservation_id, reason, dry_run))
    return [step for step in steps if step is not None]


def _cancel(order, dry_run):
    step = SweepStep("cancel", order.number, f"awaiting payment since {order.updated_at:%Y-%m-%d %H:%M} UTC")
    if dry_run:
        return step
    try:
        services.order_cancel(order=order)
    except Conflict:
        return None  # paid (or failed) meanwhile: no longer abandoned
    except (ApplicationError, ServiceUnavailable) as error:  # the catalog is down, say: the next run tries again
        return SweepStep(step.action, step.subject, step.reason, error=error.message)
    return step


def _orphan_reason(reservation_id):
    """Why a held reservation is an orphan, or "" when an order awaiting payment or paid owns it (or it is not an order's)."""
    match = ORDER_RESERVATION.match(reservation_id)
    if match is None:
        return ""
    order = Order.objects.filter(number=match["number"]).first()
    if order is None:
        return "no such order"
    if order.reservation_id != reservation_id:
        return f"order {order.number} holds {order.reservation_id} instead"
    if order.status not in (Order.Status.PENDING_PAYMENT, Order.Status.PAID):
        return f"order {order.number} is {order.status}"
    return ""


def _release(reservation_id, reason, dry_run):
    step = SweepStep("release", reservation_id, reason)
    if dry_run:
        return step
    try:
        get_catalog().release(reservation_id=reservation_id)
    except (Conflict, NotFound):
        return None  # committed or gone meanwhile: nothing held any more
    except (ApplicationError, ServiceUnavailable) as error:
        return SweepStep(step.action, step.subject, step.reason, error=error.message)
    return step
