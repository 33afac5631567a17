"""Catalog writes: products, categories and stock reservations, each in one transaction."""

from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from catalog_service.core.errors import ApplicationError, Conflict, NotFound

from .models import Category, Product, StockReservation, StockReservationLine

PRODUCT_FIELDS = ("sku", "name", "slug", "description", "category", "price", "currency", "stock", "is_active")
CATEGORY_FIELDS = ("slug", "name", "description")


@transaction.atomic
def category_create(*, slug, name, description=""):
    category = Category(slug=slug, name=name, description=description)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_update(*, category, **changes):
    for field, value in changes.items():
        if field not in CATEGORY_FIELDS:
            raise ApplicationError(f"Unknown field {field!r}.", field=field)
        setattr(category, field, value)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_delete(*, category):
    if category.products.exists():
        raise Conflict("This category still has products.", code="category_not_empty")
    category.delete()


@transaction.atomic
def product_create(*, sku, name, category, price, slug="", description="", currency=None, stock=0, is_active=True):
    product = Product(
        sku=sku,
        name=name,
        slug=slug or slugify(name)[:200],
        description=description,
        category=category,
        price=price,
        stock=stock,
        is_active=is_active,
    )
    if currency:
        product.currency = currency
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product, **changes):
    if "sku" in changes and changes["sku"] != product.sku:
        raise ApplicationError("A product's sku cannot change.", field="sku", code="immutable")
    for field, value in changes.items():
        if field not in PRODUCT_FIELDS:
            raise ApplicationError(f"Unknown field {field!r}.", field=field)
        setattr(product, field, value)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_delete(*, product):
    # Products that were ever reserved are part of order history: hide them instead.
    if StockReservationLine.objects.filter(product=product).exists():
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
    else:
        product.delete()


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, skus):
        skus = sorted(skus)
        super().__init__(f"Not enough stock for {', '.join(skus)}.", extra={"skus": skus})


class ReservationMismatch(ApplicationError):
    status_code = 422
    code = "reservation_mismatch"


def _normalise_lines(lines):
    quantities = Counter()
    for line in lines:
        quantities[line["sku"]] += int(line["quantity"])
    return dict(sorted(quantities.items()))


def stock_reserve(*, reservation_id, lines):
    """Take stock for every line, or for none; a repeated reservation_id returns the first result.

    Returns (reservation, created). Raises InsufficientStock naming every short sku,
    and ReservationMismatch when the id was used for other lines.
    """
    wanted = _normalise_lines(lines)
    if not wanted:
        raise ApplicationError("A reservation needs at least one line.", field="lines")
    try:
        with transaction.atomic():
            return _reserve(reservation_id, wanted)
    except IntegrityError:
        # A concurrent request with the same id won the race: return its result.
        existing = StockReservation.objects.get(reservation_id=reservation_id)
        return _replay(existing, wanted), False


def _reserve(reservation_id, wanted):
    # Lock the rows in sku order, so two checkouts for the same products queue
    # instead of deadlocking, then check every line before changing any.
    products = {
        product.sku: product
        for product in Product.objects.select_for_update().filter(sku__in=wanted, is_active=True).order_by("sku")
    }
    # A request with the same id may have committed before this one (a replay),
    # or while it waited for the locks (a retry racing the original): its
    # reservation is the answer, not the "not enough stock" that its own taking
    # of the stock would give. Looked for once, here, so a new reservation
    # (the common case) costs no query for it before the locks.
    existing = StockReservation.objects.filter(reservation_id=reservation_id).first()
    if existing is not None:
        return _replay(existing, wanted), False
    unknown = [sku for sku in wanted if sku not in products]
    if unknown:
        raise ApplicationError(
            f"Unknown sku: {', '.join(unknown)}.", code="unknown_sku", extra={"skus": unknown}, field="lines"
        )
    short = [sku for sku, quantity in wanted.items() if products[sku].stock < quantity]
    if short:
        raise InsufficientStock(short)
    reservation = StockReservation.objects.create(reservation_id=reservation_id)
    for sku, quantity in wanted.items():
        Product.objects.filter(pk=products[sku].pk).update(stock=F("stock") - quantity)
        StockReservationLine(reservation=reservation, product=products[sku], quantity=quantity).save()
    return reservation, True


