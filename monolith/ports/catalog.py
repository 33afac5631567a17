"""The catalog port: what cart, checkout and the shop pages need to know about products.

Only the port itself: its Protocol, the DTOs it answers with and its error. The adapters are in
monolith/adapters/ (catalog_local, catalog_http, catalog_shadow, catalog_staged), and
monolith/wiring.py chooses one; callers ask `wiring.get_catalog()`.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.utils.dateparse import parse_datetime

from monolith.core.errors import ServiceUnavailable


class CatalogUnavailable(ServiceUnavailable):
    """The catalog cannot be reached (down, too slow, or failing): nothing was done, try again later.

    Only the HTTP adapter raises it: the API answers it as a JSON 503, and pages get the
    "temporarily unavailable" page (monolith.core.middleware.ServiceUnavailableMiddleware).
    """

    code = "catalog_unavailable"

    def __init__(
        self, message="The catalog is temporarily unavailable. Nothing was lost: please try again in a moment."
    ):
        super().__init__(message)


@dataclass(frozen=True)
class CategoryInfo:
    slug: str
    name: str
    description: str

    @classmethod
    def from_body(cls, body):
        """Build from the catalog API's JSON representation of a category."""
        return cls(slug=body["slug"], name=body["name"], description=body["description"])


@dataclass(frozen=True)
class ProductInfo:
    sku: str
    name: str
    slug: str
    description: str
    category: str  # the category's slug
    price: Decimal
    currency: str
    stock: int
    is_active: bool
    updated_at: datetime

    @classmethod
    def from_body(cls, body):
        """Build from the catalog API's JSON representation of a product."""
        return cls(
            sku=body["sku"],
            name=body["name"],
            slug=body["slug"],
            description=body["description"],
            category=body["category"],
            price=Decimal(body["price"]),
            currency=body["currency"],
            stock=body["stock"],
            is_active=body["is_active"],
            updated_at=parse_datetime(body["updated_at"]),
        )


@dataclass(frozen=True)
class ReservedLine:
    """A line of a stock reservation, priced as the product was when reserved (for a repeated
    reservation_id, as it is now: the monolith never repeats one when placing an order)."""

    sku: str
    quantity: int
    name: str
    price: Decimal
    currency: str

    @classmethod
    def from_body(cls, body):
        """Build from a line of the catalog API's JSON representation of a stock reservation."""
        return cls(
            sku=body["sku"],
            quantity=body["quantity"],
            name=body["name"],
            price=Decimal(body["price"]),
            currency=body["currency"],
        )


@dataclass(frozen=True)
class StockCommits:
    """What committing a batch of reservations did with each id, in the order asked."""

    committed: list[str]  # committed now, or before
    released: list[str]  # released before: cannot be committed
    unknown: list[str]  # no such reservation

    @classmethod
    def from_body(cls, body):
        """Build from the catalog API's answer to POST /api/catalog/stock-reservation-commits/."""
        return cls(committed=body["committed"], released=body["released"], unknown=body["unknown"])


@dataclass(frozen=True)
class ProductPage:
    products: list[ProductInfo]
    count: int
    number: int
    num_pages: int

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_next(self):
        return self.number < self.num_pages


class CatalogPort(Protocol):
    """Errors: ApplicationErrors (NotFound for an unknown sku, a Conflict with
    code "insufficient_stock" and `extra["skus"]` when a reservation falls short),
    CatalogUnavailable when the catalog cannot be reached, and a django
    ValidationError naming the bad filter for a bad query.

    Reads may come from a cache (RemoteCatalog's, for a few seconds). `reserve` never does: it
    answers with the reserved lines by sku, each priced as the product was when reserved, which
    is what checkout charges.

    `shares_transaction` says whether the catalog writes in this process's database, inside the
    caller's transaction (so a rollback undoes a reservation), or in another process's.
    """

    shares_transaction: bool

    def categories(self) -> list[CategoryInfo]: ...

    def product_page(self, *, filters: dict, page: int | str, per_page: int) -> ProductPage: ...

    def product(self, sku: str) -> ProductInfo: ...

    def products(self, skus: list[str]) -> dict[str, ProductInfo]: ...

    def reserve(self, *, reservation_id: str, lines: list[dict]) -> dict[str, ReservedLine]: ...

    def commit(self, *, reservation_id: str) -> None: ...

    def commit_many(self, *, reservation_ids: list[str]) -> StockCommits:
        """Commit a batch (up to 100) at once: a released or unknown id is reported, not raised."""
        ...

    def release(self, *, reservation_id: str) -> None: ...

    def held_reservations(self, *, older_than: datetime) -> list[str]:
        """The ids of the reservations still held that were made before `older_than` (never cached)."""
        ...

    def reservation_status(self, *, reservation_id: str) -> str | None:
        """ "held", "committed" or "released"; None for a reservation the catalog does not know (never cached)."""
        ...
