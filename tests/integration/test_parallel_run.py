"""The parallel run (CATALOG_BACKEND=shadow) over real HTTP: pages served from the local catalog, every difference recorded.

The catalog service is played by the monolith itself under gunicorn (it serves /api/catalog/
at stage 0), on a database of its own seeded with the rows each test seeds into the test
database, so the two catalogs agree until a test changes one behind the other's back.
"""

import dataclasses
import io
import socket
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from monolith import wiring
from monolith.adapters.catalog_shadow import ShadowCatalog, differences
from monolith.catalog.models import Category, Product
from monolith.parallel_run.models import ShadowDifference
from monolith.ports.catalog import ProductInfo
from monolith.wiring import get_catalog
from tests.servers import MONOLITH, free_port, listening, serve

PEER_PORT = free_port()
PEER_TOKEN = f"peer-{uuid.uuid4().hex}"
FAST = 2  # seconds: the contract's bound for a page when the catalog service is down

PAGES = ["/", "/products/?category=tea", "/products/COF-0001/", "/products/?q=roast&ordering=-price"]


def seed_catalog():
    """Two categories and five products, the same in both databases (updated_at aside: it is not compared)."""
    coffee = Category.objects.create(slug="coffee", name="Coffee", description="Beans.")
    tea = Category.objects.create(slug="tea", name="Tea", description="Leaves.")
    Product.objects.bulk_create(
        [
            Product(
                sku="COF-0001",
                name="Harbour Roast",
                slug="harbour-roast",
                category=coffee,
                price=Decimal("12.50"),
                stock=5,
            ),
            Product(
                sku="COF-0002",
                name="Alpine Roast",
                slug="alpine-roast",
                category=coffee,
                price=Decimal("9.00"),
                stock=0,
            ),
            Product(
                sku="COF-0003",
                name="Retired Roast",
                slug="retired-roast",
                category=coffee,
                price=Decimal("7.00"),
                stock=3,
                is_active=False,
            ),
            Product(
                sku="TEA-0001", name="Meadow Sencha", slug="meadow-sencha", category=tea, price=Decimal("6.25"), stock=8
            ),
            Product(
                sku="TEA-0002", name="Copper Oolong", slug="copper-oolong", category=tea, price=Decimal("8.75"), stock=2
            ),
        ]
    )


def seed_peer():
    seed_catalog()
    get_user_model().objects.create_user("admin", "admin@example.com", "admin", is_staff=True)


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    def setup(server):
        server.manage(
            "shell",
            "--verbosity",
            "0",
            "--command",
            "from tests.integration.test_parallel_run import seed_peer; seed_peer()",
        )

    with serve(
        MONOLITH,
        port=PEER_PORT,
        name="shadow_peer",
        log_dir=tmp_path_factory.mktemp("shadow-peer"),
        env={"SERVICE_TOKENS": f"monolith={PEER_TOKEN}"},
        setup=setup,
    ) as server:
        yield server


@pytest.fixture
def shadow(peer, settings, db):
    """CATALOG_BACKEND=shadow against the peer, with the peer's rows in the test database and new adapters."""
    peer.ensure_running()
    seed_catalog()
    settings.CATALOG_BACKEND = "shadow"
    settings.CATALOG_SERVICE_URL = peer.url
    settings.CATALOG_SERVICE_TOKEN = PEER_TOKEN
    with wiring.override():  # get_catalog() keeps one adapter per process: this test's, built from these settings
        yield settings


@pytest.fixture
def twin(peer):
    """twin(price, stock): a new product, the same in both catalogs, for a test that changes one of them."""
    made = []

    def make(price="5.00", stock=5):
        sku = f"TWN-{uuid.uuid4().hex[:8].upper()}"
        body = {"sku": sku, "name": f"Twin {sku}", "category": "coffee", "price": price, "stock": stock}
        response = peer.api.post(f"{peer.url}/api/catalog/products/", json=body, timeout=5)
        assert response.status_code == 201, response.text
        made.append(sku)
        Product.objects.create(
            **{**body, "slug": response.json()["slug"], "category": Category.objects.get(slug="coffee")}
        )
        return sku

    yield make
    for sku in made:  # the peer's database outlives the test's: leave its catalog as seeded
        peer.api.delete(f"{peer.url}/api/catalog/products/{sku}/", timeout=5)


@pytest.fixture
def closed_url():
    """The address of a catalog service that is stopped: a port the system just gave out and nobody listens on."""
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{spare.getsockname()[1]}"
    assert not listening(address)
    return f"http://{address}"


def get(url, request_id=None):
    return Client().get(url, headers={"X-Request-ID": request_id or uuid.uuid4().hex})


# Equal catalogs: nothing to record


