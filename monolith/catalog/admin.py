"""Staff manage categories and products here, while the catalog is the monolith's (stage 0)."""
from django.conf import settings
from django.contrib import admin, messages

from monolith.strangler.selectors import catalog_is_remote, current_stage

from .models import Category, Product, StockReservation, StockReservationLine


class CatalogOwnerAdmin(admin.ModelAdmin):
    """Read-only once the catalog service owns the catalog: an edit here would change a copy."""

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not catalog_is_remote()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not catalog_is_remote()

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not catalog_is_remote()

    def changelist_view(self, request, extra_context=None):
        if catalog_is_remote():
            messages.info(
                request,
                f"At stage {current_stage()} the catalog service owns the catalog: this is the monolith's copy, "
                f"as of the last switch, and read-only. Edit the catalog in the catalog service's admin "
                f"({settings.CATALOG_SERVICE_URL.rstrip('/')}/admin/) or through /api/catalog/.",
            )
        return super().changelist_view(request, extra_context)


@admin.register(Category)
class CategoryAdmin(CatalogOwnerAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


@admin.register(Product)
class ProductAdmin(CatalogOwnerAdmin):
    list_display = ["sku", "name", "category", "price", "currency", "stock", "is_active", "updated_at"]
    list_filter = ["is_active", "category"]
    list_editable = ["price", "stock", "is_active"]
    list_select_related = ["category"]
    search_fields = ["sku", "name"]
    prepopulated_fields = {"slug": ["name"]}


class StockReservationLineInline(admin.TabularInline):
    model = StockReservationLine
    raw_id_fields = ["product"]
    extra = 0


@admin.register(StockReservation)
class StockReservationAdmin(CatalogOwnerAdmin):
    list_display = ["reservation_id", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["reservation_id"]
    inlines = [StockReservationLineInline]
