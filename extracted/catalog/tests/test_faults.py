"""Fault injection: GET/PUT /ops/faults/ (service token only), `manage.py faults`, and what the
faults do to /api/catalog/ requests: latency and injected 503s (the payments service has the same)."""

import base64
import io
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from catalog_service.catalog.models import StockReservation
from catalog_service.ops import faults, middleware
from catalog_service.ops.models import FaultSettings
from conftest import SERVICE_TOKEN

OPS = "/ops/faults/"
NONE = {"latency_ms": 0, "error_rate": 0.0}


def assert_json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.fixture
def service_api(service_api, db):
    """The monolith's token, with the database the fault settings live in."""
    return service_api


@pytest.fixture
def slept(monkeypatch):
    """The middleware's sleeps, in seconds, recorded instead of slept."""
    calls = []
    monkeypatch.setattr(middleware.time, "sleep", calls.append)
    return calls


# --- Who may read and change them ------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put"])
def test_anonymous_callers_are_401_with_a_bearer_challenge(api, db, method):
    response = getattr(api, method)(OPS, {"error_rate": 1}, format="json")

    assert assert_json_error(response, 401)["detail"]
    assert response["WWW-Authenticate"] == 'Bearer realm="ops"'
    assert not FaultSettings.objects.exists()


@pytest.mark.parametrize(
    "header", ["Bearer nope", f"Bearer {SERVICE_TOKEN} x", "Basic " + base64.b64encode(b"admin:wrong").decode()]
)
def test_wrong_credentials_are_401(service_tokens, staff_user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_json_error(client.put(OPS, {"error_rate": 1}, format="json"), 401)
    assert not FaultSettings.objects.exists()


def test_staff_and_customers_are_403_the_token_only_opens_it(staff_user, customer, service_tokens):
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"admin:admin").decode())
    customer_client = APIClient()
    customer_client.force_login(customer)

    for client in (basic, customer_client):
        body = assert_json_error(client.put(OPS, {"error_rate": 1}, format="json"), 403)
        assert "service token" in body["detail"]
    assert not FaultSettings.objects.exists()


def test_the_ops_endpoint_is_not_in_the_catalog_document(client, db):
    document = client.get("/api/catalog/schema/", HTTP_ACCEPT="application/json").json()

    assert all(path.startswith("/api/catalog/") for path in document["paths"])


# --- Reading and setting them ----------------------------------------------------------------


def test_by_default_no_faults_are_injected(service_api):
    assert service_api.get(OPS).json() == {**NONE, "defaults": NONE}


