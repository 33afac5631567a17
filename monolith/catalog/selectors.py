"""Catalog reads: querysets for lists, single objects by their public keys."""

import re

from django.core.exceptions import ValidationError
from django.db.models import Prefetch

from monolith.core.errors import NotFound
from monolith.ops.faults import inject as inject_faults

from .filters import ProductFilter
from .models import Category, Product, StockReservation, StockReservationLine

# A reservation's lines with their products, in one query (the API shows each line's product).
RESERVATION_LINES = Prefetch("lines", queryset=StockReservationLine.objects.select_related("product"))

SKU_SHAPE = re.compile(r"^[A-Za-z0-9-]{1,32}\Z")


def category_list():
    inject_faults()
    return Category.objects.all()


def category_get(*, slug):
    inject_faults()
    try:
        return Category.objects.get(slug=slug)
    except Category.DoesNotExist:
        raise NotFound(f"No category with slug {slug!r}.") from None


def product_queryset(*, include_inactive=False):
    inject_faults()  # every product read starts here
    queryset = Product.objects.select_related("category")
    return queryset if include_inactive else queryset.filter(is_active=True)


def product_list(*, filters=None, include_inactive=False):
    """Products matching the query parameters in `filters`; raises ValidationError naming the bad ones."""
    filterset = ProductFilter(filters or {}, queryset=product_queryset(include_inactive=include_inactive))
    if not filterset.is_valid():
        raise ValidationError({field: list(errors) for field, errors in filterset.errors.items()})
    return filterset.qs


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


def products_by_sku(*, skus):
    """The active products among `skus`, as a dict keyed by sku, in one query."""
    products = product_queryset().filter(sku__in=[sku for sku in skus if _is_sku(sku)])
    return {product.sku: product for product in products}


def reservation_queryset():
    """Stock reservations, oldest first (a stable order, so pagination never repeats or skips one)."""
    return StockReservation.objects.prefetch_related(RESERVATION_LINES).order_by("created_at", "reservation_id")


def reservation_ids_held(*, created_before):
    """The ids of the reservations still held that were made before `created_before`, oldest first."""
    held = reservation_queryset().filter(status=StockReservation.Status.HELD, created_at__lt=created_before)
    return list(held.values_list("reservation_id", flat=True))


def reservation_get(*, reservation_id):
    try:
        return StockReservation.objects.prefetch_related(RESERVATION_LINES).get(reservation_id=reservation_id)
    except StockReservation.DoesNotExist:
        raise NotFound(f"No stock reservation {reservation_id!r}.") from None
