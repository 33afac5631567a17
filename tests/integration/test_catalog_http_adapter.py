"""RemoteCatalog over real HTTP: the same answers and errors as LocalCatalog, and a clean 503 when the catalog is down.

The peer is the monolith itself under gunicorn: it serves /api/catalog/ at stage 0, the API the
catalog service serves at stage 1. It runs on a database of its own, seeded by seed_catalog();
each test seeds the same rows into its own test database for LocalCatalog, so that the two
adapters read the same catalog and must give the same results. RemoteCatalog signs its
reservations with the peer's service token, as it will the catalog service's.
"""

import io
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from log_request_id import local as request_local

from monolith import wiring
from monolith.adapters import catalog_http
from monolith.adapters.catalog_http import RemoteCatalog
from monolith.adapters.catalog_local import LocalCatalog
from monolith.catalog.models import Category, Product
from monolith.core import service_client
from monolith.core.errors import ApplicationError, ServiceUnavailable
from monolith.orders.models import Order
from monolith.ports.catalog import CatalogUnavailable, ReservedLine
from monolith.wiring import get_catalog
from tests.conftest import GOOD_CARD, SHIPPING
from tests.servers import MONOLITH, free_port, listening, serve

PEER_PORT = free_port()
CLOSED_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens here: a stopped catalog service
HUNG_ADDRESS = ("127.0.0.1", free_port())  # a socket that takes connections and never answers
FAILING_ADDRESS = ("127.0.0.1", free_port())  # a server that answers every request with a 503
PER_PAGE = 4
UPDATED_AT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
FAST = 2  # seconds: the contract's "within 2 s" for a page when the catalog is down

ADJECTIVES = ["Harbour", "Alpine", "Copper", "Meadow", "Ember", "Willow", "Cobalt"]


def seed_catalog():
    """The small catalog both databases hold: 23 products on 6 pages of 4, an empty category, an inactive product."""
    coffee = Category.objects.create(slug="coffee", name="Coffee", description="Beans.")
    tea = Category.objects.create(slug="tea", name="Tea", description="Leaves.")
    Category.objects.create(slug="gifts", name="Gifts", description="Nothing yet.")
    products = [
        Product(
            sku=f"{prefix}-{n:04d}",
            name=f"{ADJECTIVES[n % 7]} {noun} {n}",
            slug=f"{prefix.lower()}-{n}",
            description=f"A {noun.lower()} for espresso lovers." if n % 3 == 0 else f"A fine {noun.lower()}.",
            category=category,
            price=Decimal(f"{3 + (n * 7) % 19}.{n % 4 * 25:02d}"),
            stock=(n * 5) % 7,
        )
        for prefix, noun, category, count in (("COF", "Roast", coffee, 14), ("TEA", "Blend", tea, 9))
        for n in range(1, count + 1)
    ]
    products.append(
        Product(
            sku="COF-0099",
            name="Retired Roast",
            slug="retired",
            category=coffee,
            price=Decimal("9.00"),
            stock=4,
            is_active=False,
        )
    )
    Product.objects.bulk_create(products)
    Product.objects.update(updated_at=UPDATED_AT)  # update() leaves auto_now alone: both databases say the same


def seed_peer():
    seed_catalog()
    get_user_model().objects.create_user("admin", "admin@example.com", "admin", is_staff=True)


