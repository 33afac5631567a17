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
