"""Cart forms: what the product page and the cart page post."""

from django import forms

from .services import MAX_QUANTITY

SKU_FIELD = dict(max_length=32, widget=forms.HiddenInput)


class CartAddForm(forms.Form):
    sku = forms.CharField(**SKU_FIELD)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


class CartUpdateForm(forms.Form):
    sku = forms.CharField(**SKU_FIELD)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY, help_text="0 removes the line.")


class CartRemoveForm(forms.Form):
    sku = forms.CharField(**SKU_FIELD)