PEER_TOKEN = f"peer-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """The monolith under gunicorn at PEER_PORT, serving /api/catalog/ from a database of its own."""

    def seed(server):
        server.manage(
            "shell",
            "--verbosity",
            "0",
            "--command",
            "from tests.integration.test_catalog_http_adapter import seed_peer; seed_peer()",
        )

    with serve(
        MONOLITH,
        port=PEER_PORT,
        name="catalog_peer",
        log_dir=tmp_path_factory.mktemp("catalog-peer"),
        env={"SERVICE_TOKENS": f"monolith={PEER_TOKEN}"},
        setup=seed,
    ) as server:
        yield server


@pytest.fixture
def local(db):
    seed_catalog()
    return LocalCatalog()


@pytest.fixture
def remote_settings(peer, settings):
    peer.ensure_running()  # a test that stopped it may have failed before starting it again
    settings.CATALOG_SERVICE_URL = peer.url
    settings.CATALOG_SERVICE_TOKEN = PEER_TOKEN
    return settings


@pytest.fixture
def remote(remote_settings):
    return RemoteCatalog()


@pytest.fixture
def twins(peer, local):
    """twins(stock): a new product, the same in both catalogs, for a test that changes stock or prices.

    It is hidden from the peer's catalog afterwards (deleted, or made inactive once reserved),
    so the other tests still see the seeded catalog there.
    """
    made = []

    def make(stock, price="5.00"):
        sku = f"RSV-{uuid.uuid4().hex[:8].upper()}"
        body = {"sku": sku, "name": f"Twin {sku}", "category": "coffee", "price": price, "stock": stock}
        response = peer.api.post(f"{peer.url}/api/catalog/products/", json=body, timeout=5)
        assert response.status_code == 201, response.text
        made.append(sku)
        Product.objects.create(**{**body, "slug": sku.lower(), "category": Category.objects.get(slug="coffee")})
        return sku

    yield make
    for sku in made:
        peer.api.delete(f"{peer.url}/api/catalog/products/{sku}/", timeout=5)


@pytest.fixture
def fresh_adapters():
    """Adapters made anew for this test from its settings (get_catalog() keeps one per process)."""
    with wiring.override():
        yield


def uncached(catalog):
    """The same kind of adapter, made anew: nothing in its cache, so its reads ask the catalog."""
    return type(catalog)()


def outcome(call):
    """What a port call gives: its value, or its error as a caller sees it."""
    try:
        return call()
    except ApplicationError as error:
        return ("error", error.status_code, error.code, error.message, error.field, error.extra)
    except ServiceUnavailable as error:
        return ("error", error.status_code, error.code, error.message)
    except ValidationError as error:
        return ("invalid", error.message_dict)


# Reads: the same results


def test_categories_are_the_same(local, remote):
    categories = outcome(local.categories)

    assert [category.slug for category in categories] == ["coffee", "gifts", "tea"]
    assert outcome(remote.categories) == categories


@pytest.mark.parametrize(
    "filters, page",
    [
        ({}, 1),
        ({}, "2"),
        ({}, 6),  # the last page, with three products
        ({}, 99),  # past the end: the last page, as Paginator.get_page does
        ({}, 0),  # below the first: the last page too
        ({}, "-1"),
        ({}, "abc"),  # not a number: the first page
        ({}, "last"),  # DRF's own word for the last page; Paginator.get_page reads it as page 1
        ({}, 2.5),
        ({"category": "tea"}, 2),
        ({"category": "gifts"}, 3),  # an empty category: its one empty page
        ({"category": "nowhere"}, 1),
        ({"q": "espresso"}, 1),
        ({"q": "COF-0007"}, 1),
        ({"ordering": "-price"}, 2),
        ({"ordering": "name", "category": "coffee"}, 1),
        ({"in_stock": "false"}, 1),
        ({"in_stock": "true", "min_price": "5", "max_price": "12.50"}, 1),
    ],
)
def test_product_pages_are_the_same(local, remote, filters, page):
    expected = outcome(lambda: local.product_page(filters=filters, page=page, per_page=PER_PAGE))

    assert outcome(lambda: remote.product_page(filters=filters, page=page, per_page=PER_PAGE)) == expected


def test_the_seeded_catalog_pages_as_intended(local):
    page = local.product_page(filters={}, page=99, per_page=PER_PAGE)

    assert (page.count, page.number, page.num_pages, len(page.products)) == (23, 6, 6, 3)


@pytest.mark.parametrize(
    "filters",
    [
        {"min_price": "abc"},
        {"in_stock": "yes"},
        {"ordering": "bogus"},
        {"min_price": "1e3", "in_stock": "maybe", "category": "tea"},
    ],
)
def test_a_bad_filter_is_the_same_validation_error_naming_the_field(local, remote, filters):
    expected = outcome(lambda: local.product_page(filters=filters, page=1, per_page=PER_PAGE))

    assert expected[0] == "invalid"
    assert set(expected[1]) == set(filters) - {"category"}
    assert outcome(lambda: remote.product_page(filters=filters, page=1, per_page=PER_PAGE)) == expected


@pytest.mark.parametrize("sku", ["COF-0001", "TEA-0009", "NOPE-0001", "COF-0099", "bad sku", "x" * 40, "a/b", ""])
def test_a_product_or_its_absence_is_the_same(local, remote, sku):
    expected = outcome(lambda: local.product(sku))

    assert outcome(lambda: remote.product(sku)) == expected


def test_a_batch_read_is_the_same(local, remote):
    skus = ["TEA-0002", "COF-0001", "NOPE-0001", "COF-0099", "bad sku", "COF-0001", "TEA-0002"]

    found = remote.products(skus)

    assert found == local.products(skus)
    assert sorted(found) == ["COF-0001", "TEA-0002"]


def test_a_batch_of_more_skus_than_the_api_takes_at_once_is_read_in_chunks(local, remote):
    seeded = [f"COF-{n:04d}" for n in range(1, 15)] + [f"TEA-{n:04d}" for n in range(1, 10)]
    skus = [f"NONE-{n:04d}" for n in range(230)] + seeded  # the API refuses more than 100 in one call

    found = remote.products(skus)

    assert found == local.products(skus)
    assert sorted(found) == sorted(seeded)


# Stock reservations: the same outcomes, the same stock


def reservation_story(catalog, first, second):
    """Reserve, replay, misuse, commit and release on `catalog`: every outcome and the stock after each step."""
    lines = [{"sku": first, "quantity": 2}, {"sku": second, "quantity": 1}]
    held, released, key = f"held-{uuid.uuid4().hex}", f"released-{uuid.uuid4().hex}", f"never-{uuid.uuid4().hex}"
    batch = f"batch-{uuid.uuid4().hex}"

    def stock():
        return sorted((sku, product.stock) for sku, product in uncached(catalog).products([first, second]).items())

    story = [
        outcome(lambda: catalog.reserve(reservation_id=held, lines=lines)),
        stock(),
        outcome(lambda: catalog.reserve(reservation_id=held, lines=list(reversed(lines)))),
        stock(),  # a replay
        outcome(lambda: catalog.reserve(reservation_id=held, lines=lines[:1])),  # the same id for other lines: 422
        outcome(lambda: catalog.commit(reservation_id=held)),
        stock(),
        outcome(lambda: catalog.commit(reservation_id=held)),  # twice is harmless
        outcome(lambda: catalog.release(reservation_id=held)),  # committed: a Conflict
        outcome(lambda: catalog.reserve(reservation_id=released, lines=lines)),
        stock(),
        outcome(lambda: catalog.release(reservation_id=released)),
        stock(),
        outcome(lambda: catalog.release(reservation_id=released)),
        outcome(lambda: catalog.commit(reservation_id=released)),  # released: a Conflict
        outcome(lambda: catalog.commit(reservation_id=key)),  # no such reservation
        outcome(lambda: catalog.reserve(reservation_id=batch, lines=lines[:1])),
        stock(),
        outcome(lambda: catalog.commit_many(reservation_ids=[batch, released, key, held])),
        stock(),
        outcome(lambda: catalog.reserve(reservation_id=key, lines=[{"sku": "NOPE-0001", "quantity": 1}])),
    ]
    # The ids differ between the two runs: say them alike, so the stories compare.
    return [
        str(step).replace(held, "HELD").replace(released, "RELEASED").replace(key, "KEY").replace(batch, "BATCH")
        for step in story
    ]


def test_reservations_tell_the_same_story(local, remote, twins):
    first, second = twins(5), twins(3)

    story = reservation_story(remote, first, second)

    assert story == reservation_story(local, first, second)
    assert story[1] == str(sorted([(first, 3), (second, 2)]))
    assert "reservation_mismatch" in story[4] and "422" in story[4]
    assert story[-1].startswith("('error', 400, 'unknown_sku'")


def test_a_short_reservation_takes_nothing_and_names_every_short_sku(local, remote, twins):
    plenty, short, none = twins(5), twins(2), twins(0)
    lines = [{"sku": plenty, "quantity": 1}, {"sku": short, "quantity": 3}, {"sku": none, "quantity": 1}]

    results = [
        outcome(lambda catalog=catalog: catalog.reserve(reservation_id=f"order-{uuid.uuid4().hex}", lines=lines))
        for catalog in (local, remote)
    ]

    short_skus = sorted([short, none])
    assert (
        results[0]
        == results[1]
        == (
            "error",
            409,
            "insufficient_stock",
            f"Not enough stock for {', '.join(short_skus)}.",
            None,
            {"skus": short_skus},
        )
    )
    for catalog in (local, remote):
        stock = {sku: product.stock for sku, product in uncached(catalog).products([plenty, short, none]).items()}
        assert stock == {plenty: 5, short: 2, none: 0}


# Headers: the request id on every call, credentials only where needed, never in a log


def test_every_call_carries_the_request_id(remote, peer, twins, monkeypatch):
    request_id = f"catalog-http-{uuid.uuid4().hex}"
    monkeypatch.setattr(request_local, "request_id", request_id, raising=False)

    remote.categories()
    remote.reserve(reservation_id=f"rid-{uuid.uuid4().hex}", lines=[{"sku": twins(1), "quantity": 1}])

    def posted(line):
        return '"POST /api/catalog/stock-reservations/ ' in line and '" 201 ' in line

    lines = peer.log_lines_with(f"request_id={request_id}", until=posted)
    assert any('"GET /api/catalog/categories/' in line for line in lines), peer.log()[-2000:]
    assert any(posted(line) for line in lines), peer.log()[-2000:]


def test_a_refused_reservation_is_unavailable_and_logs_no_token(remote_settings, twins, caplog):
    token = f"secret-{uuid.uuid4().hex}"  # not the peer's
    remote_settings.CATALOG_SERVICE_TOKEN = token
    remote = RemoteCatalog()

    with pytest.raises(CatalogUnavailable):
        remote.reserve(reservation_id=f"rid-{uuid.uuid4().hex}", lines=[{"sku": twins(1), "quantity": 1}])

    assert "CATALOG_SERVICE_TOKEN" in caplog.text
    assert token not in caplog.text and token[:16] not in caplog.text
    assert remote.breaker.current_state == "closed"  # a refusal is an answer: the service is up


def test_reads_need_no_credentials(remote_settings, local):
    remote_settings.CATALOG_SERVICE_TOKEN = ""

    assert RemoteCatalog().product("COF-0001") == local.product("COF-0001")


# Caching: pages may be CACHE_SECONDS old, checkout never


def test_reads_are_cached_and_a_reservation_is_priced_live(remote, peer, twins):
    sku = twins(5, price="5.00")
    assert remote.product(sku).price == Decimal("5.00")

    peer.api.patch(
        f"{peer.url}/api/catalog/products/{sku}/", json={"price": "7.00", "name": "Renamed"}, timeout=5
    ).raise_for_status()

    assert remote.product(sku).price == Decimal("5.00")
    assert remote.products([sku])[sku].price == Decimal("5.00")
    reserved = remote.reserve(reservation_id=f"order-{uuid.uuid4().hex}", lines=[{"sku": sku, "quantity": 2}])
    assert reserved == {sku: ReservedLine(sku=sku, quantity=2, name="Renamed", price=Decimal("7.00"), currency="EUR")}


def test_a_changed_price_shows_once_the_cache_expires(remote_settings, peer, twins, monkeypatch):
    monkeypatch.setattr(catalog_http, "CACHE_SECONDS", 0.5)
    remote = RemoteCatalog()
    sku = twins(5, price="5.00")
    assert remote.products([sku])[sku].price == Decimal("5.00")

    peer.api.patch(f"{peer.url}/api/catalog/products/{sku}/", json={"price": "6.00"}, timeout=5).raise_for_status()
    time.sleep(0.6)

    assert remote.products([sku])[sku].price == Decimal("6.00")


def test_checkout_through_the_remote_catalog_charges_the_live_price_and_holds_the_stock_there(
    remote_settings,
    fresh_adapters,
    peer,
    twins,
    place_order,
    api,
):
    remote_settings.CATALOG_BACKEND = "remote"
    sku = twins(5, price="5.00")
    assert get_catalog().products([sku])[sku].price == Decimal("5.00")  # now in the cache
    peer.api.patch(f"{peer.url}/api/catalog/products/{sku}/", json={"price": "7.00"}, timeout=5).raise_for_status()

    order = place_order([{"sku": sku, "quantity": 2}])

    assert Decimal(order["total"]) == Decimal("14.00")
    assert peer.product(sku)["stock"] == 3
    paid = api.post(
        f"/api/orders/{order['number']}/pay/",
        {"card": GOOD_CARD},
        format="json",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert paid.status_code == 201, paid.content
    placed = Order.objects.get(number=order["number"])
    reservation_url = f"{peer.url}/api/catalog/stock-reservations/{placed.reservation_id}/"

    # Paid, and the units still held: the relay, not the shopper's request, commits them.
    assert (placed.status, placed.stock_commit_due) == ("paid", True)
    assert peer.api.get(reservation_url, timeout=5).json()["status"] == "held"
    call_command("payments_relay", "--once", stdout=io.StringIO())

    assert peer.api.get(reservation_url, timeout=5).json()["status"] == "committed"
    assert Order.objects.get(pk=placed.pk).stock_commit_due is False
    assert peer.product(sku)["stock"] == 3


def test_the_relay_commits_a_paid_orders_stock_once_the_catalog_is_back(
    remote_settings,
    fresh_adapters,
    peer,
    twins,
    place_order,
    api,
):
    remote_settings.CATALOG_BACKEND = "remote"
    sku = twins(5)
    order = place_order([{"sku": sku, "quantity": 1}])
    paid = api.post(
        f"/api/orders/{order['number']}/pay/",
        {"card": GOOD_CARD},
        format="json",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert paid.status_code == 201, paid.content

    peer.stop()
    call_command("payments_relay", "--once", stdout=io.StringIO())  # the catalog is down: nothing lost, still due
    assert Order.objects.get(number=order["number"]).stock_commit_due is True
    peer.start()
    get_catalog().breaker.close()  # as if BREAKER_RESET_SECONDS had passed
    call_command("payments_relay", "--once", stdout=io.StringIO())

    placed = Order.objects.get(number=order["number"])
    assert (placed.status, placed.stock_commit_due) == ("paid", False)
    reservation = peer.api.get(f"{peer.url}/api/catalog/stock-reservations/{placed.reservation_id}/", timeout=5).json()
    assert reservation["status"] == "committed"
    assert peer.product(sku)["stock"] == 4


def test_the_relay_commits_every_paid_order_due_in_one_go_and_gives_up_on_a_released_reservation(
    remote_settings,
    fresh_adapters,
    peer,
    twins,
    place_order,
    api,
    caplog,
):
    remote_settings.CATALOG_BACKEND = "remote"
    sku = twins(5)
    numbers = []
    for _ in range(3):
        order = place_order([{"sku": sku, "quantity": 1}])
        paid = api.post(
            f"/api/orders/{order['number']}/pay/",
            {"card": GOOD_CARD},
            format="json",
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert paid.status_code == 201, paid.content
        numbers.append(order["number"])
    lost = Order.objects.get(number=numbers[1])
    peer.api.post(
        f"{peer.url}/api/catalog/stock-reservations/{lost.reservation_id}/release/", timeout=5
    ).raise_for_status()

    call_command("payments_relay", "--once", stdout=io.StringIO())

    orders = Order.objects.filter(number__in=numbers)
    assert [order.stock_commit_due for order in orders] == [False, False, False]
    statuses = {
        order.number: peer.api.get(
            f"{peer.url}/api/catalog/stock-reservations/{order.reservation_id}/", timeout=5
        ).json()["status"]
        for order in orders
    }
    assert statuses == {numbers[0]: "committed", numbers[1]: "released", numbers[2]: "committed"}
    assert f"Order {numbers[1]} is paid, but its reservation" in caplog.text


# Outage: fail fast, open the breaker, recover


def test_a_stopped_catalog_is_unavailable_at_once_and_opens_the_breaker(settings):
    assert not listening(CLOSED_URL.removeprefix("http://"))
    settings.CATALOG_SERVICE_URL = CLOSED_URL
    remote = RemoteCatalog()

    for _ in range(service_client.BREAKER_FAIL_MAX):
        started = time.monotonic()
        with pytest.raises(CatalogUnavailable):
            remote.categories()
        assert time.monotonic() - started < FAST

    assert remote.breaker.current_state == "open"
    error = outcome(lambda: remote.product("COF-0001"))
    assert error[:3] == ("error", 503, "catalog_unavailable")


def test_a_hung_catalog_is_unavailable_after_the_read_timeout(settings):
    with socket.socket() as hung:
        hung.bind(HUNG_ADDRESS)
        hung.listen()  # the kernel completes the handshakes; nobody ever reads or answers
        settings.CATALOG_SERVICE_URL = "http://{}:{}".format(*HUNG_ADDRESS)
        started = time.monotonic()
        with pytest.raises(CatalogUnavailable):
            RemoteCatalog().categories()

    assert time.monotonic() - started < FAST


class Always503(BaseHTTPRequestHandler):
    """A catalog behind a proxy with nothing behind it: every request a 503 that asks for a long wait."""

    hits = Counter()  # requests by method; replaced for each test

    def do_GET(self):
        self.fail()

    def do_POST(self):
        self.fail()

    def fail(self):
        self.hits[self.command] += 1
        self.send_response(503)
        self.send_header("Retry-After", "120")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass  # not on the test's output


@pytest.fixture
def failing_catalog(monkeypatch):
    monkeypatch.setattr(Always503, "hits", Counter())
    server = ThreadingHTTPServer(FAILING_ADDRESS, Always503)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield "http://{}:{}".format(*FAILING_ADDRESS)
    finally:
        server.shutdown()
        server.server_close()


def test_a_failing_catalog_is_asked_again_for_a_get_but_never_for_a_post(settings, failing_catalog):
    settings.CATALOG_SERVICE_URL = failing_catalog
    remote = RemoteCatalog()

    started = time.monotonic()
    with pytest.raises(CatalogUnavailable):
        remote.categories()
    with pytest.raises(CatalogUnavailable):
        remote.reserve(reservation_id="order-1-1", lines=[{"sku": "COF-0001", "quantity": 1}])

    assert time.monotonic() - started < FAST  # Retry-After: 120 is not obeyed
    assert Always503.hits == {"GET": 1 + service_client.READ_RETRY.status, "POST": 1}


def test_the_breaker_fails_fast_while_open_and_closes_when_the_catalog_is_back(remote, peer):
    # An sku that no product has: never cached, so every read asks the service.
    assert remote.products(["NOPE-0001"]) == {}
    peer.stop()
    for _ in range(service_client.BREAKER_FAIL_MAX):
        with pytest.raises(CatalogUnavailable):
            remote.products(["NOPE-0001"])
    assert remote.breaker.current_state == "open"
    assert remote.breaker.reset_timeout == service_client.BREAKER_RESET_SECONDS

    # Held open while the peer starts, however long that takes on a busy machine.
    remote.breaker.reset_timeout = 3600
    peer.start()
    with pytest.raises(CatalogUnavailable):  # the catalog is back, but the open breaker does not ask it yet
        remote.products(["NOPE-0001"])
    remote.breaker.reset_timeout = 0  # as if BREAKER_RESET_SECONDS had passed

    assert remote.products(["NOPE-0001"]) == {}  # the half-open trial call
    assert remote.breaker.current_state == "closed"


# The shop's pages with the catalog down


@pytest.fixture
def catalog_down(settings, fresh_adapters):
    settings.CATALOG_BACKEND = "remote"
    settings.CATALOG_SERVICE_URL = CLOSED_URL
    return settings


def client_with_a_cart():
    client = Client()
    session = client.session
    session["cart"] = {"COF-0001": 2}
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key  # the signed cookie is the session
    return client


@pytest.mark.parametrize(
    "method, url, data",
    [
        ("get", "/", None),
        ("get", "/products/?category=coffee&page=2", None),
        ("get", "/products/COF-0001/", None),
        ("get", "/cart/", None),
        ("get", "/checkout/", None),
        ("post", "/cart/add/", {"sku": "COF-0001", "quantity": 1}),
    ],
)
def test_a_page_that_needs_the_catalog_says_it_is_unavailable(catalog_down, db, method, url, data):
    client = client_with_a_cart()

    for _ in range(service_client.BREAKER_FAIL_MAX + 1):  # before the breaker opens, and after
        started = time.monotonic()
        response = getattr(client, method)(url, data)
        assert time.monotonic() - started < FAST
        assert response.status_code == 503
        page = response.content.decode()
        assert "temporarily unavailable" in page and "Nothing was lost" in page and "try again" in page
        assert "Traceback" not in page
        assert response["Content-Type"].startswith("text/html")


def test_pages_that_do_not_need_the_catalog_keep_working(
    settings, fresh_adapters, customer, customer_api, make_product
):
    make_product("COF-0001", stock=5)
    order = customer_api.post(
        "/api/orders/",
        {"email": "demo@example.com", "shipping": SHIPPING, "lines": [{"sku": "COF-0001", "quantity": 1}]},
        format="json",
    ).json()
    settings.CATALOG_BACKEND = "remote"
    settings.CATALOG_SERVICE_URL = CLOSED_URL
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    client.login(username="demo", password="demo")

    for url in ("/orders/", f"/orders/{order['number']}/", "/accounts/login/", "/healthz", "/readyz"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert order["number"] in client.get("/orders/").content.decode()


def test_the_api_answers_json_503_when_it_needs_the_catalog(catalog_down, db, api):
    started = time.monotonic()
    response = api.post(
        "/api/orders/",
        {"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": "COF-0001", "quantity": 1}]},
        format="json",
    )

    assert time.monotonic() - started < FAST
    assert response.status_code == 503
    assert response.json()["code"] == "catalog_unavailable"


def test_a_json_client_of_a_page_gets_json_503(catalog_down, db):
    response = Client().get("/products/", headers={"Accept": "application/json"})

    assert response.status_code == 503
    assert response.json()["code"] == "catalog_unavailable"
