"""`manage.py set_stage`: the catalog, its held reservations and its deletions move to the owner of
the stage, the stage is recorded, and the monolith follows it: its catalog port, its
/api/catalog/ (passed on to the service from stage 1) and its admin (read-only from stage 1).
Against a real catalog service on its own database."""

import base64
import io
from decimal import Decimal

import psycopg2
import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from monolith import wiring
from monolith.catalog import services
from monolith.catalog.models import Product, StockReservation
from monolith.catalog.transfer import export_rows as monolith_snapshot
from monolith.strangler import gate
from monolith.strangler.catalog_move import CatalogService
from monolith.strangler.models import StageMove
from monolith.strangler.moves import Difference, Move
from monolith.strangler.selectors import current_stage
from monolith.wiring import get_catalog
from tests.servers import CATALOG, serve

SERVICE_PORT = 8092
TOKEN = "stage-test-token"
HELD = "order-STAGETEST1-1"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with serve(
        CATALOG,
        port=SERVICE_PORT,
        name="catalog_stage",
        log_dir=tmp_path_factory.mktemp("catalog-stage"),
        env={"SERVICE_TOKENS": f"monolith={TOKEN}"},
        setup=lambda server: server.manage("seed_catalog"),
    ) as server:
        yield server


@pytest.fixture
def empty_service(service):
    with psycopg2.connect(service.database_url) as database, database.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_stockreservationline, catalog_stockreservation, catalog_product, catalog_category"
        )
    database.close()
    return service


@pytest.fixture
def shop(db, empty_service, settings):
    """The monolith at stage 0 pointed at the service, with a small catalog and one held reservation."""
    settings.CATALOG_BACKEND = "stage"
    settings.CATALOG_SERVICE_URL = empty_service.url
    settings.CATALOG_SERVICE_TOKEN = TOKEN
    with wiring.override():  # adapters built afresh, with these settings
        beans = services.category_create(slug="beans", name="Beans")
        services.category_create(slug="empty", name="Empty")
        for n in range(1, 6):
            services.product_create(
                sku=f"STG-{n}", name=f"Staged {n}", category=beans, price=Decimal(f"{n}.50"), stock=10
            )
        get_catalog().reserve(reservation_id=HELD, lines=[{"sku": "STG-1", "quantity": 3}])
        yield empty_service


