"""catalog_push and catalog_pull against a real catalog service: complete, idempotent, resumable, verified.

The catalog service runs under gunicorn on a database of its own (tests/servers.py), emptied
before each test; the monolith's side is the test database, where the commands run in-process.
"""

import io
import os
import subprocess
import sys
from decimal import Decimal
from urllib.parse import urlsplit

import psycopg2
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from monolith.catalog import services
from monolith.catalog.models import Category, Product
from monolith.catalog.transfer import export_rows as monolith_snapshot
from monolith.orders.models import OrderLine
from monolith.strangler.catalog_move import CatalogService
from monolith.strangler.moves import TransferError
from tests.servers import CATALOG, REPO, free_port, serve

SERVICE_PORT = free_port()
TOKEN = "move-test-token"
CATEGORIES = 3
PRODUCTS = 31  # more than one page of --batch 7, one of them inactive


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with serve(
        CATALOG,
        port=SERVICE_PORT,
        name="catalog_move",
        log_dir=tmp_path_factory.mktemp("catalog-move"),
        env={"SERVICE_TOKENS": f"monolith={TOKEN}"},
        setup=lambda server: server.manage("seed_catalog"),
    ) as server:
        yield server


@pytest.fixture
def empty_service(service):
    """The service with no catalog at all, as before the first push."""
    with psycopg2.connect(service.database_url) as database, database.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_stockreservationline, catalog_stockreservation, catalog_product, catalog_category"
        )
    database.close()
    return service


@pytest.fixture
def catalog(db):
    """The monolith's catalog: three categories, one of them empty, and PRODUCTS products."""
    coffee = services.category_create(slug="coffee", name="Coffee", description="Beans.")
    tea = services.category_create(slug="tea", name="Tea", description="Leaves.")
    services.category_create(slug="gifts", name="Gifts")
    for n in range(1, PRODUCTS + 1):
        services.product_create(
            sku=f"MOV-{n:04d}",
            name=f"Moved product {n}",
            category=coffee if n % 2 else tea,
            price=Decimal(f"{n}.{n % 4 * 25:02d}"),
            description=f"Number {n}.",
            stock=n % 6,
            is_active=n != PRODUCTS,
        )


def run(command, service, *args):
    """Run catalog_push or catalog_pull against `service`: its stdout, or CommandError."""
    out, err = io.StringIO(), io.StringIO()
    option = "--to" if command == "catalog_push" else "--from"
    try:
        call_command(command, option, service.url, "--token", TOKEN, *args, stdout=out, stderr=err)
    except CommandError as error:
        raise CommandError(f"{error}\n{err.getvalue()}") from None
    return out.getvalue()


def service_snapshot(service):
    return CatalogService(service.url, TOKEN).snapshot()


def counts_line(kind, created, updated, unchanged):
    return f"{kind}: {created} created, {updated} updated, {unchanged} unchanged."


def test_a_push_into_an_empty_service_copies_every_row_and_verifies_it(empty_service, catalog):
    output = run("catalog_push", empty_service, "--batch", "7")

    assert counts_line("Categories", CATEGORIES, 0, 0) in output
    assert counts_line("Products", PRODUCTS, 0, 0) in output
    assert f"Verified: {CATEGORIES} categories, {PRODUCTS} products, 0 stock-reservations on both sides" in output
    assert service_snapshot(empty_service) == monolith_snapshot()
    inactive = empty_service.product(f"MOV-{PRODUCTS:04d}")
    assert (inactive["is_active"], inactive["stock"], inactive["price"]) == (False, 1, "31.75")


def test_a_second_push_changes_nothing(empty_service, catalog):
    run("catalog_push", empty_service)
    stamps = {sku: empty_service.product(sku)["updated_at"] for sku in ("MOV-0001", "MOV-0017")}

    output = run("catalog_push", empty_service, "--batch", "7")

    assert counts_line("Categories", 0, 0, CATEGORIES) in output
    assert counts_line("Products", 0, 0, PRODUCTS) in output
    assert {sku: empty_service.product(sku)["updated_at"] for sku in stamps} == stamps  # not even rewritten


def test_a_pull_brings_the_services_changes_into_the_monolith(empty_service, catalog):
    run("catalog_push", empty_service)
    api, base = empty_service.api, f"{empty_service.url}/api/catalog"
    api.patch(f"{base}/products/MOV-0003/", json={"price": "99.90", "stock": 42}, timeout=5).raise_for_status()
    api.patch(
        f"{base}/products/MOV-0004/", json={"is_active": False, "category": "gifts"}, timeout=5
    ).raise_for_status()
    api.post(f"{base}/categories/", json={"slug": "mugs", "name": "Mugs"}, timeout=5).raise_for_status()
    api.post(
        f"{base}/products/",
        json={"sku": "NEW-0001", "name": "New at stage 1", "category": "mugs", "price": "5.00", "stock": 7},
        timeout=5,
    ).raise_for_status()

    output = run("catalog_pull", empty_service, "--batch", "7")

    assert counts_line("Categories", 1, 0, CATEGORIES) in output
    assert counts_line("Products", 1, 2, PRODUCTS - 2) in output
    changed = Product.objects.get(sku="MOV-0003")
    assert (changed.price, changed.stock) == (Decimal("99.90"), 42)
    hidden = Product.objects.select_related("category").get(sku="MOV-0004")
    assert (hidden.is_active, hidden.category.slug) == (False, "gifts")
    assert Product.objects.get(sku="NEW-0001").category == Category.objects.get(slug="mugs")
    assert monolith_snapshot() == service_snapshot(empty_service)


