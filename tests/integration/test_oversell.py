"""Stock under concurrent checkouts, on PostgreSQL: the last items go to exactly as many orders as there are items.

Each checkout runs in its own thread and database connection, released together
by a barrier, through the orders service (as the checkout page and the API do).
"""

import pytest
from django.db.models import Sum

from monolith.catalog.models import Product, StockReservationLine
from monolith.core.errors import Conflict
from monolith.orders import services as orders
from monolith.orders.models import Order
from monolith.orders.owner import Owner
from monolith.payments.models import Payment
from tests.concurrency import run_concurrently
from tests.conftest import DECLINED_CARD, GOOD_CARD, SHIPPING

pytestmark = pytest.mark.django_db(transaction=True)

SHOPPERS = 8


def checkout(shopper, lines):
    return lambda: orders.order_place(
        owner=Owner(shopper_id=f"shopper-{shopper}"),
        email=f"shopper{shopper}@example.com",
        shipping=SHIPPING,
        lines=lines,
    )


def split(results):
    placed = [value for outcome, value in results if outcome == "ok"]
    refused = [value for outcome, value in results if outcome == "error"]
    return placed, refused


def assert_short(refused, skus):
    for exc in refused:
        assert isinstance(exc, Conflict), repr(exc)  # not a deadlock, not a check-constraint violation
        assert exc.code == "insufficient_stock"
        assert exc.extra["skus"] == skus


def held(sku):
    return (
        StockReservationLine.objects.filter(product__sku=sku, reservation__status="held").aggregate(n=Sum("quantity"))[
            "n"
        ]
        or 0
    )


def test_the_last_items_go_to_exactly_as_many_shoppers(make_product):
    make_product("COF-0001", stock=3)

    placed, refused = split(
        run_concurrently([checkout(i, [{"sku": "COF-0001", "quantity": 1}]) for i in range(SHOPPERS)])
    )

    assert len(placed) == 3
    assert len(refused) == SHOPPERS - 3
    assert_short(refused, ["COF-0001"])
    assert Product.objects.get(sku="COF-0001").stock == 0
    assert held("COF-0001") == 3
    assert Order.objects.count() == 3


def test_an_order_that_does_not_fit_takes_nothing(make_product):
    make_product("COF-0001", stock=5)

    placed, refused = split(
        run_concurrently([checkout(i, [{"sku": "COF-0001", "quantity": 2}]) for i in range(SHOPPERS)])
    )

    assert len(placed) == 2
    assert_short(refused, ["COF-0001"])
    assert Product.objects.get(sku="COF-0001").stock == 1
    assert held("COF-0001") == 4


def test_orders_for_the_same_products_in_any_line_order_neither_oversell_nor_deadlock(make_product):
    make_product("COF-0001", stock=3)
    make_product("TEA-0001", stock=10)
    forwards = [{"sku": "COF-0001", "quantity": 1}, {"sku": "TEA-0001", "quantity": 1}]

    placed, refused = split(
        run_concurrently([checkout(i, forwards if i % 2 else list(reversed(forwards))) for i in range(SHOPPERS)])
    )

    assert len(placed) == 3
    assert_short(refused, ["COF-0001"])
    assert (Product.objects.get(sku="COF-0001").stock, Product.objects.get(sku="TEA-0001").stock) == (0, 7)
    assert (held("COF-0001"), held("TEA-0001")) == (3, 3)


def test_retries_after_a_decline_race_for_the_last_item_fairly(make_product):
    product = make_product("COF-0001", stock=1)
    declined = []
    for shopper in range(2):
        order = checkout(shopper, [{"sku": "COF-0001", "quantity": 1}])()
        orders.order_pay(order=order, card=dict(DECLINED_CARD), idempotency_key=f"decline-{shopper}")
        declined.append(order)
    product.refresh_from_db()
    assert product.stock == 1

    paid, refused = split(
        run_concurrently(
            [
                (lambda order=order: orders.order_pay(order=order, card=dict(GOOD_CARD), idempotency_key="retry"))
                for order in declined
            ]
        )
    )

    assert [result.payment.status for result in paid] == ["succeeded"]
    assert_short(refused, ["COF-0001"])
    assert sorted(Order.objects.values_list("status", flat=True)) == ["paid", "payment_failed"]
    assert Payment.objects.filter(status="succeeded").count() == 1
    product.refresh_from_db()
    assert product.stock == 0


@pytest.mark.parametrize("run", range(3))
def test_a_cancel_racing_a_payment_leaves_stock_that_matches_the_winner(make_product, run):
    product = make_product("COF-0001", stock=5)
    order = checkout(0, [{"sku": "COF-0001", "quantity": 2}])()

    results = run_concurrently(
        [
            lambda: orders.order_pay(order=order, card=dict(GOOD_CARD), idempotency_key="pay"),
            lambda: orders.order_cancel(order=order),
        ]
    )

    (pay_outcome, _), (cancel_outcome, _) = results
    assert sorted([pay_outcome, cancel_outcome]) == ["error", "ok"], results  # exactly one wins
    assert all(isinstance(value, Conflict) for outcome, value in results if outcome == "error")
    order.refresh_from_db()
    product.refresh_from_db()
    if pay_outcome == "ok":
        assert (order.status, product.stock, Payment.objects.count()) == ("paid", 3, 1)
    else:
        assert (order.status, product.stock, Payment.objects.count()) == ("cancelled", 5, 0)
