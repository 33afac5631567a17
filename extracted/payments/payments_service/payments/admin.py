"""Staff see payments here and refund them (through the same service as the API)."""

from django.contrib import admin, messages

from payments_service.core.errors import ApplicationError

from . import services
from .models import IdempotencyKey, Payment, Refund


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ["id", "amount", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order_number",
        "amount",
        "currency",
        "status",
        "failure_code",
        "amount_refunded",
        "card_last4",
        "created_at",
    ]
    list_filter = ["status", "failure_code"]
    search_fields = ["order_number", "id"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    inlines = [RefundInline]
    actions = ["refund_in_full"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Refund what is left of the selected payments")
    def refund_in_full(self, request, queryset):
        for payment in queryset:
            try:
                services.refund_create(payment_id=payment.pk, reason=f"Refunded by {request.user} in the admin")
            except ApplicationError as error:
                self.message_user(request, f"{payment.order_number}: {error.message}", messages.WARNING)
            else:
                self.message_user(request, f"{payment.order_number}: refunded.", messages.SUCCESS)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "response_status", "created_at"]
    search_fields = ["key"]
    readonly_fields = ["key", "fingerprint", "response_status", "response_body", "created_at"]
