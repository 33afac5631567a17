"""The monolith's in-process catalog fault switch (monolith/ops/faults.py), which the failure
exercises use at stage 0: off by default (and unread without CATALOG_FAULT_SWITCH), latency and
failures injected into the catalog's reads once set with `manage.py catalog_faults`, and no URL
that reaches it."""

import time

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from monolith.catalog import selectors
from monolith.ops import faults


@pytest.fixture(autouse=True)
def switch_on(db, monkeypatch, settings):
    settings.CATALOG_FAULT_SWITCH = True
    # Read the row at every read, as a worker does once its second has passed.
    monkeypatch.setattr(faults, "REFRESH_SECONDS", 0)
    yield
    faults.faults_set()


def test_off_by_default(product):
    assert faults.faults_get() == faults.Faults(latency_ms=0, error_rate=0.0)
    assert Client().get("/products/").status_code == 200


def test_a_monolith_without_the_switch_never_reads_it(product, settings, django_assert_num_queries):
    call_command("catalog_faults", "set", "--error-rate", "1")
    settings.CATALOG_FAULT_SWITCH = False
    with django_assert_num_queries(1):  # the product itself
        product_read = selectors.product_get(sku=product.sku)
    assert product_read.sku == product.sku
    assert Client().get("/products/").status_code == 200


def test_latency_slows_the_catalog_pages(product):
    call_command("catalog_faults", "set", "--latency-ms", "300")
    started = time.monotonic()
    response = Client().get(f"/products/{product.sku}/")
    took = time.monotonic() - started
    print(f"product page with 300 ms injected: {took * 1000:.0f} ms")
    assert response.status_code == 200
    assert took >= 0.3


def test_every_read_failing_gives_the_unavailable_page_and_the_apis_503(product):
    call_command("catalog_faults", "set", "--error-rate", "1")
    page = Client().get("/products/")
    api = Client().get("/api/catalog/products/")
    assert page.status_code == 503
    assert "temporarily unavailable" in page.content.decode().lower()
    assert api.status_code == 503
    assert api.json()["code"] == "catalog_unavailable"
    call_command("catalog_faults", "clear")
    assert Client().get("/products/").status_code == 200


def test_bad_values_are_refused():
    with pytest.raises(CommandError, match="--error-rate"):
        call_command("catalog_faults", "set", "--error-rate", "2")
    with pytest.raises(CommandError, match="--latency-ms"):
        call_command("catalog_faults", "set", "--latency-ms", "-1")
    with pytest.raises(CommandError, match="Give at least one"):
        call_command("catalog_faults", "set")


@pytest.mark.parametrize("path", ["/ops/faults/", "/ops/catalog-faults/", "/api/ops/faults/"])
def test_no_url_reaches_it(path):
    assert Client().put(path, {"latency_ms": 5000}, content_type="application/json").status_code in (403, 404, 405)
    assert faults.faults_get().latency_ms == 0
