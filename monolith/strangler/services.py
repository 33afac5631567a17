"""Recording the stage. Only `manage.py set_stage` calls this, holding the catalog write gate."""
from .models import Stage
from .selectors import SINGLETON


def stage_record(*, number: int) -> Stage:
    stage, _ = Stage.objects.update_or_create(pk=SINGLETON, defaults={"number": number})
    return stage
