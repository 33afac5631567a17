"""Cart reads: the cart with its products, fetched in one batch whatever its size."""

from dataclasses import dataclass
from decimal import Decimal

from monolith.ports.catalog import ProductInfo
from monolith.wiring import get_catalog

SESSION_KEY = "cart"


@dataclass(frozen=True)
class CartLine:
    product: ProductInfo
    quantity: int

    @property
    def line_total(self):
        return self.product.price * self.quantity

    @property
    def short(self):
        """More in the cart than is in stock now."""
        return self.quantity > self.product.stock


@dataclass(frozen=True)
class Cart:
    lines: list[CartLine]
    missing: list[str]  # skus in the session that the catalog no longer sells

    @property
    def total(self):
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def item_count(self):
        return sum(line.quantity for line in self.lines)

    @property
    def currency(self):
        return self.lines[0].product.currency if self.lines else ""

    @property
    def has_short_lines(self):
        return any(line.short for line in self.lines)


def cart_quantities(*, session):
    """The raw {sku: quantity} in the session; anything malformed in it is dropped."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, dict):
        return {}
    return {sku: qty for sku, qty in raw.items() if isinstance(sku, str) and isinstance(qty, int) and qty > 0}


def cart_item_count(*, session):
    return sum(cart_quantities(session=session).values())


def cart_get(*, session):
    quantities = cart_quantities(session=session)
    products = get_catalog().products(list(quantities)) if quantities else {}
    return Cart(
        lines=[CartLine(products[sku], qty) for sku, qty in sorted(quantities.items()) if sku in products],
        missing=sorted(sku for sku in quantities if sku not in products),
    )
