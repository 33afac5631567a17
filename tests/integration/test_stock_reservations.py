"""Stock reservations: all lines or none, replays by reservation_id, commit and release, and races on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monolith.catalog import services
from monolith.catalog.models import Product, StockReservation
from monolith.core.errors import ApplicationError
from tests.concurrency import run_concurrently

RESERVATIONS = "/api/catalog/stock-reservations/"


def stock(sku):
    return Product.objects.get(sku=sku).stock


def reserve(client, reservation_id, *lines):
    return client.post(
        RESERVATIONS,
        {"reservation_id": reservation_id, "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines]},
        format="json",
    )


@pytest.fixture
def beans(make_product):
    return make_product("COF-1", stock=5), make_product("COF-2", stock=2)


def test_a_reservation_takes_stock_for_every_line(staff_api, beans):
    response = reserve(staff_api, "order-1", ("COF-1", 3), ("COF-2", 2))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reservation_id"] == "order-1"
    assert body["status"] == "held"
    # Each line priced as reserved: what the monolith charges an order, with no read of its own.
    assert body["lines"] == [
        {"sku": "COF-1", "quantity": 3, "name": "Product COF-1", "price": "10.00", "currency": "EUR"},
        {"sku": "COF-2", "quantity": 2, "name": "Product COF-2", "price": "10.00", "currency": "EUR"},
    ]
    assert (stock("COF-1"), stock("COF-2")) == (2, 0)
    assert staff_api.get(f"{RESERVATIONS}order-1/").json()["status"] == "held"


def test_lines_for_the_same_sku_add_up(staff_api, beans):
    response = reserve(staff_api, "order-1", ("COF-1", 2), ("COF-1", 3))

    assert response.status_code == 201
    assert [(line["sku"], line["quantity"]) for line in response.json()["lines"]] == [("COF-1", 5)]
    assert stock("COF-1") == 0


def test_a_short_reservation_takes_nothing_and_names_every_short_sku(staff_api, beans, make_product):
    make_product("COF-3", stock=10)

    response = reserve(staff_api, "order-1", ("COF-3", 1), ("COF-2", 3), ("COF-1", 6))

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["skus"] == ["COF-1", "COF-2"]
    assert "COF-1" in body["detail"] and "COF-2" in body["detail"]
    assert (stock("COF-1"), stock("COF-2"), stock("COF-3")) == (5, 2, 10)
    assert not StockReservation.objects.exists()
    # The id was not used up: the same id may be tried again once there is stock.
    assert reserve(staff_api, "order-1", ("COF-3", 1)).status_code == 201


def test_repeating_a_reservation_id_returns_the_first_result_and_takes_stock_once(staff_api, beans):
    first = reserve(staff_api, "order-1", ("COF-1", 2))
    again = reserve(staff_api, "order-1", ("COF-1", 2))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["lines"] == first.json()["lines"]
    assert again.json()["created_at"] == first.json()["created_at"]
    assert stock("COF-1") == 3


def test_a_replay_answers_even_when_the_stock_is_gone_since(staff_api, beans):
    assert reserve(staff_api, "order-1", ("COF-2", 2)).status_code == 201
    assert stock("COF-2") == 0

    assert reserve(staff_api, "order-1", ("COF-2", 2)).status_code == 200


@pytest.mark.parametrize("other_lines", [[("COF-1", 3)], [("COF-2", 2)], [("COF-1", 2), ("COF-2", 1)]])
def test_the_same_reservation_id_with_other_lines_is_a_422(staff_api, beans, other_lines):
    assert reserve(staff_api, "order-1", ("COF-1", 2)).status_code == 201

    response = reserve(staff_api, "order-1", *other_lines)

    assert response.status_code == 422, response.content
    assert "reservation_id" in response.json()
    assert (stock("COF-1"), stock("COF-2")) == (3, 2)


def test_release_gives_the_stock_back_once(staff_api, beans):
    reserve(staff_api, "order-1", ("COF-1", 4), ("COF-2", 1))

    first = staff_api.post(f"{RESERVATIONS}order-1/release/")
    second = staff_api.post(f"{RESERVATIONS}order-1/release/")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "released"
    assert (stock("COF-1"), stock("COF-2")) == (5, 2)


def test_commit_keeps_the_stock_taken_and_committing_twice_is_harmless(staff_api, beans):
    reserve(staff_api, "order-1", ("COF-1", 4))

    assert staff_api.post(f"{RESERVATIONS}order-1/commit/").json()["status"] == "committed"
    assert staff_api.post(f"{RESERVATIONS}order-1/commit/").status_code == 200
    assert stock("COF-1") == 1


def test_commit_after_release_is_a_conflict(staff_api, beans):
    reserve(staff_api, "order-1", ("COF-1", 4))
    staff_api.post(f"{RESERVATIONS}order-1/release/")

    response = staff_api.post(f"{RESERVATIONS}order-1/commit/")

    assert response.status_code == 409
    assert response.json()["code"] == "reservation_released"
    assert stock("COF-1") == 5
    assert staff_api.get(f"{RESERVATIONS}order-1/").json()["status"] == "released"


def test_release_after_commit_is_a_conflict_and_gives_nothing_back(staff_api, beans):
    reserve(staff_api, "order-1", ("COF-1", 4))
    staff_api.post(f"{RESERVATIONS}order-1/commit/")

    response = staff_api.post(f"{RESERVATIONS}order-1/release/")

    assert response.status_code == 409
    assert stock("COF-1") == 1


@pytest.mark.parametrize("action", ["", "commit/", "release/"])
def test_an_unknown_reservation_is_a_json_404(staff_api, db, action):
    response = staff_api.post(f"{RESERVATIONS}nope/{action}") if action else staff_api.get(f"{RESERVATIONS}nope/")
    assert response.status_code == 404
    assert response.json()["detail"]


COMMITS = "/api/catalog/stock-reservation-commits/"


def test_a_batch_commit_commits_the_held_and_reports_the_rest(staff_api, beans):
    for reservation_id in ("order-1", "order-2", "order-3"):
        reserve(staff_api, reservation_id, ("COF-1", 1))
    staff_api.post(f"{RESERVATIONS}order-2/release/")
    staff_api.post(f"{RESERVATIONS}order-3/commit/")

    response = staff_api.post(
        COMMITS, {"reservation_ids": ["order-3", "nope", "order-2", "order-1", "order-1"]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"committed": ["order-3", "order-1"], "released": ["order-2"], "unknown": ["nope"]}
    statuses = dict(StockReservation.objects.values_list("reservation_id", "status"))
    assert statuses == {"order-1": "committed", "order-2": "released", "order-3": "committed"}
    assert stock("COF-1") == 3  # a commit changes no stock count; the release gave its unit back


def test_a_batch_commit_costs_the_same_queries_for_one_reservation_or_many(staff_api, beans, django_assert_num_queries):
    for n in range(5):  # COF-1 has 5 in stock
        reserve(staff_api, f"order-{n}", ("COF-1", 1))
    with CaptureQueriesContext(connection) as one:
        services.stock_commit_many(reservation_ids=["order-0"])

    with django_assert_num_queries(len(one.captured_queries)):
        outcome = services.stock_commit_many(reservation_ids=[f"order-{n}" for n in range(1, 5)])

    assert outcome["committed"] == [f"order-{n}" for n in range(1, 5)]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty"),
        pytest.param({"reservation_ids": []}, id="no-ids"),
        pytest.param({"reservation_ids": "order-1"}, id="not-a-list"),
        pytest.param({"reservation_ids": ["order 1"]}, id="space-in-id"),
        pytest.param({"reservation_ids": ["o" * 65]}, id="long-id"),
        pytest.param({"reservation_ids": [None]}, id="null-id"),
        pytest.param({"reservation_ids": [f"order-{n}" for n in range(101)]}, id="101-ids"),
    ],
)
def test_bad_batch_commit_input_is_a_400_naming_the_field(staff_api, beans, body):
    reserve(staff_api, "order-1", ("COF-1", 1))

    response = staff_api.post(COMMITS, body, format="json")

    assert response.status_code == 400, response.content
    assert "reservation_ids" in response.json()
    assert StockReservation.objects.get().status == "held"


def test_a_batch_commit_takes_json_only(staff_api, beans):
    reserve(staff_api, "order-1", ("COF-1", 1))

    response = staff_api.post(COMMITS, {"reservation_ids": "order-1"}, format="multipart")

    assert response.status_code == 415, response.content
    assert StockReservation.objects.get().status == "held"


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([("NOPE-1", 1)], id="unknown"),
        pytest.param([("COF-1", 1), ("NOPE-1", 1)], id="one-unknown-among-known"),
        pytest.param([("COF-9", 1)], id="inactive"),
    ],
)
def test_an_unknown_sku_is_a_400_and_takes_nothing(staff_api, beans, make_product, lines):
    make_product("COF-9", stock=5, is_active=False)

    response = reserve(staff_api, "order-1", *lines)

    assert response.status_code == 400, response.content
    body = response.json()
    assert "lines" in body
    assert body["skus"] == [sku for sku, _ in lines if sku != "COF-1"]
    assert stock("COF-1") == 5
    assert not StockReservation.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        pytest.param({}, "reservation_id", id="empty"),
        pytest.param({"reservation_id": "r-1"}, "lines", id="no-lines"),
        pytest.param({"reservation_id": "r-1", "lines": []}, "lines", id="empty-lines"),
        pytest.param(
            {"reservation_id": "r 1", "lines": [{"sku": "COF-1", "quantity": 1}]}, "reservation_id", id="space-in-id"
        ),
        pytest.param(
            {"reservation_id": "r" * 65, "lines": [{"sku": "COF-1", "quantity": 1}]}, "reservation_id", id="long-id"
        ),
        pytest.param(
            {"reservation_id": "r\x001", "lines": [{"sku": "COF-1", "quantity": 1}]}, "reservation_id", id="nul-in-id"
        ),
        pytest.param({"reservation_id": "r-1", "lines": [{"sku": "COF-1", "quantity": 0}]}, "lines", id="quantity-0"),
        pytest.param(
            {"reservation_id": "r-1", "lines": [{"sku": "COF-1", "quantity": -1}]}, "lines", id="quantity-negative"
        ),
        pytest.param(
            {"reservation_id": "r-1", "lines": [{"sku": "COF-1", "quantity": 2**31}]}, "lines", id="quantity-past-2**31"
        ),
        pytest.param(
            {"reservation_id": "r-1", "lines": [{"sku": "COF-1", "quantity": "two"}]}, "lines", id="quantity-text"
        ),
        pytest.param(
            {"reservation_id": "r-1", "lines": [{"sku": "COF\x001", "quantity": 1}]}, "lines", id="nul-in-sku"
        ),
        pytest.param({"reservation_id": "r-1", "lines": [{"quantity": 1}]}, "lines", id="no-sku"),
        pytest.param(
            {"reservation_id": "r-1", "lines": {"sku": "COF-1", "quantity": 1}}, "lines", id="lines-not-a-list"
        ),
        pytest.param(
            {"reservation_id": "r-1", "lines": [{"sku": "COF-1", "quantity": 1}] * 101}, "lines", id="101-lines"
        ),
    ],
)
def test_bad_reservation_input_is_a_400_naming_the_field(staff_api, beans, body, field):
    response = staff_api.post(RESERVATIONS, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert stock("COF-1") == 5


def test_anonymous_users_and_customers_cannot_touch_reservations(api, customer_api, staff_api, beans):
    reserve(staff_api, "order-1", ("COF-1", 1))

    for client in (api, customer_api):
        assert reserve(client, "order-2", ("COF-1", 1)).status_code in (401, 403)
        assert client.get(f"{RESERVATIONS}order-1/").status_code in (401, 403)
        assert client.post(f"{RESERVATIONS}order-1/release/").status_code in (401, 403)
        assert client.post(f"{RESERVATIONS}order-1/commit/").status_code in (401, 403)
        assert client.post(COMMITS, {"reservation_ids": ["order-1"]}, format="json").status_code in (401, 403)

    assert stock("COF-1") == 4
    assert StockReservation.objects.get().status == "held"


# --- Races: real transactions on PostgreSQL, one connection per thread ------------------------


def run_at_once(count, work):
    """Run work(index) in `count` threads released together; return each result or exception."""
    return [value for _, value in run_concurrently([lambda index=index: work(index) for index in range(count)])]


@pytest.mark.django_db(transaction=True)
def test_many_buyers_racing_for_the_last_units_never_oversell(make_product):
    make_product("LAST-1", stock=3)

    results = run_at_once(
        10, lambda i: services.stock_reserve(reservation_id=f"race-{i}", lines=[{"sku": "LAST-1", "quantity": 1}])
    )

    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if not isinstance(r, tuple)]
    assert len(won) == 3
    assert all(isinstance(r, services.InsufficientStock) and r.extra["skus"] == ["LAST-1"] for r in lost), lost
    assert stock("LAST-1") == 0
    assert StockReservation.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_racing_multi_line_reservations_are_all_or_nothing(make_product):
    # Threads lock the same two rows from opposite line orders: no deadlock, no half reservation.
    make_product("PAIR-A", stock=4)
    make_product("PAIR-B", stock=4)

    def work(i):
        lines = [{"sku": "PAIR-A", "quantity": 1}, {"sku": "PAIR-B", "quantity": 1}]
        return services.stock_reserve(reservation_id=f"pair-{i}", lines=lines if i % 2 else lines[::-1])

    results = run_at_once(8, work)

    assert sum(isinstance(r, tuple) for r in results) == 4
    assert all(isinstance(r, (tuple, services.InsufficientStock)) for r in results), results
    assert (stock("PAIR-A"), stock("PAIR-B")) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_same_reservation_id_sent_twice_at_once_reserves_once(make_product):
    # A retried request racing the original: stock for exactly one of them.
    make_product("LAST-1", stock=2)

    results = run_at_once(
        6, lambda i: services.stock_reserve(reservation_id="order-1", lines=[{"sku": "LAST-1", "quantity": 2}])
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert {reservation.pk for reservation, _ in results} == {StockReservation.objects.get().pk}
    assert stock("LAST-1") == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_reservation_id_with_other_lines_at_once_is_refused(make_product):
    make_product("LAST-1", stock=10)

    results = run_at_once(
        2, lambda i: services.stock_reserve(reservation_id="order-1", lines=[{"sku": "LAST-1", "quantity": i + 1}])
    )

    assert sum(isinstance(r, tuple) for r in results) == 1
    refused = [r for r in results if not isinstance(r, tuple)]
    assert isinstance(refused[0], ApplicationError) and refused[0].status_code == 422
    reservation = StockReservation.objects.get()
    assert stock("LAST-1") == 10 - reservation.lines.get().quantity
