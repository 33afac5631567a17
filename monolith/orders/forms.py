"""Checkout and payment forms."""

from django import forms

from monolith.core.forms import CardForm


class CheckoutForm(CardForm):
    # The order's column holds 254 characters; the field's own limit is 320.
    email = forms.EmailField(max_length=254)
    name = forms.CharField(label="Full name", max_length=100)
    line1 = forms.CharField(label="Address", max_length=200)
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    city = forms.CharField(max_length=100)
    postal_code = forms.CharField(label="Postal code", max_length=20)
    country = forms.RegexField(
        r"^[A-Za-z]{2}$",
        max_length=2,
        initial="DE",
        help_text="Two letters, e.g. DE, FR, NL.",
        error_messages={"invalid": "Use the two-letter country code, e.g. DE."},
    )

    field_order = [
        "email",
        "name",
        "line1",
        "line2",
        "city",
        "postal_code",
        "country",
        "card_number",
        "exp_month",
        "exp_year",
        "cvc",
    ]

    def shipping_fields(self):
        return [self[name] for name in ("email", "name", "line1", "line2", "city", "postal_code", "country")]

    def card_fields(self):
        return [self[name] for name in ("card_number", "exp_month", "exp_year", "cvc")]

    def shipping(self):
        return {name: self.cleaned_data[name] for name in ("name", "line1", "line2", "city", "postal_code", "country")}


class PayForm(CardForm):
    """Pay again after a declined card."""
