"""`manage.py sweep_reservations` at stage 0 (LocalCatalog): abandoned orders cancelled, orphan reservations released."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connections
from django.utils import timezone

from monolith.catalog import services as catalog_services
from monolith.catalog.models import Product, StockReservation
from monolith.orders.models import Order, OrderPayment
from monolith.orders.owner import Owner
from monolith.orders.services import order_place
from tests.conftest import SHIPPING

AN_HOUR_AGO = timezone.now() - timedelta(hours=1)


def sweep(*args):
    out = StringIO()
    call_command("sweep_reservations", *args, stdout=out)
    return out.getvalue()


def stock(sku="COF-1"):
    return Product.objects.get(sku=sku).stock


def reservation_status(reservation_id):
    return StockReservation.objects.get(reservation_id=reservation_id).status


def age(order=None, reservation_id=None):
    """Make an order (and its reservation) or a lone reservation an hour old: update() leaves auto_now alone."""
    if order is not None:
        Order.objects.filter(pk=order.pk).update(updated_at=AN_HOUR_AGO)
        reservation_id = order.reservation_id
    StockReservation.objects.filter(reservation_id=reservation_id).update(created_at=AN_HOUR_AGO)


@pytest.fixture
def beans(make_product):
    return make_product("COF-1", stock=10)


@pytest.fixture
def pending_order(beans, place_order):
    """An order for 3 of COF-1 awaiting payment, placed an hour ago."""
    order = Order.objects.get(number=place_order([{"sku": "COF-1", "quantity": 3}])["number"])
    age(order)
    return order


def test_an_abandoned_order_is_cancelled_and_its_stock_goes_back(pending_order):
    assert stock() == 7

    output = sweep()

    assert f"Cancelled order {pending_order.number}" in output
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.CANCELLED
    assert reservation_status(pending_order.reservation_id) == "released"
    assert stock() == 10


def test_the_sweep_is_idempotent(pending_order):
    sweep()

    output = sweep()

    assert "Done: 0 step(s)" in output
    assert stock() == 10


def test_an_order_younger_than_the_ttl_is_left_alone(beans, place_order):
    number = place_order([{"sku": "COF-1", "quantity": 3}])["number"]

    assert "Done: 0 step(s), older than 30 minute(s)." in sweep()
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT
    assert stock() == 7


def test_the_ttl_comes_from_the_option_or_the_setting(pending_order, settings):
    assert "Done: 0 step(s)" in sweep("--older-than", "90")
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING_PAYMENT

    settings.RESERVATION_TTL_MINUTES = 45  # read when the command builds its options
    assert "older than 45 minute(s)" in sweep()
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.CANCELLED


def test_a_dry_run_says_what_it_would_do_and_does_nothing(pending_order, beans):
    catalog_services.stock_reserve(reservation_id="order-GONE234567-1", lines=[{"sku": "COF-1", "quantity": 2}])
    age(reservation_id="order-GONE234567-1")

    output = sweep("--dry-run")

    assert f"Would cancel order {pending_order.number}" in output
    assert "Would release reservation order-GONE234567-1 (no such order)" in output
    assert "Dry run: would do 2 step(s)" in output
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING_PAYMENT
    assert reservation_status("order-GONE234567-1") == "held"
    assert stock() == 5


def test_an_orphan_reservation_is_released(beans):
    catalog_services.stock_reserve(reservation_id="order-GONE234567-1", lines=[{"sku": "COF-1", "quantity": 2}])
    age(reservation_id="order-GONE234567-1")

    output = sweep()

    assert "Released reservation order-GONE234567-1 (no such order)" in output
    assert reservation_status("order-GONE234567-1") == "released"
    assert stock() == 10


def test_a_held_reservation_of_an_order_not_awaiting_payment_is_released(pending_order):
    Order.objects.filter(pk=pending_order.pk).update(
        status=Order.Status.CANCELLED
    )  # as a crash mid-cancel might leave it

    output = sweep()

    assert f"Released reservation {pending_order.reservation_id} (order {pending_order.number} is cancelled)" in output
    assert stock() == 10


def test_a_paid_orders_reservation_is_sold_never_released_and_the_relay_commits_it(pending_order):
    # Paid with the catalog in another process: the commit is the relay's, and it has not run yet.
    Order.objects.filter(pk=pending_order.pk).update(status=Order.Status.PAID, stock_commit_due=True)

    assert "Done: 0 step(s)" in sweep()
    assert reservation_status(pending_order.reservation_id) == "held"
    assert stock() == 7

    call_command("payments_relay", "--once", stdout=StringIO())

    assert reservation_status(pending_order.reservation_id) == "committed"
    assert Order.objects.get(pk=pending_order.pk).stock_commit_due is False
    assert stock() == 7


def test_a_young_orphan_and_a_reservation_that_is_no_orders_are_left_alone(beans):
    catalog_services.stock_reserve(reservation_id="order-YOUNG23456-1", lines=[{"sku": "COF-1", "quantity": 1}])
    catalog_services.stock_reserve(reservation_id="manual-hold", lines=[{"sku": "COF-1", "quantity": 1}])
    age(reservation_id="manual-hold")

    assert "Done: 0 step(s)" in sweep()
    assert reservation_status("order-YOUNG23456-1") == reservation_status("manual-hold") == "held"


def test_an_order_whose_payment_is_still_being_settled_is_left_alone(pending_order):
    OrderPayment.objects.create(
        order=pending_order,
        idempotency_key="k",
        payment_id="6f1c8c3e-3f3a-4b7e-9f0e-1c2d3e4f5a6b",
        status="pending",
        card_last4="4242",
    )
    age(pending_order)

    assert "Done: 0 step(s)" in sweep()
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING_PAYMENT


@pytest.mark.parametrize("value", ["-1", "abc"])
def test_a_bad_ttl_is_refused(db, value):
    with pytest.raises(CommandError, match="older"):
        sweep("--older-than", value)


@pytest.mark.django_db(transaction=True)
def test_at_stage_0_a_failed_commit_takes_the_reservation_with_it_and_the_error_stands(beans, monkeypatch):
    def failing_commit():
        raise OperationalError("the database went away at commit")

    monkeypatch.setattr(connections["default"], "commit", failing_commit)
    with pytest.raises(OperationalError):
        order_place(
            owner=Owner(shopper_id="s"),
            email="ada@example.com",
            shipping=SHIPPING,
            lines=[{"sku": "COF-1", "quantity": 3}],
        )
    monkeypatch.undo()

    # One transaction: the order, its reservation and the stock taken all rolled back together.
    assert not Order.objects.exists() and not StockReservation.objects.exists()
    assert stock() == 10
