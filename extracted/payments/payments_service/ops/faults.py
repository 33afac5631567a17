"""Read and change the faults the service injects into /api/payments/ (see middleware.py).

A value set here (PUT /ops/faults/, `manage.py faults set`) wins over the settings' default
(PAYMENTS_FAULT_* in the environment); clearing it brings the default back.
"""

import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import DatabaseError

from .models import FaultSettings

logger = logging.getLogger(__name__)

# Each delay on its own stays under the facade's 30 s proxy_read_timeout and gunicorn's 30 s
# timeout, so a demo shows the client's own timeout, not theirs.
MAX_DELAY_MS = 20_000
FIELDS = ("latency_ms", "error_rate", "timeout_after_charge_ms")
ROW = 1


@dataclass(frozen=True)
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_after_charge_ms: int = 0

    def as_dict(self):
        return asdict(self)


def faults_defaults() -> Faults:
    return Faults(
        latency_ms=settings.PAYMENTS_FAULT_LATENCY_MS,
        error_rate=settings.PAYMENTS_FAULT_ERROR_RATE,
        timeout_after_charge_ms=settings.PAYMENTS_FAULT_TIMEOUT_AFTER_CHARGE,
    )


def faults_overrides() -> dict:
    """The values set in the database, by field; a field not set is left out."""
    row = FaultSettings.objects.filter(pk=ROW).values(*FIELDS).first() or {}
    return {field: value for field, value in row.items() if value is not None}


def faults_get() -> Faults:
    """The faults in force: the database's values over the settings' defaults."""
    return Faults(**{**faults_defaults().as_dict(), **faults_overrides()})


def faults_in_force_or_none() -> Faults:
    """As faults_get(), but no faults when the database cannot be read: a request that
    needs the database will report its outage itself, and one that does not must not fail here."""
    try:
        return faults_get()
    except DatabaseError:
        logger.warning("Fault settings unreadable; injecting no faults.", exc_info=True)
        return Faults()


def faults_set(**values) -> Faults:
    """Replace every value set: a field given as None, or not given, goes back to its default."""
    unknown = set(values) - set(FIELDS)
    assert not unknown, f"faults_set() takes {', '.join(FIELDS)}; not {', '.join(sorted(unknown))}."
    FaultSettings.objects.update_or_create(pk=ROW, defaults={field: values.get(field) for field in FIELDS})
    return faults_get()


def faults_clear() -> Faults:
    """Back to the settings' defaults (no faults, unless the environment sets some)."""
    return faults_set()
