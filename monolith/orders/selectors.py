"""Orders reads, always scoped to who may see them."""
from django.db.models import Q

from monolith.core.errors import NotFound

from .models import Order


def order_list(*, owner):
    """The orders of a signed-in user, or of this browser's session when anonymous."""
    if owner.user is not None:
        mine = Q(user=owner.user)
    else:
        mine = Q(user__isnull=True, shopper_id=owner.shopper_id)
    return Order.objects.filter(mine).prefetch_related("lines", "payments")


def order_get(*, owner, number):
    """One order, if `owner` may see it (staff see every order); NotFound otherwise, so as to leak nothing."""
    queryset = Order.objects.all() if owner.user is not None and owner.user.is_staff else order_list(owner=owner)
    try:
        return queryset.prefetch_related("lines", "payments").get(number=number)
    except Order.DoesNotExist:
        raise NotFound(f"No order {number}.") from None
