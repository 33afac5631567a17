"""Staff see orders, their lines and payment attempts here (read-only: orders change through checkout)."""

from django.contrib import admin

from .models import Order, OrderLine, OrderPayment


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "name", "unit_price", "quantity"]


class OrderPaymentInline(admin.TabularInline):
    model = OrderPayment
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "payment_id",
        "idempotency_key",
        "status",
        "failure_code",
        "card_last4",
        "deliveries",
        "next_delivery_at",
        "last_error",
        "created_at",
        "settled_at",
    ]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "email", "status", "total", "currency", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "email"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, OrderPaymentInline]
    readonly_fields = [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False