def set_stage(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("set_stage", *map(str, args), "--no-progress", stdout=out, stderr=err)
    except CommandError as error:
        raise CommandError(f"{error}\n{err.getvalue()}") from None
    return out.getvalue()


def service_product(service, sku):
    return requests.get(f"{service.url}/api/catalog/products/{sku}/", timeout=5)


def test_stage_1_moves_the_catalog_and_its_held_reservation_and_the_port_follows(shop):
    output = set_stage(1)

    assert current_stage() == 1
    assert "Stage 0 → 1" in output and "Stage 1 recorded" in output
    assert "Verified: 2 categories, 5 products, 1 stock-reservations on both sides" in output
    assert CatalogService(shop.url, TOKEN).snapshot() == monolith_snapshot()
    # The held reservation moved as it stood: its 3 units are out of the stock that moved with it.
    assert service_product(shop, "STG-1").json()["stock"] == 7
    # The port now goes to the service: committing the order's reservation there, not here.
    get_catalog().commit(reservation_id=HELD)
    held_there = shop.api.get(f"{shop.url}/api/catalog/stock-reservations/{HELD}/", timeout=5).json()
    assert held_there["status"] == "committed"
    assert StockReservation.objects.get(reservation_id=HELD).status == "held"  # the monolith's copy, as moved
    assert service_product(shop, "STG-1").json()["stock"] == 7
    assert get_catalog().product("STG-2").price == Decimal("2.50")


def test_stage_0_brings_back_every_change_and_deletion_made_at_stage_1(shop):
    set_stage(1)
    api, base = shop.api, f"{shop.url}/api/catalog"
    api.patch(f"{base}/products/STG-2/", json={"price": "9.99", "stock": 4}, timeout=5).raise_for_status()
    api.post(
        f"{base}/products/",
        json={"sku": "STG-NEW", "name": "New at stage 1", "category": "beans", "price": "1.00", "stock": 2},
        timeout=5,
    ).raise_for_status()
    api.delete(f"{base}/products/STG-5/", timeout=5).raise_for_status()
    api.delete(f"{base}/categories/empty/", timeout=5).raise_for_status()
    get_catalog().release(reservation_id=HELD)

    output = set_stage(0)

    assert current_stage() == 0
    assert "Stage 1 → 0" in output and "Stage 0 recorded" in output
    assert Product.objects.get(sku="STG-2").price == Decimal("9.99")
    assert Product.objects.get(sku="STG-2").stock == 4
    assert Product.objects.get(sku="STG-NEW").name == "New at stage 1"
    assert not Product.objects.filter(sku="STG-5").exists()
    assert StockReservation.objects.get(reservation_id=HELD).status == "released"
    assert Product.objects.get(sku="STG-1").stock == 10  # released once, in the service; not again here
    assert CatalogService(shop.url, TOKEN).snapshot() == monolith_snapshot()
    # Each step is on record for the staff page, newest first, with how long writes were held.
    moves = list(StageMove.objects.all())
    assert [(move.from_number, move.to_number) for move in moves] == [(1, 0), (0, 1)]
    assert all(move.writes_held_ms is not None and 0 <= move.seconds < 60 for move in moves)
    # Forward again: nothing left to copy.
    assert "Copied while serving: nothing." in set_stage(1)


def test_the_same_stage_again_changes_nothing_and_unbuilt_stages_are_refused(shop):
    assert "Already at stage 0: nothing to move." in set_stage(0)
    with pytest.raises(CommandError, match="Stage 3 is not built yet"):
        set_stage(3)
    assert set_stage().strip() == "0"


def test_a_failed_verification_records_no_stage(shop, monkeypatch):
    monkeypatch.setattr(Move, "verify", lambda self: [Difference("product", "STG-1", "price", "1.50", "0.01")])

    with pytest.raises(CommandError, match="1 differences remain; still at stage 0") as failure:
        set_stage(1)

    assert "product STG-1: price: monolith '1.50', service '0.01'" in str(failure.value)
    assert current_stage() == 0
    assert not StageMove.objects.exists()


def test_the_live_switch_is_refused_on_a_database_without_advisory_locks(shop, monkeypatch):
    monkeypatch.setattr(gate, "enforced", lambda: False)

    with pytest.raises(CommandError, match="The live switch needs PostgreSQL"):
        set_stage(1, "--live")
    with pytest.raises(CommandError, match="The live switch needs PostgreSQL"):
        set_stage("--live")  # `shop stage` asks so before it touches the facade
    assert current_stage() == 0


def test_from_stage_1_the_monoliths_catalog_api_is_the_services(shop, client):
    local = client.get("/api/catalog/products/STG-2/")
    assert local.status_code == 200 and local["X-Served-By"] == "monolith"
    set_stage(1)
    shop.api.patch(f"{shop.url}/api/catalog/products/STG-2/", json={"price": "7.77"}, timeout=5).raise_for_status()

    read = client.get("/api/catalog/products/STG-2/", HTTP_X_REQUEST_ID="stage-test-read")
    admin = "Basic " + base64.b64encode(b"admin:admin").decode()
    write = client.patch(
        "/api/catalog/products/STG-3/", {"price": "3.33"}, content_type="application/json", HTTP_AUTHORIZATION=admin
    )
    anonymous_write = client.patch("/api/catalog/products/STG-3/", {"price": "0.01"}, content_type="application/json")

    assert read.status_code == 200 and read["X-Served-By"] == "catalog"
    assert read.json()["price"] == "7.77"
    assert shop.log_lines_with("stage-test-read", until=lambda line: "/api/catalog/products/STG-2/" in line)
    assert write.status_code == 200, write.content
    assert service_product(shop, "STG-3").json()["price"] == "3.33"
    assert Product.objects.get(sku="STG-3").price == Decimal("3.50")  # the monolith's copy is not the catalog now
    assert anonymous_write.status_code in (401, 403) and anonymous_write["X-Served-By"] == "catalog"


def test_from_stage_1_the_monoliths_catalog_admin_is_read_only(shop, admin_client):
    product = Product.objects.get(sku="STG-2")
    set_stage(1)

    changelist = admin_client.get("/admin/catalog/product/")
    change = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", {"price": "0.01"})

    assert changelist.status_code == 200
    assert "the catalog service owns the catalog" in changelist.content.decode()
    assert change.status_code == 403
    assert Product.objects.get(sku="STG-2").price == Decimal("2.50")
