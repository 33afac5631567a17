"""Staff read the parallel run's differences here; ShadowCatalog writes them, nobody edits them."""

from django.contrib import admin

from .models import ShadowDifference


@admin.register(ShadowDifference)
class ShadowDifferenceAdmin(admin.ModelAdmin):
    list_display = ["created_at", "method", "kind", "fields", "request_id"]
    list_filter = ["kind", "method"]
    search_fields = ["request_id", "method"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "method",
        "arguments",
        "kind",
        "fields",
        "local_value",
        "remote_value",
        "request_id",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