def test_put_stores_the_faults_and_the_settings_give_the_defaults(service_api, settings):
    values = {"latency_ms": 200, "error_rate": 0.5}

    assert service_api.put(OPS, values, format="json").json() == {**values, "defaults": NONE}
    row = FaultSettings.objects.get()
    assert (row.latency_ms, row.error_rate) == (200, 0.5)

    settings.CATALOG_FAULT_LATENCY_MS = 150
    # PUT replaces every value set: what it leaves out goes back to its default.
    defaults = {**NONE, "latency_ms": 150}
    assert service_api.put(OPS, {}, format="json").json() == {**defaults, "defaults": defaults}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 20_001}, "latency_ms"),
        ({"latency_ms": True}, "latency_ms"),
        ({"error_rate": 1.01}, "error_rate"),
        ({"error_rate": "nan"}, "error_rate"),
        ({"error_rate": True}, "error_rate"),
        ({"timeout_after_charge_ms": 5}, "timeout_after_charge_ms"),  # the payments service's, not ours
        ({"error_rte": 0.5}, "error_rte"),
        ([{"error_rate": 1}], "non_field_errors"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(service_api, body, field):
    service_api.put(OPS, {"latency_ms": 5}, format="json")

    response = service_api.put(OPS, body, format="json")

    assert field in assert_json_error(response, 400), response.json()
    assert service_api.get(OPS).json()["latency_ms"] == 5


# --- What they do ----------------------------------------------------------------------------


def test_an_error_rate_of_one_answers_every_catalog_request_503_before_doing_anything(service_api, product, slept):
    faults.faults_set(error_rate=1)
    reservation = {"reservation_id": "r-1", "lines": [{"sku": product.sku, "quantity": 1}]}

    for response in (
        service_api.get("/api/catalog/products/"),
        service_api.get(f"/api/catalog/products/{product.sku}/"),
        service_api.post("/api/catalog/stock-reservations/", reservation, format="json"),
        APIClient().get("/api/catalog/categories/"),
    ):
        body = assert_json_error(response, 503)
        assert body == {"detail": body["detail"], "code": "injected_fault"}
        assert response["X-Served-By"] == "catalog"

    assert not StockReservation.objects.exists()
    product.refresh_from_db()
    assert product.stock == 5


def test_latency_is_added_before_each_catalog_request(api, product, slept):
    faults.faults_set(latency_ms=250)

    assert api.get("/api/catalog/products/").status_code == 200
    assert api.get(f"/api/catalog/products/{product.sku}/").status_code == 200

    assert slept == [0.25, 0.25]


def test_the_error_rate_is_a_share_of_requests(api, product, monkeypatch):
    faults.faults_set(error_rate=0.3)
    draws = iter([0.29, 0.3, 0.95, 0.0])
    monkeypatch.setattr(middleware.random, "random", lambda: next(draws))

    assert [api.get("/api/catalog/products/").status_code for _ in range(4)] == [503, 200, 200, 503]


def test_faults_leave_health_ops_the_schema_and_the_docs_alone(client, service_api, db, slept):
    faults.faults_set(error_rate=1, latency_ms=500)

    for url in ("/healthz", "/readyz", "/api/catalog/schema/", "/api/catalog/docs/"):
        assert client.get(url).status_code == 200, url
    assert service_api.get(OPS).status_code == 200
    assert slept == []


def test_a_worker_reads_the_faults_at_most_once_per_refresh_interval(api, product, settings, slept, monkeypatch):
    settings.CATALOG_FAULTS_REFRESH_SECONDS = 60
    faults.faults_set(latency_ms=100)
    reads = []
    overrides = faults.faults_overrides
    monkeypatch.setattr(faults, "faults_overrides", lambda: reads.append(1) or overrides())
    monkeypatch.setattr(faults, "_in_force", (float("-inf"), faults.Faults()))  # a worker that has not read them

    api.get("/api/catalog/categories/")
    FaultSettings.objects.update(latency_ms=900)  # not seen until the interval has passed
    api.get("/api/catalog/categories/")

    assert (len(reads), slept) == (1, [0.1, 0.1])
    settings.CATALOG_FAULTS_REFRESH_SECONDS = 0
    api.get("/api/catalog/categories/")
    assert (len(reads), slept) == (2, [0.1, 0.1, 0.9])


# --- manage.py faults ------------------------------------------------------------------------


def run_faults(*args):
    out = io.StringIO()
    call_command("faults", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_command_shows_sets_and_clears(db, settings):
    assert run_faults() == NONE
    assert run_faults("set", "--latency-ms", "300") == {"latency_ms": 300, "error_rate": 0.0}
    assert run_faults("set", "--error-rate", "0.2") == {"latency_ms": 300, "error_rate": 0.2}
    settings.CATALOG_FAULT_LATENCY_MS = 50
    assert run_faults("clear") == {**NONE, "latency_ms": 50}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "--error-rate", "2"], "--error-rate"),
        (["set", "--latency-ms", "-3"], "--latency-ms"),
        (["set"], "at least one"),
        (["clear", "--latency-ms", "3"], "faults set"),
    ],
)
def test_the_command_refuses_bad_values_naming_the_option(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("faults", *args, stdout=io.StringIO())

    assert not FaultSettings.objects.exists()
