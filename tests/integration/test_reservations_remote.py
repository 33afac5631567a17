"""Stock across the boundary, against a real catalog service under gunicorn (stage 1's RemoteCatalog).

held_reservations() lists what the service holds; a placement that rolls back after the service
said yes releases its reservation, and only after the rollback; sweep_reservations cancels
abandoned orders and releases orphans in the service.
"""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connections, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from monolith import wiring
from monolith.adapters.catalog_local import LocalCatalog
from monolith.orders import services as order_services
from monolith.orders.models import Order
from monolith.orders.owner import Owner
from monolith.payments.models import Payment
from monolith.ports.catalog import CatalogUnavailable
from monolith.wiring import get_catalog
from tests.conftest import GOOD_CARD, SHIPPING
from tests.servers import CATALOG, free_port, serve

pytestmark = pytest.mark.django_db

TOKEN = f"sweep-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The catalog service on a database of its own, with a category to put test products in."""
    with serve(
        CATALOG,
        port=free_port(),
        name="sweep_catalog",
        log_dir=tmp_path_factory.mktemp("sweep-catalog"),
        env={"SERVICE_TOKENS": f"monolith={TOKEN}"},
        setup=lambda server: server.manage("seed_catalog"),
    ) as server:
        response = server.api.post(
            f"{server.url}/api/catalog/categories/", json={"slug": "mugs", "name": "Mugs"}, timeout=5
        )
        assert response.status_code == 201, response.text
        yield server


@pytest.fixture
def remote(service, settings):
    """The monolith at stage 1 for this test: CATALOG_BACKEND=remote, pointed at the service."""
    settings.CATALOG_BACKEND = "remote"
    settings.CATALOG_SERVICE_URL = service.url
    settings.CATALOG_SERVICE_TOKEN = TOKEN
    with wiring.override():  # get_catalog() keeps one adapter per process: this test's, from these settings
        yield get_catalog()


@pytest.fixture
def new_sku(service):
    """new_sku(stock): a product of the service's, with that stock."""

    def make(stock):
        sku = f"SWP-{uuid.uuid4().hex[:8].upper()}"
        body = {"sku": sku, "name": f"Mug {sku}", "category": "mugs", "price": "4.00", "stock": stock}
        response = service.api.post(f"{service.url}/api/catalog/products/", json=body, timeout=5)
        assert response.status_code == 201, response.text
        return sku

    return make


def reservation(service, reservation_id):
    response = service.api.get(f"{service.url}/api/catalog/stock-reservations/{reservation_id}/", timeout=5)
    return response.json()["status"] if response.status_code == 200 else response.status_code


def reserve(catalog, reservation_id, sku, quantity=1):
    catalog.reserve(reservation_id=reservation_id, lines=[{"sku": sku, "quantity": quantity}])


def place(sku, quantity):
    owner = Owner(shopper_id="sweep-test")
    return order_services.order_place(
        owner=owner, email="ada@example.com", shipping=SHIPPING, lines=[{"sku": sku, "quantity": quantity}]
    )


def sweep(*args):
    out = StringIO()
    call_command("sweep_reservations", *args, stdout=out)
    return out.getvalue()


# held_reservations


def test_held_reservations_are_the_same_through_both_adapters(remote, new_sku, make_product):
    sku = new_sku(10)
    make_product(sku, stock=10)
    story = []
    for catalog in (LocalCatalog(), remote):
        tag = uuid.uuid4().hex[:6]
        for name in ("held", "committed", "released"):
            reserve(catalog, f"{tag}-{name}", sku)
        catalog.commit(reservation_id=f"{tag}-committed")
        catalog.release(reservation_id=f"{tag}-released")
        later = catalog.held_reservations(older_than=timezone.now() + timedelta(seconds=5))
        earlier = catalog.held_reservations(older_than=timezone.now() - timedelta(hours=1))
        story.append(([rid.removeprefix(f"{tag}-") for rid in later if rid.startswith(tag)], earlier))

    assert story[0] == story[1] == (["held"], [])


def test_a_reservations_status_is_the_same_through_both_adapters(remote, new_sku, make_product):
    sku = new_sku(10)
    make_product(sku, stock=10)
    story = []
    for catalog in (LocalCatalog(), remote):
        tag = uuid.uuid4().hex[:6]
        for name in ("held", "committed", "released"):
            reserve(catalog, f"{tag}-{name}", sku)
        catalog.commit(reservation_id=f"{tag}-committed")
        catalog.release(reservation_id=f"{tag}-released")
        story.append(
            [
                catalog.reservation_status(reservation_id=f"{tag}-{name}")
                for name in ("held", "committed", "released", "never-made")
            ]
        )

    assert story[0] == story[1] == ["held", "committed", "released", None]


