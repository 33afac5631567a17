"""Staff manage categories and products here, while the catalog is the monolith's (stage 0)."""

from django.contrib import admin

from monolith.strangler.admin import OwnedByStageAdmin

from .models import Category, Product, StockReservation, StockReservationLine


class CatalogOwnerAdmin(OwnedByStageAdmin):
    owning_service = "catalog"


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
