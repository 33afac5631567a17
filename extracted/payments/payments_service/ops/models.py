"""The faults to inject, in the database so that every gunicorn worker sees the same ones."""

from django.db import models


class FaultSettings(models.Model):
    """One row (pk 1). A null field has not been set: the settings' default applies."""

    latency_ms = models.PositiveIntegerField(null=True)
    error_rate = models.FloatField(null=True)
    timeout_after_charge_ms = models.PositiveIntegerField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "fault settings"

    def __str__(self):
        return "Fault settings"
