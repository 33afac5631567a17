"""What the rest of the monolith asks about the stage: always read afresh, never cached.

A cached stage would let a worker reserve stock in its own database after the switch has handed
the catalog to the catalog service. The read is one primary-key lookup. Who owns what at which
stage is the stage table's (monolith/strangler/stages.py).
"""

from . import stages
from .models import Stage

SINGLETON = 1  # the one row's id


def current_stage() -> int:
    """The recorded stage; 0 before anything was recorded (a database made afresh)."""
    number = Stage.objects.filter(pk=SINGLETON).values_list("number", flat=True).first()
    return number or 0


def service_owns(context: str) -> bool:
    """Whether the service of `context` ("catalog" or "payments") owns it at the recorded stage."""
    return stages.owner(context, current_stage()) != stages.MONOLITH


def catalog_is_remote() -> bool:
    """From stage 1 the catalog service owns the catalog, and the monolith only reads and asks."""
    return service_owns("catalog")