def test_held_reservations_read_every_page(remote, new_sku):
    sku = new_sku(500)
    tag = uuid.uuid4().hex[:6]
    ids = [f"{tag}-{n:03d}" for n in range(105)]  # more than one page of 100
    for reservation_id in ids:
        reserve(remote, reservation_id, sku)

    held = remote.held_reservations(older_than=timezone.now() + timedelta(seconds=5))

    assert [rid for rid in held if rid.startswith(tag)] == ids


# Compensation: the reservation goes back once the monolith's transaction has rolled back


@pytest.fixture
def watched_release(remote, service, monkeypatch):
    """Record, at each release, whether the order is still visible to the monolith and what the service holds."""
    seen = []
    release = remote.release

    def watching(*, reservation_id):
        number = reservation_id.split("-")[1]
        seen.append(
            {
                "order_visible": Order.objects.filter(number=number).exists(),
                "service": reservation(service, reservation_id),
                "id": reservation_id,
            }
        )
        release(reservation_id=reservation_id)

    monkeypatch.setattr(remote, "release", watching)
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_failed_commit_after_the_service_reserved_releases_the_reservation_after_the_rollback(
    remote,
    service,
    new_sku,
    watched_release,
    monkeypatch,
    category,
):
    sku = new_sku(5)

    def failing_commit():
        raise OperationalError("the database went away at commit")

    monkeypatch.setattr(connections["default"], "commit", failing_commit)
    with pytest.raises(OperationalError):
        place(sku, 2)
    monkeypatch.undo()

    [seen] = watched_release
    assert seen["order_visible"] is False  # the monolith's rollback came first
    assert seen["service"] == "held"  # and the service still held the stock until then
    assert reservation(service, seen["id"]) == "released"
    assert service.product(sku)["stock"] == 5
    assert not Order.objects.exists()


@pytest.fixture
def failing_savepoint(monkeypatch):
    """The next savepoint release fails, as a database error at the end of the placement's block would."""
    connection = connections["default"]
    savepoint_commit = connection.savepoint_commit

    def fail_once(sid):
        monkeypatch.setattr(connection, "savepoint_commit", savepoint_commit)
        raise DatabaseError("the database failed after the service said yes")

    monkeypatch.setattr(connection, "savepoint_commit", fail_once)


def test_a_database_error_inside_a_requests_transaction_releases_after_the_savepoint_rolled_back(
    remote,
    service,
    new_sku,
    watched_release,
    failing_savepoint,
):
    sku = new_sku(5)

    with transaction.atomic(), pytest.raises(DatabaseError):  # as ATOMIC_REQUESTS wraps a request
        place(sku, 2)

    [seen] = watched_release
    assert seen["order_visible"] is False and seen["service"] == "held"
    assert reservation(service, seen["id"]) == "released"
    assert service.product(sku)["stock"] == 5


def test_a_short_reservation_has_nothing_to_compensate(remote, service, new_sku, watched_release):
    sku = new_sku(1)

    with pytest.raises(Exception, match="Not enough stock"):
        place(sku, 2)

    assert watched_release == []
    assert service.product(sku)["stock"] == 1


def test_when_the_release_fails_too_the_placements_error_stands_and_the_sweep_releases_the_orphan(
    remote,
    service,
    new_sku,
    monkeypatch,
    failing_savepoint,
):
    sku = new_sku(5)
    reserved = []

    def release_fails(*, reservation_id):
        reserved.append(reservation_id)
        raise CatalogUnavailable()

    monkeypatch.setattr(remote, "release", release_fails)
    with transaction.atomic(), pytest.raises(DatabaseError, match="after the service said yes"):
        place(sku, 2)
    wiring.reset()  # a fresh adapter for the sweep, as cron's process has
    assert reservation(service, reserved[0]) == "held"

    output = sweep("--older-than", "0")

    assert f"Released reservation {reserved[0]} (no such order)" in output
    assert service.product(sku)["stock"] == 5


# The sweep through the remote adapter


