"""Cart pages: show the cart, update and remove its lines (POST, CSRF-protected).

Adding comes from a product page, so the storefront serves that form (monolith/storefront/views.py).
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from monolith.core.errors import ApplicationError

from . import services
from .forms import CartRemoveForm, CartUpdateForm
from .selectors import cart_get


def cart_detail(request):
    cart = cart_get(session=request.session)
    # The page tells the shopper that products no longer sold were taken out of
    # the cart: take them out of the session too, or the header's count keeps
    # them and the note comes back on every visit.
    for sku in cart.missing:
        services.cart_remove(session=request.session, sku=sku)
    return render(request, "cart/cart.html", {"cart": cart})


@require_POST
def cart_update(request):
    form = CartUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.cart_update(session=request.session, **form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Cart updated.")
    else:
        for field, errors in form.errors.items():
            messages.error(request, f"{field.capitalize()}: {' '.join(errors)}")
    return redirect("cart:detail")


@require_POST
def cart_remove(request):
    form = CartRemoveForm(request.POST)
    if form.is_valid():
        services.cart_remove(session=request.session, **form.cleaned_data)
        messages.success(request, "Removed from your cart.")
    return redirect("cart:detail")
