"""A difference between the local catalog and the catalog service, as ShadowCatalog found it."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class ShadowDifference(models.Model):
    class Kind(models.TextChoices):
        MISMATCH = "mismatch", "Mismatch"  # both answered, differently
        REMOTE_ERROR = "remote_error", "Remote error"  # the catalog service did not answer usefully

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    method = models.CharField(max_length=32, help_text="The catalog port's method, e.g. product_page.")
    arguments = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    fields = models.JSONField(default=list, blank=True, help_text="What differs, e.g. products[COF-0001].price.")
    # For a mismatch, the differing fields' values on each side; for a remote error, the local
    # answer and the remote error. Cut short when large (parallel_run.services.MAX_VALUE_CHARS).
    local_value = models.JSONField(encoder=DjangoJSONEncoder, null=True, blank=True)
    remote_value = models.JSONField(encoder=DjangoJSONEncoder, null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["method", "kind"])]

    def __str__(self):
        return f"{self.get_kind_display()} in {self.method} at {self.created_at:%Y-%m-%d %H:%M:%S}"
