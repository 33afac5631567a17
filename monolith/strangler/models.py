"""The stage the shop is at: one row, written by `manage.py set_stage` only."""

from django.db import models


class Stage(models.Model):
    """Which contexts live outside the monolith (CONTRACT.md, "Stages").

    0: everything in-process; 1: the catalog service owns the catalog; 2: payments too.
    """

    number = models.PositiveSmallIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"stage {self.number}"


class StageMove(models.Model):
    """One step of `manage.py set_stage` that changed the stage: from which stage to which, when it
    began (the bulk copy) and when the new stage was recorded. The staff page lists the last ones."""

    from_number = models.PositiveSmallIntegerField()
    to_number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    # How long the context's writers were held back for the final copy.
    writes_held_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self):
        return f"stage {self.from_number} → {self.to_number} at {self.finished_at:%Y-%m-%d %H:%M:%S}"

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()
