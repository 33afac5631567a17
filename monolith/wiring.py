"""Wiring: the one place that chooses which adapter serves each port.

The rest of the monolith asks here for the catalog and the payments port and never knows which
adapter is live (branch by abstraction). A setting names the adapter, read when a port is first
asked for, at start-up; the adapter is then kept for the life of the process, so that each keeps
its connections, breaker and cache:

    CATALOG_BACKEND   "stage" (the default: whoever owns the catalog at the recorded stage),
                      "local", "remote", or "shadow" (a parallel run)
    PAYMENTS_BACKEND  "stage" (the default), "local" or "remote"

For tests, two ways to change what is served (never by reaching into this module's state):

    with wiring.override():                      # adapters built afresh from the settings as they
        ...                                      # are now (a test's CATALOG_SERVICE_URL, say)
    with wiring.override(payments=Refusing()):   # this adapter for the port, inside the block
        ...
    wiring.reset()                               # forget the adapters built so far (a new process)

Outside the block, the adapters served before it are served again.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from monolith.adapters.catalog_http import RemoteCatalog
from monolith.adapters.catalog_local import LocalCatalog
from monolith.adapters.catalog_shadow import ShadowCatalog
from monolith.adapters.catalog_staged import StagedCatalog
from monolith.adapters.payments_http import RemotePayments
from monolith.adapters.payments_local import LocalPayments
from monolith.adapters.payments_staged import StagedPayments
from monolith.ports.catalog import CatalogPort
from monolith.ports.payments import PaymentsPort

# Each setting's values and how each adapter is built. Building one opens nothing: an HTTP
# adapter connects on its first call.
CATALOG_ADAPTERS: dict[str, Callable[[], CatalogPort]] = {
    "stage": lambda: StagedCatalog(local=LocalCatalog, remote=RemoteCatalog),
    "local": LocalCatalog,
    "remote": RemoteCatalog,
    "shadow": lambda: ShadowCatalog(local=LocalCatalog(), remote=RemoteCatalog()),
}
PAYMENTS_ADAPTERS: dict[str, Callable[[], PaymentsPort]] = {
    "stage": lambda: StagedPayments(local=LocalPayments, remote=RemotePayments),
    "local": LocalPayments,
    "remote": RemotePayments,
}
PORTS = {"catalog": ("CATALOG_BACKEND", CATALOG_ADAPTERS), "payments": ("PAYMENTS_BACKEND", PAYMENTS_ADAPTERS)}

_built = {}  # (port, setting's value) -> adapter: one per value, so a test's setting gets its own
_overrides = {}  # port -> adapter, inside override()
_lock = threading.Lock()  # gunicorn's threads: two first requests build one adapter, not two


def get_catalog() -> CatalogPort:
    return _adapter("catalog")


def get_payments() -> PaymentsPort:
    return _adapter("payments")


def _adapter(port):
    if port in _overrides:
        return _overrides[port]
    setting, adapters = PORTS[port]
    name = getattr(settings, setting)
    if name not in adapters:
        raise ImproperlyConfigured(f"{setting} must be one of {sorted(adapters)}, not {name!r}.")
    with _lock:
        if (port, name) not in _built:
            _built[(port, name)] = adapters[name]()
        return _built[(port, name)]


def reset() -> None:
    """Forget every adapter built so far: the next call builds them from the settings as they are then."""
    with _lock:
        _built.clear()


@contextmanager
def override(*, catalog: CatalogPort | None = None, payments: PaymentsPort | None = None) -> Iterator[None]:
    """Inside the block, serve the adapters given, and build the others afresh from the settings.

    On the way out, whatever was served before the block is served again.
    """
    global _built, _overrides
    saved = _built, _overrides
    _built = {}
    _overrides = {
        port: adapter for port, adapter in (("catalog", catalog), ("payments", payments)) if adapter is not None
    }
    try:
        yield
    finally:
        _built, _overrides = saved
