"""Catalog reads: querysets for lists, single objects by their public keys."""

import re

from django.db.models import Prefetch

from catalog_service.core.errors import NotFound

from .models import Category, Product, StockReservation, StockReservationLine

# A reservation's lines with their products, in one query (the API shows each line's product).
RESERVATION_LINES = Prefetch("lines", queryset=StockReservationLine.objects.select_related("product"))

SKU_SHAPE = re.compile(r"^[A-Za-z0-9-]{1,32}\Z")


def category_list():
    return Category.objects.all()


def category_get(*, slug):
    try:
        return Category.objects.get(slug=slug)
    except Category.DoesNotExist:
        raise NotFound(f"No category with slug {slug!r}.") from None


def product_queryset(*, include_inactive=False):
    queryset = Product.objects.select_related("category")
    return queryset if include_inactive else queryset.filter(is_active=True)


def _is_sku(value):
    # Checked before the query: a NUL byte or a 10 kB string is "no such
    # product", not a database error.
    return isinstance(value, str) and SKU_SHAPE.match(value) is not None


def product_get(*, sku, include_inactive=False):
    if not _is_sku(sku):
        raise NotFound(f"No product with sku {sku!r}.", code="unknown_sku")
    try:
        return product_queryset(include_inactive=include_inactive).get(sku=sku)
    except Product.DoesNotExist:
        raise NotFound(f"No product with sku {sku!r}.", code="unknown_sku") from None


def reservation_queryset():
    """Stock reservations, oldest first (a stable order, so pagination never repeats or skips one)."""
    return StockReservation.objects.prefetch_related(RESERVATION_LINES).order_by("created_at", "reservation_id")


def reservation_get(*, reservation_id):
    try:
        return StockReservation.objects.prefetch_related(RESERVATION_LINES).get(reservation_id=reservation_id)
    except StockReservation.DoesNotExist:
        raise NotFound(f"No stock reservation {reservation_id!r}.") from None
