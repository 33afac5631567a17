"""The product query language: the monolith's FilterSet, copied, so a query string means the same on both sides."""

import datetime
import re

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from .models import Product, StockReservation

MAX_BATCH_SKUS = 100


class SkuListFilter(django_filters.BaseCSVFilter, django_filters.CharFilter):
    """`sku=A,B,C`: a batch read of up to MAX_BATCH_SKUS products."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(sku__in=value)


class StrictBooleanField(forms.NullBooleanField):
    """true/false or 1/0; anything else is an error, not "no filter"."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "True", "1"):
            return True
        if value in ("false", "False", "0"):
            return False
        raise forms.ValidationError("Use true or false (or 1 or 0).", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


PRICE_PATTERN = r"^\d{1,10}(\.\d{1,2})?$"


class PriceField(forms.DecimalField):
    """A plain amount such as 12 or 12.50: no sign, no exponent, at most two decimals."""

    def to_python(self, value):
        if value not in self.empty_values and not re.fullmatch(PRICE_PATTERN, str(value).strip()):
            raise forms.ValidationError("Enter an amount such as 12 or 12.50.", code="invalid")
        return super().to_python(value)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": PRICE_PATTERN})
class PriceFilter(django_filters.NumberFilter):
    field_class = PriceField


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    q = django_filters.CharFilter(method="search", help_text="Text in the name, sku or description.")
    min_price = PriceFilter(field_name="price", lookup_expr="gte", min_value=0, max_digits=12, decimal_places=2)
    max_price = PriceFilter(field_name="price", lookup_expr="lte", min_value=0, max_digits=12, decimal_places=2)
    # Django's NullBooleanSelect reads "1" as "no filter" and django-filter's
    # BooleanWidget reads anything unknown as "no filter": both ignore ?in_stock=yes.
    in_stock = StrictBooleanFilter(
        method="filter_in_stock",
        help_text="true (or 1): only products in stock; false (or 0): only those out of stock.",
    )
    sku = SkuListFilter(help_text=f"Comma-separated skus, at most {MAX_BATCH_SKUS}.")
    ordering = django_filters.OrderingFilter(
        fields=(("price", "price"), ("name", "name")),
        help_text="price, -price, name or -name.",
    )

    class Meta:
        model = Product
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(sku__iexact=value) | Q(description__icontains=value))

    def filter_in_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)

    def is_valid(self):
        valid = super().is_valid()
        skus = self.form.cleaned_data.get("sku") if valid else None
        if skus and len(skus) > MAX_BATCH_SKUS:
            self.form.add_error("sku", f"Ask for at most {MAX_BATCH_SKUS} skus at once.")
            return False
        ordering = self.data.get("ordering")
        if valid and ordering and "" in ordering.split(","):
            self.form.add_error("ordering", "Name one or more of price, -price, name, -name, separated by commas.")
            return False
        return valid

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # A stable order whatever was asked, so pagination never repeats or skips a row.
        return queryset.order_by(*queryset.query.order_by, "sku") if queryset.query.order_by else queryset


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, in UTC: ISO 8601 allows an offset of up to 24 hours, which PostgreSQL
    refuses beyond 15:59 (a database error, not a 400); in UTC the offset is gone."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:  # past year 9999 or before year 1 once in UTC: the last or first moment there is
            bound = datetime.datetime.max if value.year == datetime.MAXYEAR else datetime.datetime.min
            return bound.replace(tzinfo=datetime.UTC)


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class StockReservationFilter(django_filters.FilterSet):
    """The stock reservation list's query: `status` and `created_before`, each refused with a 400 when malformed."""

    status = django_filters.ChoiceFilter(
        choices=StockReservation.Status.choices, help_text="held, committed or released."
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="ISO 8601 date and time: only reservations made before it."
    )

    class Meta:
        model = StockReservation
        fields = []
