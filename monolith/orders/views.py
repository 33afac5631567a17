"""Checkout and order pages."""

import uuid

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from monolith.cart.selectors import cart_get
from monolith.cart.services import cart_clear
from monolith.core.errors import ApplicationError, NotFound
from monolith.core.forms import add_application_error

from . import selectors, services
from .forms import CheckoutForm, PayForm
from .owner import Owner


def _new_key():
    return uuid.uuid4().hex


# Checkout and paying are not in the request's transaction: the order and its payment attempt
# are committed before the attempt is delivered (outbox.payment_deliver).
@transaction.non_atomic_requests
def checkout(request):
    cart = cart_get(session=request.session)
    owner = Owner.from_request(request)
    if not cart.lines:
        # A second click of "Place order" that arrives once the first has emptied the cart (the cart
        # is kept on the server): show the order the first click placed, not an empty cart.
        placed = (
            request.method == "POST"
            and selectors.order_list(owner=owner)
            .filter(idempotency_key=f"checkout:{request.POST.get('idempotency_key', '')}")
            .first()
        )
        if placed:
            return redirect(placed)
        messages.info(request, "Your cart is empty.")
        return redirect("cart:detail")
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            order = _place_and_pay(request, form, cart, owner)
            if order is not None:
                return redirect(order)
    else:
        user = request.user
        form = CheckoutForm(
            initial={
                "idempotency_key": _new_key(),
                "email": user.email if user.is_authenticated else "",
                "name": user.get_full_name() if user.is_authenticated else "",
            }
        )
    return render(request, "orders/checkout.html", {"form": form, "cart": cart}, status=400 if form.errors else 200)


def _place_and_pay(request, form, cart, owner):
    """Check out (services.checkout); on a problem, put it on the form and return None."""
    try:
        result = services.checkout(
            owner=owner,
            email=form.cleaned_data["email"],
            shipping=form.shipping(),
            lines=[{"sku": line.product.sku, "quantity": line.quantity} for line in cart.lines],
            card=form.card(),
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except ApplicationError as error:
        add_application_error(form, error)
        return None
    cart_clear(session=request.session)
    _say_how_it_went(request, result.order, result.payment, retry_hint=" Try another card below.")
    return result.order


def _say_how_it_went(request, order, payment, retry_hint=""):
    if payment.status == "succeeded":
        messages.success(request, f"Thank you! Order {order.number} is paid.")
    elif payment.status == "failed":
        messages.error(request, f"Your card was declined ({payment.failure_code.replace('_', ' ')}).{retry_hint}")
    else:
        messages.info(
            request,
            f"Order {order.number} is placed and your payment is on its way: this page "
            "updates when it is settled. Nothing more to do.",
        )


def _order_for(request, number):
    return selectors.order_get(owner=Owner.from_request(request), number=number)


def order_list(request):
    orders = selectors.order_list(owner=Owner.from_request(request))
    return render(request, "orders/order_list.html", {"orders": orders})


def order_detail(request, number, pay_form=None, status=200):
    try:
        order = _order_for(request, number)
    except NotFound:
        return render(request, "404.html", {"message": f"We have no order {number} of yours."}, status=404)
    if pay_form is None and order.can_pay:
        pay_form = PayForm(initial={"idempotency_key": _new_key()})
    return render(request, "orders/order_detail.html", {"order": order, "pay_form": pay_form}, status=status)


@require_POST
@transaction.non_atomic_requests
def order_pay(request, number):
    try:
        order = _order_for(request, number)
    except NotFound:
        return order_detail(request, number)
    form = PayForm(request.POST)
    if form.is_valid():
        try:
            result = services.order_pay(
                order=order, card=form.card(), idempotency_key=form.cleaned_data["idempotency_key"]
            )
        except ApplicationError as error:
            if error.code != "order_not_payable":
                add_application_error(form, error)
            else:
                # Paid or cancelled meanwhile (in another tab?): the order page says what it is now.
                messages.error(request, error.message)
                return redirect(order)
        else:
            _say_how_it_went(request, order, result.payment)
            return redirect(order)
    return order_detail(request, number, pay_form=form, status=400)


@require_POST
def order_cancel(request, number):
    try:
        order = services.order_cancel(order=_order_for(request, number))
    except NotFound:
        return order_detail(request, number)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("orders:order-detail", number=number)
    messages.info(request, f"Order {order.number} is cancelled.")
    return redirect(order)