def test_the_sweep_cancels_abandoned_orders_and_releases_orphans_in_the_service(remote, service, new_sku):
    sku = new_sku(10)
    order = place(sku, 3)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    reserve(remote, "order-GONE234567-1", sku, 2)
    assert service.product(sku)["stock"] == 5

    dry = sweep("--older-than", "0", "--dry-run")
    assert f"Would cancel order {order.number}" in dry and "Would release reservation order-GONE234567-1" in dry
    assert service.product(sku)["stock"] == 5

    output = sweep("--older-than", "0")

    assert f"Cancelled order {order.number}" in output
    assert "Released reservation order-GONE234567-1 (no such order)" in output
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert reservation(service, order.reservation_id) == "released"
    assert service.product(sku)["stock"] == 10
    assert "Done: 0 step(s)" in sweep("--older-than", "0")  # idempotent


# Paying: a paid order always holds its stock, when the catalog is the service's too


def pay_through_the_api(client, number):
    return client.post(
        f"/api/orders/{number}/pay/", {"card": GOOD_CARD}, format="json", headers={"Idempotency-Key": uuid.uuid4().hex}
    )


def place_through_the_api(client, lines):
    response = client.post(
        "/api/orders/", {"email": "ada@example.com", "shipping": SHIPPING, "lines": lines}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["number"]


def release_in_the_service(service, reservation_id):
    response = service.api.post(f"{service.url}/api/catalog/stock-reservations/{reservation_id}/release/", timeout=5)
    assert response.status_code == 200, response.text


def test_paying_an_order_whose_reservation_the_service_released_reserves_again_first(remote, service, new_sku):
    sku, client = new_sku(10), APIClient()
    number = place_through_the_api(client, [{"sku": sku, "quantity": 2}])
    release_in_the_service(service, f"order-{number}-1")
    assert service.product(sku)["stock"] == 10  # the fault: the order awaits payment, and holds nothing

    response = pay_through_the_api(client, number)

    assert response.status_code == 201, response.content
    assert Order.objects.get(number=number).status == Order.Status.PAID
    assert service.product(sku)["stock"] == 8
    assert reservation(service, f"order-{number}-1") == "released"
    assert reservation(service, f"order-{number}-2") == "held"
    call_command("payments_relay", "--once", stdout=StringIO())  # commits the paid order's stock
    assert reservation(service, f"order-{number}-2") == "committed"


def test_paying_an_order_whose_released_stock_the_service_sold_is_409_and_charges_nothing(remote, service, new_sku):
    sku, client = new_sku(3), APIClient()
    number = place_through_the_api(client, [{"sku": sku, "quantity": 2}])
    release_in_the_service(service, f"order-{number}-1")
    place_through_the_api(APIClient(), [{"sku": sku, "quantity": 2}])  # someone else buys it
    assert service.product(sku)["stock"] == 1

    response = pay_through_the_api(client, number)

    assert response.status_code == 409, response.content
    assert (response.json()["code"], response.json()["skus"]) == ("insufficient_stock", [sku])
    assert not Payment.objects.filter(order_number=number).exists()  # the card was not charged
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT
    assert reservation(service, f"order-{number}-2") == 404
    assert service.product(sku)["stock"] == 1


def test_lines_for_one_sku_past_the_orders_limit_never_show_the_services_limit(remote, service, new_sku):
    sku = new_sku(20_000)

    response = APIClient().post(
        "/api/orders/",
        {"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": sku, "quantity": 1000}] * 11},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert response.json()["skus"] == [sku] and "lines" in response.json()
    assert "10000" not in response.content.decode()
    assert service.product(sku)["stock"] == 20_000


def test_paying_while_the_catalog_service_cannot_be_reached_is_503_and_charges_nothing(
    remote, service, new_sku, settings, monkeypatch
):
    sku, client = new_sku(10), APIClient()
    number = place_through_the_api(client, [{"sku": sku, "quantity": 2}])
    settings.CATALOG_SERVICE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    wiring.reset()  # adapters built afresh, for the unreachable address (inside the fixture's override)
    with pytest.raises(CatalogUnavailable):  # the fault: the catalog cannot be asked what it holds
        get_catalog().held_reservations(older_than=timezone.now())

    response = pay_through_the_api(client, number)

    assert response.status_code == 503, response.content
    assert not Payment.objects.filter(order_number=number).exists()
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT
    assert not Order.objects.get(number=number).payments.exists()
    assert reservation(service, f"order-{number}-1") == "held"
