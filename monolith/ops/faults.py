"""The fault switch of the monolith's own catalog: latency and failures injected into its reads.

At stage 0 the catalog is code in the monolith, so the failure exercises (shopctl/exercise.py)
cannot slow or stop a catalog service: they slow or fail the catalog context's reads here instead
(monolith/catalog/selectors.py calls inject() before each), which is what the catalog service's
/ops/faults/ does to /api/catalog/ from stage 1 on. The same two fields, the same store (one
database row every worker reads) and the same refresh as the services' ops/faults.py.

Off twice over: a monolith started without CATALOG_FAULT_SWITCH=on never reads it (no query, no
fault: a production shop has no switch), and with it on there are no faults until `manage.py
catalog_faults set` (monolith/ops/management/commands/) sets some. No URL reaches it, through the
facade or not, so nobody can slow a shop from outside.
"""

import logging
import random
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import DatabaseError

from monolith.ports.catalog import CatalogUnavailable

from .models import CatalogFaultSettings

logger = logging.getLogger(__name__)

# As the services' MAX_DELAY_MS: under gunicorn's and the facade's 30 s timeouts.
MAX_DELAY_MS = 20_000
FIELDS = ("latency_ms", "error_rate")
ROW = 1
# Catalog reads happen on every page: each worker reads the row at most once a second, not with a
# query per read; a change reaches every worker within that time (the services' default refresh).
REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0

    def as_dict(self):
        return asdict(self)


def faults_get() -> Faults:
    row = CatalogFaultSettings.objects.filter(pk=ROW).values(*FIELDS).first() or {}
    return Faults(**{field: value for field, value in row.items() if value is not None})


def faults_set(**values) -> Faults:
    """Replace every value: a field not given goes back to no fault."""
    unknown = set(values) - set(FIELDS)
    assert not unknown, f"faults_set() takes {', '.join(FIELDS)}; not {', '.join(sorted(unknown))}."
    CatalogFaultSettings.objects.update_or_create(pk=ROW, defaults={field: values.get(field) for field in FIELDS})
    return faults_get()


_in_force = (float("-inf"), Faults())


def faults_in_force() -> Faults:
    """As faults_get(), at most REFRESH_SECONDS old; none when the row cannot be read (the read
    that follows reports the database's outage itself)."""
    global _in_force
    read_at, faults = _in_force
    now = time.monotonic()
    if now - read_at < REFRESH_SECONDS:
        return faults
    try:
        faults = faults_get()
    except DatabaseError:
        logger.warning("Catalog fault settings unreadable; injecting no faults.", exc_info=True)
        faults = Faults()
    _in_force = (now, faults)
    return faults


def inject() -> None:
    """Before a catalog read: sleep latency_ms, then fail a share error_rate of reads as a catalog
    out of reach does (CatalogUnavailable: the "temporarily unavailable" page, or the API's 503)."""
    if not settings.CATALOG_FAULT_SWITCH:
        return
    faults = faults_in_force()
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    # random() is in [0, 1): a rate of 0 never fires, a rate of 1 always does.
    if faults.error_rate and random.random() < faults.error_rate:
        raise CatalogUnavailable("Fault injected into the catalog for an exercise: try again.")
