"""The catalog's rows for the data move (monolith/strangler/moves.py): what moves, read and written here.

Categories, products and stock reservations, each in the contract's representation (what
`/api/catalog/` says, without `updated_at`), keyed by the ids that survive the move (a category's
slug, a product's sku, a reservation's id). export_rows() reads the monolith's; import_change()
writes one change into it through the catalog's services (validated, atomic). The catalog
service's side, over its API, is monolith/strangler/catalog_move.py, which also says what
catalog_push, catalog_pull and the stage switch do with them.
"""

from decimal import Decimal

from monolith.strangler.moves import Change, Kind

from . import selectors, services
from .models import Category, Product
from .serializers import CategorySerializer, ProductSerializer, StockReservationSerializer

CATEGORY = Kind("category", "categories", "slug", ("slug", "name", "description"))
PRODUCT = Kind(
    "product",
    "products",
    "sku",
    ("sku", "name", "slug", "description", "category", "price", "currency", "stock", "is_active"),
)
# Stock reservations move with the stock they hold, recorded as they stand (the stock copied
# already counts them), so that an order placed before a switch is paid or released after it.
# Written whole, and never deleted: each side keeps every one it has seen.
RESERVATION = Kind(
    "reservation", "stock-reservations", "reservation_id", ("reservation_id", "status", "lines"), whole=True, kept=True
)
# Categories first: a product names its category, which must exist on the target; a
# reservation names products.
KINDS = (CATEGORY, PRODUCT, RESERVATION)


def rows(kind, representations):
    """{key: row} of `kind` from its API representations (the serializers' here, the service's answers there)."""
    return {item[kind.key]: {field: item[field] for field in kind.fields} for item in representations}


def export_rows():
    """The monolith's catalog, inactive products included, as {kind name: {key: row}}."""
    return {
        CATEGORY.name: rows(CATEGORY, CategorySerializer(Category.objects.all(), many=True).data),
        PRODUCT.name: rows(PRODUCT, ProductSerializer(Product.objects.select_related("category"), many=True).data),
        RESERVATION.name: rows(
            RESERVATION, StockReservationSerializer(selectors.reservation_queryset(), many=True).data
        ),
    }


def import_change(change: Change) -> None:
    """Apply one change to the monolith's database through the catalog's services (validated, atomic)."""
    fields = dict(change.fields)
    if change.kind is RESERVATION:
        services.reservation_record(reservation_id=change.key, status=fields["status"], lines=fields["lines"])
        return
    if change.action == "delete":
        if change.kind is CATEGORY:
            services.category_delete(category=Category.objects.get(slug=change.key))
        else:
            services.product_delete(product=Product.objects.get(sku=change.key))
        return
    if change.kind is CATEGORY:
        if change.action == "create":
            services.category_create(**fields)
        else:
            services.category_update(category=Category.objects.get(slug=change.key), **fields)
        return
    if "category" in fields:
        fields["category"] = Category.objects.get(slug=fields["category"])
    if "price" in fields:
        fields["price"] = Decimal(fields["price"])
    if change.action == "create":
        services.product_create(**fields)
    else:
        services.product_update(product=Product.objects.get(sku=change.key), **fields)
