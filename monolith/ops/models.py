"""The faults to inject into the in-process catalog's reads, in the database so that every gunicorn
worker sees the same ones."""

from django.db import models


class CatalogFaultSettings(models.Model):
    """One row (pk 1). A null field has not been set: no fault."""

    latency_ms = models.PositiveIntegerField(null=True)
    error_rate = models.FloatField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "catalog fault settings"

    def __str__(self):
        return "Catalog fault settings"
