"""The catalog adapter that follows the stage (CATALOG_BACKEND=stage, the default).

The catalog's owner at the recorded stage (monolith/strangler/stages.py) serves each call: the
monolith at stage 0 (LocalCatalog), the catalog service from stage 1 (RemoteCatalog). The stage is
read from the database at every call, so a switch (`manage.py set_stage`) changes every worker
over at once, without a restart. A write holds the catalog's write gate (monolith/strangler/gate.py)
shared before it reads the stage, so none lands on the old owner after the switch's final copy.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from monolith.ports.catalog import CatalogPort, CategoryInfo, ProductInfo, ProductPage, ReservedLine, StockCommits
from monolith.strangler import gate
from monolith.strangler.selectors import service_owns


class StagedCatalog:
    def __init__(self, *, local: Callable[[], CatalogPort], remote: Callable[[], CatalogPort]):
        # Factories, called when first needed: a monolith that never reaches stage 1 never
        # builds the HTTP adapter (its session, its breaker).
        self._factories = {False: local, True: remote}
        self._adapters = {}

    def _current(self) -> CatalogPort:
        remote = service_owns("catalog")
        if remote not in self._adapters:
            self._adapters[remote] = self._factories[remote]()
        return self._adapters[remote]

    @property
    def shares_transaction(self) -> bool:
        return self._current().shares_transaction

    # Reads: whoever owns the catalog now.

    def categories(self) -> list[CategoryInfo]:
        return self._current().categories()

    def product_page(self, *, filters: dict, page: int | str, per_page: int) -> ProductPage:
        return self._current().product_page(filters=filters, page=page, per_page=per_page)

    def product(self, sku: str) -> ProductInfo:
        return self._current().product(sku)

    def products(self, skus: list[str]) -> dict[str, ProductInfo]:
        return self._current().products(skus)

    def held_reservations(self, *, older_than: datetime) -> list[str]:
        return self._current().held_reservations(older_than=older_than)

    def reservation_status(self, *, reservation_id: str) -> str | None:
        return self._current().reservation_status(reservation_id=reservation_id)

    # Writes: through the gate, to the owner it finds once inside.

    def reserve(self, *, reservation_id: str, lines: list[dict]) -> dict[str, ReservedLine]:
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            return self._current().reserve(reservation_id=reservation_id, lines=lines)

    def commit(self, *, reservation_id: str) -> None:
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            self._current().commit(reservation_id=reservation_id)

    def commit_many(self, *, reservation_ids: list[str]) -> StockCommits:
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            return self._current().commit_many(reservation_ids=reservation_ids)

    def release(self, *, reservation_id: str) -> None:
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            self._current().release(reservation_id=reservation_id)
