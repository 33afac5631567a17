"""The catalog port as a parallel run: ShadowCatalog serves LocalCatalog and compares RemoteCatalog with it.

With CATALOG_BACKEND=shadow every read is answered by the catalog in this process, made again
through the catalog service, and the two results compared; each difference becomes a
ShadowDifference row (monolith/parallel_run), for staff at /staff/parallel-run/ and for
`manage.py parallel_run_report`. Shoppers only ever see the local answer.
"""

import dataclasses
import logging

from django.core.exceptions import ValidationError

from monolith.core.errors import ApplicationError
from monolith.parallel_run.services import difference_record
from monolith.ports.catalog import CatalogPort, CategoryInfo, ProductInfo, ProductPage

logger = logging.getLogger(__name__)

# Fields not compared. updated_at is when a row was last written in *its* database: a data copy
# into the catalog service writes every row again, so it differs for rows whose content is the same.
IGNORED_FIELDS = frozenset({"updated_at"})


class ShadowCatalog:
    """LocalCatalog, with each read also made through RemoteCatalog and any difference recorded.

    The catalog service is not authoritative in a parallel run: reserve, commit and release go
    to the local catalog only, and the remote's answers are compared, never served. So stock
    held by orders placed during the run shows as a `stock` difference until the data is
    copied again.

    A remote failure (CatalogUnavailable, a malformed answer, anything) is recorded as a
    "remote_error" and the local answer is served. The remote call is synchronous, after the
    local one: it is bounded by RemoteCatalog's timeouts (0.5 s connect, 1.5 s read) and its
    circuit breaker (a service that is down costs nothing once five calls have failed), and in
    the common case of browsing it is a hit in RemoteCatalog's 5 s cache. That staleness
    cannot hide a difference here: the service receives no writes during a parallel run, so
    what it said 5 s ago is what it would say now. A background thread would save the few
    milliseconds of a cache miss but need its own database connection and request id to record
    what it found.
    """

    def __init__(self, *, local: CatalogPort, remote: CatalogPort):
        # A LocalCatalog and a RemoteCatalog (monolith/wiring.py makes them); tests may pass others.
        self.local = local
        self.remote = remote

    @property
    def shares_transaction(self):
        return self.local.shares_transaction  # writes go to the local catalog only

    def categories(self):
        return self._read("categories", {}, lambda catalog: catalog.categories())

    def product_page(self, *, filters, page, per_page):
        return self._read(
            "product_page",
            {"filters": filters, "page": page, "per_page": per_page},
            lambda catalog: catalog.product_page(filters=filters, page=page, per_page=per_page),
        )

    def product(self, sku):
        return self._read("product", {"sku": sku}, lambda catalog: catalog.product(sku))

    def products(self, skus):
        return self._read("products", {"skus": list(skus)}, lambda catalog: catalog.products(skus))

    def reserve(self, *, reservation_id, lines):
        return self.local.reserve(reservation_id=reservation_id, lines=lines)

    def commit(self, *, reservation_id):
        self.local.commit(reservation_id=reservation_id)

    def commit_many(self, *, reservation_ids):
        return self.local.commit_many(reservation_ids=reservation_ids)

    def release(self, *, reservation_id):
        self.local.release(reservation_id=reservation_id)

    def held_reservations(self, *, older_than):
        # Stock is the monolith's in a parallel run: only its reservations are held anywhere that counts.
        return self.local.held_reservations(older_than=older_than)

    def reservation_status(self, *, reservation_id):
        return self.local.reservation_status(reservation_id=reservation_id)

    def _read(self, method, arguments, call):
        # Errors the port promises are answers to compare; any other local error propagates, as without the shadow.
        local_error = None
        try:
            local = call(self.local)
        except (ApplicationError, ValidationError) as error:
            local, local_error = Raised.from_error(error), error
        self._compare(method, arguments, local, call)
        if local_error is not None:
            raise local_error
        return local

    def _compare(self, method, arguments, local, call):
        try:
            remote = call(self.remote)
        except (ApplicationError, ValidationError) as error:
            remote = Raised.from_error(error)
        except Exception as error:  # whatever went wrong over there, the shopper gets the local answer
            logger.warning("Parallel run: the catalog service failed on %s: %r", method, error)
            difference_record(
                method=method,
                arguments=arguments,
                kind="remote_error",
                local=as_json(local),
                remote=as_json(Raised(type(error).__name__, {"message": str(error)})),
            )
            return
        found = differences(local, remote)
        if found:
            difference_record(
                method=method,
                arguments=arguments,
                kind="mismatch",
                fields=[path for path, _, _ in found],
                local={path: as_json(value) for path, value, _ in found},
                remote={path: as_json(value) for path, _, value in found},
            )


def differences(local, remote, path=""):
    """[(path, local value, remote value)] for each field that differs, e.g. ("products[COF-0001].price", ...).

    DTOs are compared field by field but for IGNORED_FIELDS; lists of DTOs and dicts of them
    item by item, by sku or slug (the collection itself is named too when the items differ, or
    a list's order); an error against a value, or two different errors, is the path "error".
    """
    if isinstance(local, Raised) or isinstance(remote, Raised):
        return [] if local == remote else [(path or "error", local, remote)]
    if isinstance(local, (CategoryInfo, ProductInfo, ProductPage)) and type(local) is type(remote):
        return [
            found
            for field in dataclasses.fields(local)
            if field.name not in IGNORED_FIELDS
            for found in differences(getattr(local, field.name), getattr(remote, field.name), _join(path, field.name))
        ]
    if _is_collection_of_dtos(local) and _is_collection_of_dtos(remote):
        local_items, remote_items = _by_key(local), _by_key(remote)
        local_keys, remote_keys = _keys(local, local_items), _keys(remote, remote_items)
        found = [] if local_keys == remote_keys else [(path or "items", local_keys, remote_keys)]
        for key in local_items.keys() & remote_items.keys():
            found += differences(local_items[key], remote_items[key], f"{path}[{key}]")
        return sorted(found, key=lambda item: item[0])
    return [] if local == remote else [(path or "value", local, remote)]


@dataclasses.dataclass(frozen=True)
class Raised:
    """An error a port call raised, as compared (equal when a caller could not tell the two apart) and stored."""

    error: str
    details: dict

    @classmethod
    def from_error(cls, error):
        if isinstance(error, ValidationError):
            messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            return cls("ValidationError", {"messages": messages})
        return cls(
            type(error).__name__,
            {
                "status": error.status_code,
                "code": error.code,
                "message": error.message,
                "field": error.field,
                "extra": error.extra,
            },
        )


def as_json(value):
    """A port value as JSON-able data (Decimal and datetime are left to the model field's encoder)."""
    if dataclasses.is_dataclass(value):
        return {field.name: as_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    return value


def _join(path, name):
    return f"{path}.{name}" if path else name


def _is_collection_of_dtos(value):
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return items is not None and all(isinstance(item, (CategoryInfo, ProductInfo)) for item in items)


def _keys(collection, items):
    # A list's order is part of the answer (a sorted product page); a dict's (products by sku) is not.
    return list(items) if isinstance(collection, list) else sorted(items)


def _by_key(collection):
    items = collection.values() if isinstance(collection, dict) else collection
    return {getattr(item, "sku", None) or item.slug: item for item in items}