def test_equal_catalogs_record_nothing_and_the_remote_is_asked(shadow, peer):
    request_id = f"shadow-{uuid.uuid4().hex}"
    assert isinstance(get_catalog(), ShadowCatalog)

    for url in PAGES:
        response = get(url, request_id)
        assert response.status_code == 200, url
    assert get("/products/COF-0003/").status_code == 404  # inactive: absent on both sides, which is no difference
    assert get("/products/?min_price=abc").status_code == 400  # the same ValidationError on both sides

    assert list(ShadowDifference.objects.values_list("method", "fields")) == []
    # The peer saw this request's reads, under its request id: the shadow really asked.
    lines = peer.log_lines_with(
        f"request_id={request_id}", until=lambda line: "/api/catalog/products/COF-0001/" in line
    )
    assert any('"GET /api/catalog/products/COF-0001/' in line for line in lines), peer.log()[-2000:]
    assert any('"GET /api/catalog/categories/' in line for line in lines)


def test_updated_at_is_not_compared(shadow):
    Product.objects.filter(sku="COF-0001").update(updated_at=timezone.now() - timedelta(days=30))

    assert get("/products/COF-0001/").status_code == 200

    assert not ShadowDifference.objects.exists()


def test_products_by_sku_compare_whatever_their_order_and_a_list_compares_its_order_too():
    first, second = (
        ProductInfo(sku, sku, sku.lower(), "", "tea", Decimal("1.00"), "EUR", 1, True, timezone.now())
        for sku in ("TEA-0001", "TEA-0002")
    )
    cheaper = dataclasses.replace(second, price=Decimal("0.50"), updated_at=timezone.now())

    assert differences({"TEA-0001": first, "TEA-0002": second}, {"TEA-0002": second, "TEA-0001": first}) == []
    assert differences([first, second], [second, first]) == [
        ("items", ["TEA-0001", "TEA-0002"], ["TEA-0002", "TEA-0001"])
    ]
    assert differences({"TEA-0002": second}, {"TEA-0002": cheaper}) == [
        ("[TEA-0002].price", Decimal("1.00"), Decimal("0.50"))
    ]


# Different catalogs: recorded, and the shopper sees the local one


def test_a_changed_price_is_a_mismatch_naming_the_field_and_the_page_shows_the_local_price(shadow, peer, twin):
    sku = twin(price="5.00")
    peer.api.patch(f"{peer.url}/api/catalog/products/{sku}/", json={"price": "7.00"}, timeout=5).raise_for_status()
    request_id = f"shadow-{uuid.uuid4().hex}"

    response = get(f"/products/{sku}/", request_id)

    assert response.status_code == 200
    page = response.content.decode()
    assert "5.00 EUR" in page and "7.00" not in page
    difference = ShadowDifference.objects.get(method="product")
    assert difference.kind == "mismatch"
    assert difference.arguments == {"sku": sku}
    assert difference.fields == ["price"]
    assert (difference.local_value, difference.remote_value) == ({"price": "5.00"}, {"price": "7.00"})
    assert difference.request_id == request_id


def test_a_list_names_the_product_and_field_that_differ(shadow, peer, twin):
    sku = twin(price="5.00", stock=4)
    peer.api.patch(
        f"{peer.url}/api/catalog/products/{sku}/", json={"name": "Renamed", "stock": 1}, timeout=5
    ).raise_for_status()

    assert get("/products/?category=coffee").status_code == 200

    difference = ShadowDifference.objects.get(method="product_page")
    assert difference.fields == [f"products[{sku}].name", f"products[{sku}].stock"]
    assert difference.local_value == {f"products[{sku}].name": f"Twin {sku}", f"products[{sku}].stock": 4}
    assert difference.remote_value == {f"products[{sku}].name": "Renamed", f"products[{sku}].stock": 1}


def test_a_product_missing_on_one_side_is_a_mismatch_of_error_against_value(shadow):
    Product.objects.create(
        sku="LOC-0001",
        name="Local only",
        slug="local-only",
        category=Category.objects.get(slug="tea"),
        price=Decimal("3.00"),
        stock=1,
    )

    assert get("/products/LOC-0001/").status_code == 200

    difference = ShadowDifference.objects.get(method="product")
    assert (difference.kind, difference.fields) == ("mismatch", ["error"])
    assert difference.local_value["error"]["sku"] == "LOC-0001"
    assert difference.remote_value["error"]["error"] == "NotFound"
    assert difference.remote_value["error"]["details"]["code"] == "unknown_sku"


def test_a_product_missing_locally_is_still_the_local_404(shadow):
    Product.objects.filter(sku="TEA-0002").delete()

    assert get("/products/TEA-0002/").status_code == 404

    difference = ShadowDifference.objects.get(method="product")
    assert difference.local_value["error"]["error"] == "NotFound"
    assert difference.remote_value["error"]["sku"] == "TEA-0002"


