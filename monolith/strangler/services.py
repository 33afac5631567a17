"""Recording the stage. Only `manage.py set_stage` calls this, holding the catalog write gate."""

from datetime import datetime

from django.utils import timezone

from .models import Stage, StageMove
from .selectors import SINGLETON, current_stage


def stage_record(*, number: int, started_at: datetime | None = None, writes_held_for: float | None = None) -> Stage:
    """Record stage `number`; with started_at (when the move began), also the move, if it was one,
    and for how many seconds the context's writers were held back."""
    before = current_stage()
    stage, _ = Stage.objects.update_or_create(pk=SINGLETON, defaults={"number": number})
    if started_at is not None and before != number:
        StageMove.objects.create(
            from_number=before,
            to_number=number,
            started_at=started_at,
            finished_at=timezone.now(),
            writes_held_ms=None if writes_held_for is None else round(writes_held_for * 1000),
        )
    return stage
