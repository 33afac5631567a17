"""GET /api/catalog/stock-reservations/: the list a sweep reads, for staff and services only, filtered and paginated."""

from datetime import timedelta

import pytest
from django.utils import timezone

from monolith.catalog import services
from monolith.catalog.models import StockReservation

RESERVATIONS = "/api/catalog/stock-reservations/"


@pytest.fixture
def reservations(make_product):
    """Three reservations: order-A-1 held (two hours old), order-B-1 committed, order-C-1 released."""
    make_product("COF-1", stock=10)
    for reservation_id in ("order-A-1", "order-B-1", "order-C-1"):
        services.stock_reserve(reservation_id=reservation_id, lines=[{"sku": "COF-1", "quantity": 1}])
    services.stock_commit(reservation_id="order-B-1")
    services.stock_release(reservation_id="order-C-1")
    StockReservation.objects.filter(reservation_id="order-A-1").update(created_at=timezone.now() - timedelta(hours=2))


def ids(response):
    assert response.status_code == 200, response.content
    return [reservation["reservation_id"] for reservation in response.json()["results"]]


def test_staff_list_every_reservation_oldest_first_paginated(staff_api, reservations):
    response = staff_api.get(RESERVATIONS)

    assert ids(response) == ["order-A-1", "order-B-1", "order-C-1"]
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert [(line["sku"], line["quantity"]) for line in body["results"][0]["lines"]] == [("COF-1", 1)]
    assert ids(staff_api.get(RESERVATIONS, {"page_size": 2, "page": 2})) == ["order-C-1"]


@pytest.mark.parametrize(
    "status, expected", [("held", ["order-A-1"]), ("committed", ["order-B-1"]), ("released", ["order-C-1"])]
)
def test_the_list_filters_by_status(staff_api, reservations, status, expected):
    assert ids(staff_api.get(RESERVATIONS, {"status": status})) == expected


def test_the_list_filters_by_creation_time(staff_api, reservations):
    an_hour_ago = (timezone.now() - timedelta(hours=1)).isoformat()

    assert ids(staff_api.get(RESERVATIONS, {"created_before": an_hour_ago})) == ["order-A-1"]
    assert ids(staff_api.get(RESERVATIONS, {"created_before": an_hour_ago, "status": "committed"})) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ({"status": "lost"}, "status"),
        ({"created_before": "yesterday"}, "created_before"),
        ({"created_before": "2026-13-40T00:00:00Z"}, "created_before"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(staff_api, reservations, query, field):
    response = staff_api.get(RESERVATIONS, query)

    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-01-01", "0181-07-08T03:44:39.232-22:37"]
)
def test_extreme_but_valid_times_are_answered(staff_api, reservations, moment):
    assert staff_api.get(RESERVATIONS, {"created_before": moment}).status_code == 200


def test_only_staff_and_services_may_list(api, customer_api, reservations):
    assert api.get(RESERVATIONS).status_code == 401
    assert customer_api.get(RESERVATIONS).status_code == 403
