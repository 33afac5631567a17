"""Read and change the faults the service injects into /api/catalog/ (see middleware.py).

A value set here (PUT /ops/faults/, `manage.py faults set`) wins over the settings' default
(CATALOG_FAULT_* in the environment); clearing it brings the default back. The payments service
has the same thing for /api/payments/ (its ops/faults.py); the catalog's has no delay after a
charge, since it makes none.
"""

import logging
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import DatabaseError

from .models import FaultSettings

logger = logging.getLogger(__name__)

# Each delay on its own stays under the facade's 30 s proxy_read_timeout and gunicorn's 30 s
# timeout, so a demo shows the monolith's own timeout and breaker, not theirs.
MAX_DELAY_MS = 20_000
FIELDS = ("latency_ms", "error_rate")
ROW = 1


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0

    def as_dict(self):
        return asdict(self)


def faults_defaults() -> Faults:
    return Faults(latency_ms=settings.CATALOG_FAULT_LATENCY_MS, error_rate=settings.CATALOG_FAULT_ERROR_RATE)


def faults_overrides() -> dict:
    """The values set in the database, by field; a field not set is left out."""
    row = FaultSettings.objects.filter(pk=ROW).values(*FIELDS).first() or {}
    return {field: value for field, value in row.items() if value is not None}


def faults_get() -> Faults:
    """The faults in force: the database's values over the settings' defaults."""
    return Faults(**{**faults_defaults().as_dict(), **faults_overrides()})


# The catalog is read on every page of the shop: the middleware reads the faults at most once per
# CATALOG_FAULTS_REFRESH_SECONDS in each worker process, not with a query per request. A change
# therefore reaches every worker within that time.
_in_force = (float("-inf"), Faults())


def faults_in_force_or_none() -> Faults:
    """As faults_get(), at most CATALOG_FAULTS_REFRESH_SECONDS old; no faults when the database
    cannot be read: a request that needs the database reports its outage itself."""
    global _in_force
    read_at, faults = _in_force
    now = time.monotonic()
    if now - read_at < settings.CATALOG_FAULTS_REFRESH_SECONDS:
        return faults
    try:
        faults = faults_get()
    except DatabaseError:
        logger.warning("Fault settings unreadable; injecting no faults.", exc_info=True)
        faults = Faults()
    _in_force = (now, faults)
    return faults


def faults_set(**values) -> Faults:
    """Replace every value set: a field given as None, or not given, goes back to its default."""
    unknown = set(values) - set(FIELDS)
    assert not unknown, f"faults_set() takes {', '.join(FIELDS)}; not {', '.join(sorted(unknown))}."
    FaultSettings.objects.update_or_create(pk=ROW, defaults={field: values.get(field) for field in FIELDS})
    return faults_get()


def faults_clear() -> Faults:
    """Back to the settings' defaults (no faults, unless the environment sets some)."""
    return faults_set()