def test_a_push_brings_the_monoliths_changes_into_the_service(empty_service, catalog):
    run("catalog_push", empty_service)
    services.product_update(product=Product.objects.get(sku="MOV-0005"), price=Decimal("1.05"), stock=0)
    services.category_update(category=Category.objects.get(slug="tea"), description="Leaves, steeped.")

    output = run("catalog_push", empty_service)

    assert counts_line("Categories", 0, 1, CATEGORIES - 1) in output
    assert counts_line("Products", 0, 1, PRODUCTS - 1) in output
    assert (empty_service.product("MOV-0005")["price"], empty_service.product("MOV-0005")["stock"]) == ("1.05", 0)


def test_the_round_trip_keeps_every_change_and_never_touches_order_lines(empty_service, catalog, place_order):
    order = place_order([{"sku": "MOV-0011", "quantity": 2}])  # 11.75 each when ordered, 5 in stock
    api, base = empty_service.api, f"{empty_service.url}/api/catalog"

    run("catalog_push", empty_service)  # stage 0 → 1
    api.patch(f"{base}/products/MOV-0011/", json={"price": "70.00", "stock": 9}, timeout=5).raise_for_status()
    run("catalog_pull", empty_service)  # 1 → 0
    services.product_update(product=Product.objects.get(sku="MOV-0008"), price=Decimal("80.00"), stock=3)
    run("catalog_push", empty_service)  # 0 → 1
    api.patch(f"{base}/products/MOV-0009/", json={"stock": 90}, timeout=5).raise_for_status()
    output = run("catalog_pull", empty_service)  # 1 → 0

    assert "Verified" in output
    assert [
        (p.sku, p.price, p.stock)
        for p in Product.objects.filter(sku__in=["MOV-0008", "MOV-0009", "MOV-0011"]).order_by("sku")
    ] == [("MOV-0008", Decimal("80.00"), 3), ("MOV-0009", Decimal("9.25"), 90), ("MOV-0011", Decimal("70.00"), 9)]
    assert monolith_snapshot() == service_snapshot(empty_service)
    line = OrderLine.objects.get(order__number=order["number"])
    assert (line.name, line.unit_price, line.quantity) == ("Moved product 11", Decimal("11.75"), 2)


def test_a_dry_run_says_what_it_would_do_and_does_nothing(empty_service, catalog):
    output = run("catalog_push", empty_service, "--dry-run")

    assert "Would create product MOV-0001: sku='MOV-0001'" in output
    assert f"Products: {PRODUCTS} would be created, 0 would be updated, 0 unchanged." in output
    assert service_snapshot(empty_service) == {"category": {}, "product": {}, "reservation": {}}

    run("catalog_push", empty_service)
    empty_service.api.patch(
        f"{empty_service.url}/api/catalog/products/MOV-0002/", json={"stock": 50}, timeout=5
    ).raise_for_status()
    before = monolith_snapshot()

    output = run("catalog_pull", empty_service, "--dry-run")

    assert "Would update product MOV-0002: stock=50" in output
    assert monolith_snapshot() == before


def test_an_interrupted_push_completes_when_run_again(empty_service, catalog, monkeypatch):
    create, calls = CatalogService.create, []

    def create_then_lose_the_connection(self, kind, row):
        if len(calls) == 10:
            raise TransferError("Cannot reach the catalog service (ConnectionError).")
        calls.append(row)
        create(self, kind, row)

    monkeypatch.setattr(CatalogService, "create", create_then_lose_the_connection)
    with pytest.raises(CommandError, match=f"Stopped after 10 of {CATEGORIES + PRODUCTS} changes; run again"):
        run("catalog_push", empty_service)
    monkeypatch.undo()

    output = run("catalog_push", empty_service)

    assert counts_line("Categories", 0, 0, CATEGORIES) in output
    assert counts_line("Products", PRODUCTS - 7, 0, 7) in output
    assert service_snapshot(empty_service) == monolith_snapshot()


@pytest.mark.parametrize("command", ["catalog_push", "catalog_pull"])
def test_a_wrong_token_is_a_clear_error_without_a_traceback(empty_service, db, command):
    # A real manage.py, to see what an operator sees; its database is the tests' own (empty here).
    test_database = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}").geturl()
    option = "--to" if command == "catalog_push" else "--from"

    result = subprocess.run(
        [sys.executable, "manage.py", command, option, empty_service.url, "--token", "not-the-token"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": test_database, "DJANGO_SETTINGS_MODULE": "monolith.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "refused the service token (401)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "not-the-token" not in result.stderr + result.stdout


def test_the_verification_reports_differences_made_behind_the_commands_back(empty_service, catalog, monkeypatch):
    api, base = empty_service.api, f"{empty_service.url}/api/catalog"
    create = CatalogService.create

    def create_while_someone_edits(self, kind, row):
        create(self, kind, row)
        if row.get("sku") == f"MOV-{PRODUCTS:04d}":  # the last write: a concurrent writer changes a pushed row
            api.patch(f"{base}/products/MOV-0001/", json={"price": "0.01"}, timeout=5).raise_for_status()
            api.post(
                f"{base}/products/",
                json={"sku": "XTR-0001", "name": "Only there", "category": "gifts", "price": "1.00"},
                timeout=5,
            ).raise_for_status()

    monkeypatch.setattr(CatalogService, "create", create_while_someone_edits)
    with pytest.raises(CommandError) as failure:
        run("catalog_push", empty_service)

    report = str(failure.value)
    assert "Verification failed: 2 differences remain" in report
    assert "product MOV-0001: price: monolith '1.25', service '0.01'" in report
    assert "product XTR-0001: only in the catalog service" in report