# Writes go to the local catalog only


def test_checkout_reserves_local_stock_only_and_the_difference_shows_afterwards(shadow, peer, twin, place_order):
    sku = twin(price="5.00", stock=5)

    order = place_order([{"sku": sku, "quantity": 2}])

    assert Decimal(order["total"]) == Decimal("10.00")
    assert Product.objects.get(sku=sku).stock == 3
    assert peer.product(sku)["stock"] == 5
    assert not ShadowDifference.objects.exists()  # the fresh read before the reservation agreed

    get(f"/products/{sku}/")

    assert ShadowDifference.objects.get(method="product").fields == ["stock"]


# The catalog service down: recorded, never felt


def test_a_stopped_catalog_service_is_a_remote_error_and_pages_are_served_from_local_fast(shadow, closed_url, twin):
    shadow.CATALOG_SERVICE_URL = closed_url
    sku = twin(price="5.00", stock=5)
    client = Client()

    for _ in range(3):  # before the breaker opens, and after
        for url in [*PAGES, f"/products/{sku}/"]:
            started = time.monotonic()
            response = client.get(url)
            assert time.monotonic() - started < FAST, url
            assert response.status_code == 200, url
    assert "5.00 EUR" in client.get(f"/products/{sku}/").content.decode()
    response = client.post("/cart/add/", {"sku": sku, "quantity": 1})
    assert response.status_code == 302
    assert client.get("/cart/").status_code == 200

    errors = ShadowDifference.objects.filter(kind="remote_error")
    assert errors.count() == ShadowDifference.objects.count() > 0
    assert set(errors.values_list("remote_value__error", flat=True)) == {"CatalogUnavailable"}
    assert {"categories", "product_page", "product", "products"} <= set(errors.values_list("method", flat=True))


# Staff see them; the command counts them


def record(method="product", kind="mismatch", minutes_ago=0):
    difference = ShadowDifference.objects.create(
        method=method,
        arguments={"sku": "COF-0001"},
        kind=kind,
        fields=["price"],
        local_value={"price": "5.00"},
        remote_value={"price": "7.00"},
        request_id="rid-1",
    )
    if minutes_ago:
        ShadowDifference.objects.filter(pk=difference.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes_ago)
        )
    return difference


def test_the_staff_page_lists_the_differences_with_counts(staff_user, shadow, peer, twin):
    sku = twin(price="5.00")
    peer.api.patch(f"{peer.url}/api/catalog/products/{sku}/", json={"price": "7.00"}, timeout=5).raise_for_status()
    get(f"/products/{sku}/")
    record(method="categories", kind="remote_error")
    client = Client()
    client.force_login(staff_user)

    response = client.get("/staff/parallel-run/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<td>product</td><td>mismatch</td><td class="num">1</td>' in page
    assert '<td>categories</td><td>remote_error</td><td class="num">1</td>' in page
    assert sku in page and "7.00" in page and ">price<" in page


def test_the_staff_page_is_for_staff_only(customer, db):
    anonymous = Client().get("/staff/parallel-run/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/accounts/login/?next=/staff/parallel-run/"

    client = Client()
    client.force_login(customer)
    assert client.get("/staff/parallel-run/").status_code == 403


def test_the_staff_page_says_when_there_is_nothing(staff_user):
    client = Client()
    client.force_login(staff_user)

    assert "No differences recorded." in client.get("/staff/parallel-run/").content.decode()


def test_the_report_counts_by_method_and_kind(db):
    record(), record(), record(method="products", kind="remote_error"), record(method="categories", minutes_ago=90)
    out = io.StringIO()

    call_command("parallel_run_report", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split() for line in lines[:-1]] == [
        ["categories", "mismatch", "1"],
        ["product", "mismatch", "2"],
        ["products", "remote_error", "1"],
    ]
    assert lines[-1] == "4 differences in all."

    out = io.StringIO()
    call_command("parallel_run_report", "--since", "60", stdout=out)
    assert "categories" not in out.getvalue() and "3 differences in the last 60 minutes." in out.getvalue()


def test_the_report_fails_if_asked_and_there_are_differences(db):
    out, err = io.StringIO(), io.StringIO()
    call_command("parallel_run_report", "--fail-if-any", stdout=out, stderr=err)  # none: no failure
    assert out.getvalue().strip() == "0 differences in all."

    record(minutes_ago=90)
    call_command("parallel_run_report", "--fail-if-any", "--since", "60", stdout=io.StringIO())  # none recently

    with pytest.raises(SystemExit) as exit_:
        call_command("parallel_run_report", "--fail-if-any", stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert "/staff/parallel-run/" in err.getvalue()
