"""Form helpers shared by the HTML views."""

from django import forms
from django.core.exceptions import ValidationError

from .cards import validate_card


class CardForm(forms.Form):
    """A test card, checked by the same rules as the API's CardSerializer."""

    card_number = forms.CharField(
        label="Card number",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "4242 4242 4242 4242"}
        ),
    )
    exp_month = forms.IntegerField(label="Expiry month", min_value=1, max_value=12, initial=12)
    exp_year = forms.IntegerField(label="Expiry year", min_value=2000, max_value=2100, initial=2030)
    cvc = forms.CharField(label="CVC", max_length=4, initial="123")
    # One key per rendered form: a double submit replays instead of charging twice.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    FIELD_NAMES = {"number": "card_number", "exp_month": "exp_month", "exp_year": "exp_year", "cvc": "cvc"}

    def clean(self):
        data = super().clean()
        if all(data.get(name) is not None for name in ("card_number", "exp_month", "exp_year", "cvc")):
            try:
                data["card_number"] = validate_card(
                    number=data["card_number"], exp_month=data["exp_month"], exp_year=data["exp_year"], cvc=data["cvc"]
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(self.FIELD_NAMES[field], message)
        return data

    def card(self):
        data = self.cleaned_data
        return {
            "number": data["card_number"],
            "exp_month": data["exp_month"],
            "exp_year": data["exp_year"],
            "cvc": data["cvc"],
        }


def add_application_error(form, error):
    """Show a service's ApplicationError on the form: on its field when the form has it."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
