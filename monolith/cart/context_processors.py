"""The cart's size, for the count in every page's header."""

from .selectors import cart_item_count


def cart(request):
    return {"cart_count": cart_item_count(session=request.session) if hasattr(request, "session") else 0}
