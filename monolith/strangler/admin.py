"""The monolith's admin pages for a context that a service owns now: read-only, pointing at the service's."""

from django.conf import settings
from django.contrib import admin, messages

from .selectors import current_stage, service_owns


class OwnedByStageAdmin(admin.ModelAdmin):
    """Read-only once `owning_service` owns the context: an edit here would change a copy."""

    owning_service = None  # "catalog" or "payments"

    def _moved(self):
        return service_owns(self.owning_service)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and not self._moved()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._moved()

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._moved()

    def changelist_view(self, request, extra_context=None):
        if self._moved():
            url = getattr(settings, f"{self.owning_service.upper()}_SERVICE_URL").rstrip("/")
            messages.info(
                request,
                f"At stage {current_stage()} the {self.owning_service} service owns the {self.owning_service}: "
                f"this is the monolith's copy, as of the last switch, and read-only. Work in the "
                f"{self.owning_service} service's admin ({url}/admin/) or through /api/{self.owning_service}/.",
            )
        return super().changelist_view(request, extra_context)