def _replay(reservation, wanted):
    held = {line.product.sku: line.quantity for line in reservation.lines.select_related("product")}
    if held != wanted:
        raise ReservationMismatch("This reservation_id was already used for other lines.", field="reservation_id")
    return reservation


def stock_commit(*, reservation_id):
    """The goods are sold: the reservation's stock is gone for good. Idempotent.

    Raises NotFound for an unknown id, and a Conflict for a released reservation.
    """
    outcome = stock_commit_many(reservation_ids=[reservation_id])
    if outcome["unknown"]:
        raise NotFound(f"No stock reservation {reservation_id!r}.")
    if outcome["released"]:
        raise Conflict("This reservation was released and cannot be committed.", code="reservation_released")


@transaction.atomic
def stock_commit_many(*, reservation_ids):
    """Commit every held reservation of `reservation_ids` in two queries, however many. Idempotent.

    Returns the ids by outcome, each list in the order asked: {"committed": [...] (now or
    before), "released": [...] (released before, so not committable), "unknown": [...]}.
    """
    asked = list(dict.fromkeys(reservation_ids))
    # Locked in id order, so two commits of overlapping batches queue instead of deadlocking.
    found = dict(
        StockReservation.objects.select_for_update()
        .filter(reservation_id__in=asked)
        .order_by("reservation_id")
        .values_list("reservation_id", "status")
    )
    held = [reservation_id for reservation_id, status in found.items() if status == StockReservation.Status.HELD]
    if held:
        StockReservation.objects.filter(reservation_id__in=held).update(
            status=StockReservation.Status.COMMITTED, updated_at=timezone.now()
        )
    released = StockReservation.Status.RELEASED
    return {
        "committed": [i for i in asked if i in found and found[i] != released],
        "released": [i for i in asked if found.get(i) == released],
        "unknown": [i for i in asked if i not in found],
    }


@transaction.atomic
def stock_release(*, reservation_id):
    """Give the reservation's stock back. Idempotent: a second release changes nothing."""
    reservation = _lock(reservation_id)
    if reservation.status == StockReservation.Status.COMMITTED:
        raise Conflict("This reservation was committed and cannot be released.", code="reservation_committed")
    if reservation.status == StockReservation.Status.HELD:
        for line in reservation.lines.all():
            Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
        reservation.status = StockReservation.Status.RELEASED
        reservation.save(update_fields=["status", "updated_at"])
    return reservation


@transaction.atomic
def reservation_record(*, reservation_id, status, lines):
    """Record a reservation as the catalog's other copy holds it, without touching stock.

    For the data move only: the stock it copies already counts the reservation's lines, so
    taking them again would count them twice. Returns (reservation, created).
    """
    wanted = _normalise_lines(lines)
    products = {product.sku: product for product in Product.objects.filter(sku__in=wanted)}
    unknown = [sku for sku in wanted if sku not in products]
    if unknown:
        raise ApplicationError(
            f"Unknown sku: {', '.join(unknown)}.", code="unknown_sku", extra={"skus": unknown}, field="lines"
        )
    reservation, created = StockReservation.objects.select_for_update().get_or_create(
        reservation_id=reservation_id, defaults={"status": status}
    )
    held = {line.product.sku: line.quantity for line in reservation.lines.select_related("product")}
    if held != wanted:
        reservation.lines.all().delete()
        StockReservationLine.objects.bulk_create(
            StockReservationLine(reservation=reservation, product=products[sku], quantity=quantity)
            for sku, quantity in wanted.items()
        )
    if reservation.status != status:
        reservation.status = status
        reservation.save(update_fields=["status", "updated_at"])
    return reservation, created


def _lock(reservation_id):
    try:
        return StockReservation.objects.select_for_update().get(reservation_id=reservation_id)
    except StockReservation.DoesNotExist:
        raise NotFound(f"No stock reservation {reservation_id!r}.") from None
