"""Template context every page needs: which process served it, and the shop's currency."""

from django.conf import settings


def shop(request):
    return {
        "served_by": settings.SERVICE_NAME,
        "request_id": getattr(request, "id", ""),
        "shop_currency": settings.SHOP_CURRENCY,
    }
