"""Template context every page needs: which process served it, and the cart's size."""
from django.conf import settings


def shop(request):
    from monolith.cart.selectors import cart_item_count

    return {
        "served_by": settings.SERVICE_NAME,
        "request_id": getattr(request, "id", ""),
        "cart_count": cart_item_count(session=request.session) if hasattr(request, "session") else 0,
        "shop_currency": settings.SHOP_CURRENCY,
    }
