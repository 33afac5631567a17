"""Cart writes, checked against the catalog's stock at the time of the change."""

from monolith.core.errors import ApplicationError
from monolith.wiring import get_catalog

from .selectors import SESSION_KEY, cart_quantities

MAX_LINES = 50
# The most of one product a cart holds: what an order takes of one product
# (orders.services.MAX_QUANTITY), so that checkout never refuses what the cart accepted.
MAX_QUANTITY = 1000


def _save(session, quantities):
    session[SESSION_KEY] = quantities


def cart_add(*, session, sku, quantity):
    """Add `quantity` of a product; the total in the cart may not exceed its stock."""
    product = get_catalog().product(sku)
    quantities = cart_quantities(session=session)
    wanted = quantities.get(sku, 0) + quantity
    if sku not in quantities and len(quantities) >= MAX_LINES:
        raise ApplicationError(f"A cart holds at most {MAX_LINES} different products.", field="sku")
    if wanted > MAX_QUANTITY:
        raise ApplicationError(
            f"A cart holds at most {MAX_QUANTITY} of one product, and {quantities[sku]} are in yours.",
            field="quantity",
            code="too_many_of_one_product",
        )
    if wanted > product.stock:
        raise ApplicationError(
            f"Only {product.stock} of {product.name} in stock"
            + (f" and {quantities[sku]} already in your cart." if sku in quantities else "."),
            field="quantity",
            code="insufficient_stock",
        )
    quantities[sku] = wanted
    _save(session, quantities)
    return product


def cart_update(*, session, sku, quantity):
    """Set a line's quantity; zero removes it."""
    quantities = cart_quantities(session=session)
    if sku not in quantities:
        raise ApplicationError("That product is not in your cart.", field="sku", code="not_in_cart")
    if quantity == 0:
        return cart_remove(session=session, sku=sku)
    product = get_catalog().product(sku)
    if quantity > product.stock:
        raise ApplicationError(
            f"Only {product.stock} of {product.name} in stock.", field="quantity", code="insufficient_stock"
        )
    quantities[sku] = quantity
    _save(session, quantities)


def cart_remove(*, session, sku):
    quantities = cart_quantities(session=session)
    quantities.pop(sku, None)
    _save(session, quantities)


def cart_clear(*, session):
    session.pop(SESSION_KEY, None)
