"""Orders reads, always scoped to who may see them."""

from django.db.models import Q

from monolith.core.errors import NotFound

from .models import Order, OrderPayment


def order_list(*, owner):
    """The orders of a signed-in user, or of this browser's session when anonymous."""
    mine = Q(user=owner.user) if owner.user is not None else Q(user__isnull=True, shopper_id=owner.shopper_id)
    return Order.objects.filter(mine).prefetch_related("lines", "payments")


def order_get(*, owner, number):
    """One order, if `owner` may see it (staff see every order); NotFound otherwise, so as to leak nothing."""
    queryset = Order.objects.all() if owner.user is not None and owner.user.is_staff else order_list(owner=owner)
    try:
        return queryset.prefetch_related("lines", "payments").get(number=number)
    except Order.DoesNotExist:
        raise NotFound(f"No order {number}.") from None


def order_list_abandoned(*, updated_before):
    """Orders still awaiting payment, untouched since `updated_before`, with no payment still being settled.

    An order's reservation is made when it is placed or paid again, and either saves the
    order: so its stock has been held at least since its `updated_at`.
    """
    settling = OrderPayment.objects.filter(status="pending").values("order_id")
    return (
        Order.objects.filter(status=Order.Status.PENDING_PAYMENT, updated_at__lt=updated_before)
        .exclude(pk__in=settling)
        .order_by("updated_at", "number")
    )
