"""The catalog adapter that follows the stage (CATALOG_BACKEND=stage, the default).

At stage 0 the catalog is in this process (LocalCatalog); from stage 1 it is the catalog
service's (RemoteCatalog). The stage is read from the database at every call, so a switch
(`manage.py set_stage`) changes every worker over at once, without a restart. A write holds the
catalog's write gate (monolith/strangler/gate.py) shared before it reads the stage, so none lands
on the old owner after the switch's final copy.
"""
from django.db import transaction

from monolith.strangler import gate
from monolith.strangler.selectors import catalog_is_remote


class StagedCatalog:
    def __init__(self, local, remote):
        # Factories, called when first needed: a monolith that never reaches stage 1 never
        # builds the HTTP adapter (its session, its breaker).
        self._factories = {False: local, True: remote}
        self._adapters = {}

    def _current(self):
        remote = catalog_is_remote()
        if remote not in self._adapters:
            self._adapters[remote] = self._factories[remote]()
        return self._adapters[remote]

    @property
    def shares_transaction(self):
        return self._current().shares_transaction

    # Reads: whoever owns the catalog now.

    def categories(self):
        return self._current().categories()

    def product_page(self, **kwargs):
        return self._current().product_page(**kwargs)

    def product(self, sku):
        return self._current().product(sku)

    def products(self, skus):
        return self._current().products(skus)

    def held_reservations(self, *, older_than):
        return self._current().held_reservations(older_than=older_than)

    # Writes: through the gate, to the owner it finds once inside.

    def reserve(self, **kwargs):
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            return self._current().reserve(**kwargs)

    def commit(self, **kwargs):
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            self._current().commit(**kwargs)

    def commit_many(self, **kwargs):
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            return self._current().commit_many(**kwargs)

    def release(self, **kwargs):
        with transaction.atomic():
            gate.CATALOG.hold_shared()
            self._current().release(**kwargs)
