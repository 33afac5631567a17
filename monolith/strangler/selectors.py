"""What the rest of the monolith asks about the stage: always read afresh, never cached.

A cached stage would let a worker reserve stock in its own database after the switch has handed
the catalog to the catalog service. The read is one primary-key lookup.
"""
from .models import Stage

SINGLETON = 1  # the one row's id


def current_stage() -> int:
    """The recorded stage; 0 before anything was recorded (a database made afresh)."""
    number = Stage.objects.filter(pk=SINGLETON).values_list("number", flat=True).first()
    return number or 0


# The stage from which each extracted service owns its context (CONTRACT.md, "Stages").
OWNED_FROM = {"catalog": 1, "payments": 2}


def service_owns(service: str) -> bool:
    """Whether `service` ("catalog" or "payments") owns its context at the recorded stage."""
    return current_stage() >= OWNED_FROM[service]


def catalog_is_remote() -> bool:
    """From stage 1 the catalog service owns the catalog, and the monolith only reads and asks."""
    return service_owns("catalog")
