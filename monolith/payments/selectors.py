"""Payments reads."""

from monolith.core.errors import NotFound

from .models import Payment


def payment_get(*, payment_id, for_update=False):
    queryset = Payment.objects.prefetch_related("refunds")
    if for_update:
        queryset = Payment.objects.select_for_update()
    try:
        return queryset.get(pk=payment_id)
    except (Payment.DoesNotExist, ValueError):
        raise NotFound(f"No payment {payment_id}.") from None


def payment_list(*, order_number=None):
    queryset = Payment.objects.prefetch_related("refunds")
    if order_number:
        queryset = queryset.filter(order_number=order_number)
    return queryset
