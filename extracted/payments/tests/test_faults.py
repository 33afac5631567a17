"""Fault injection: GET/PUT /ops/faults/ (service token only), `manage.py faults`, and what the
faults do to /api/payments/ requests: latency, injected 503s, a slow answer after a committed charge."""

import base64
import io
import json
import socket
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from conftest import PAYMENT, SERVICE_TOKEN, assert_json_error, charge
from payments_service.ops import faults, middleware
from payments_service.ops.models import FaultSettings
from payments_service.payments.models import IdempotencyKey, Payment

OPS = "/ops/faults/"
NONE = {"latency_ms": 0, "error_rate": 0.0, "timeout_after_charge_ms": 0}


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
    "header",
    [
        "Bearer nope",
        "Bearer",
        f"Bearer {SERVICE_TOKEN} x",
        "Bearer caf\u00e9",
        "Basic !!!",
        "Basic " + base64.b64encode(b"admin:wrong").decode(),
    ],
)
@pytest.mark.parametrize("method", ["get", "put"])
def test_wrong_credentials_are_401(service_tokens, staff_user, method, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_json_error(getattr(client, method)(OPS, {"error_rate": 1}, format="json"), 401)
    assert not FaultSettings.objects.exists()


@pytest.mark.parametrize("method", ["get", "put"])
def test_staff_and_customers_are_403_the_token_only_opens_it(staff_user, customer, service_tokens, method):
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"admin:admin").decode())
    session = APIClient()
    session.force_login(staff_user)
    customer_client = APIClient()
    customer_client.force_login(customer)

    for client in (basic, session, customer_client):
        body = assert_json_error(getattr(client, method)(OPS, {"error_rate": 1}, format="json"), 403)
        assert "service token" in body["detail"]
    assert not FaultSettings.objects.exists()


def test_the_ops_endpoint_is_not_in_the_payments_document(client, db):
    document = client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()

    assert all(path.startswith("/api/payments/") for path in document["paths"])


# --- Reading and setting them ----------------------------------------------------------------


def test_by_default_no_faults_are_injected(service_api):
    response = service_api.get(OPS)

    assert response.status_code == 200
    assert response.json() == {**NONE, "defaults": NONE}


def test_the_settings_give_the_defaults(service_api, settings):
    settings.PAYMENTS_FAULT_LATENCY_MS = 150
    settings.PAYMENTS_FAULT_ERROR_RATE = 0.25
    settings.PAYMENTS_FAULT_TIMEOUT_AFTER_CHARGE = 4000
    defaults = {"latency_ms": 150, "error_rate": 0.25, "timeout_after_charge_ms": 4000}

    assert service_api.get(OPS).json() == {**defaults, "defaults": defaults}
    assert service_api.put(OPS, {"error_rate": 0}, format="json").json() == {
        **defaults,
        "error_rate": 0.0,
        "defaults": defaults,
    }
    # PUT replaces every value set: what it leaves out goes back to its default.
    assert service_api.put(OPS, {}, format="json").json() == {**defaults, "defaults": defaults}


def test_put_stores_the_faults_for_every_worker(service_api):
    values = {"latency_ms": 200, "error_rate": 0.5, "timeout_after_charge_ms": 3000}

    response = service_api.put(OPS, values, format="json")

    assert response.status_code == 200
    assert response.json() == {**values, "defaults": NONE}
    # In the database, where every gunicorn worker reads them at its next request.
    row = FaultSettings.objects.get()
    assert (row.latency_ms, row.error_rate, row.timeout_after_charge_ms) == (200, 0.5, 3000)
    assert service_api.get(OPS).json() == {**values, "defaults": NONE}
    assert service_api.put(OPS, {"latency_ms": None}, format="json").json() == {**NONE, "defaults": NONE}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 20_001}, "latency_ms"),
        ({"latency_ms": 1.5}, "latency_ms"),
        ({"latency_ms": "abc"}, "latency_ms"),
        ({"latency_ms": True}, "latency_ms"),
        ({"latency_ms": [1]}, "latency_ms"),
        ({"latency_ms": 2**63}, "latency_ms"),
        ({"error_rate": -0.01}, "error_rate"),
        ({"error_rate": 1.01}, "error_rate"),
        ({"error_rate": "nan"}, "error_rate"),
        ({"error_rate": "Infinity"}, "error_rate"),
        ({"error_rate": "half"}, "error_rate"),
        ({"error_rate": True}, "error_rate"),
        ({"error_rate": {"a": 1}}, "error_rate"),
        ({"timeout_after_charge_ms": -5}, "timeout_after_charge_ms"),
        ({"timeout_after_charge_ms": 10**9}, "timeout_after_charge_ms"),
        ({"timeout_after_charge_ms": "5s"}, "timeout_after_charge_ms"),
        ({"timeout_after_charge_ms": False}, "timeout_after_charge_ms"),
        ({"error_rte": 0.5}, "error_rte"),  # a misspelt field is not ignored in silence
        ({"latency_ms": 10, "timeout": 1}, "timeout"),
        ([{"error_rate": 1}], "non_field_errors"),
        ("error_rate=1", "non_field_errors"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(service_api, body, field):
    service_api.put(OPS, {"latency_ms": 5}, format="json")

    response = service_api.put(OPS, body, format="json")

    assert field in assert_json_error(response, 400), response.json()
    assert service_api.get(OPS).json()["latency_ms"] == 5


@pytest.mark.parametrize("raw", [b'{"error_rate": ', b"\xff\xfe", b'{"error_rate": NaN}', b"\x00"])
def test_malformed_json_is_400(service_api, raw):
    response = service_api.put(OPS, raw, content_type="application/json")

    assert assert_json_error(response, 400)["detail"]
    assert not FaultSettings.objects.exists()


def test_other_methods_are_405(service_api):
    for method in ("post", "patch", "delete"):
        assert (
            assert_json_error(getattr(service_api, method)(OPS, {}, format="json"), 405)["code"] == "method_not_allowed"
        )


# --- What they do ----------------------------------------------------------------------------


def test_an_error_rate_of_one_answers_every_payments_request_503_before_doing_anything(staff_api, paid, new_key, slept):
    faults.faults_set(error_rate=1)

    for response in (
        charge(staff_api, new_key()),
        staff_api.get("/api/payments/"),
        staff_api.get(f"/api/payments/{paid['id']}/"),
        staff_api.post(f"/api/payments/{paid['id']}/refunds/", {}, format="json"),
        APIClient().post("/api/payments/", PAYMENT, format="json"),  # before authentication, too
    ):
        body = assert_json_error(response, 503)
        assert body == {"detail": body["detail"], "code": "injected_fault"}
        assert response["X-Served-By"] == "payments" and response["X-Request-ID"]

    assert Payment.objects.count() == 1 and IdempotencyKey.objects.count() == 1  # `paid` only
    assert Payment.objects.get().status == "succeeded"


def test_faults_leave_health_ops_the_schema_and_the_docs_alone(client, service_api, db, slept):
    faults.faults_set(error_rate=1, latency_ms=500)

    for url in ("/healthz", "/readyz", "/api/payments/schema/", "/api/payments/docs/"):
        assert client.get(url).status_code == 200, url
    assert service_api.get(OPS).status_code == 200
    assert slept == []


def test_the_error_rate_is_a_share_of_requests(staff_api, new_key, monkeypatch):
    faults.faults_set(error_rate=0.3)
    draws = iter([0.29, 0.3, 0.95, 0.0])
    monkeypatch.setattr(middleware.random, "random", lambda: next(draws))

    assert [charge(staff_api, new_key()).status_code for _ in range(4)] == [503, 201, 201, 503]
    assert Payment.objects.count() == 2


def test_an_error_rate_of_zero_never_fires(staff_api, new_key, monkeypatch):
    faults.faults_set(error_rate=0)
    monkeypatch.setattr(middleware.random, "random", lambda: 0.0)

    assert charge(staff_api, new_key()).status_code == 201


def test_latency_is_added_before_each_payments_request(staff_api, paid, new_key, slept):
    faults.faults_set(latency_ms=250)

    assert charge(staff_api, new_key()).status_code == 201
    assert staff_api.get(f"/api/payments/{paid['id']}/").status_code == 200

    assert slept == [0.25, 0.25]


def test_the_timeout_after_charge_delays_only_a_new_charge(staff_api, paid, new_key, slept):
    faults.faults_set(timeout_after_charge_ms=1500)
    key = new_key()

    assert charge(staff_api, key).status_code == 201
    assert slept == [1.5]
    assert charge(staff_api, key)["Idempotent-Replayed"] == "true"  # a retry gets its answer at once
    assert staff_api.get("/api/payments/").status_code == 200
    assert staff_api.post(f"/api/payments/{paid['id']}/refunds/", {}, format="json").status_code == 201
    assert charge(staff_api, new_key(), {**PAYMENT, "amount": "0"}).status_code == 400
    assert slept == [1.5]


def test_the_settings_defaults_apply_without_any_put(staff_api, new_key, settings, slept):
    settings.PAYMENTS_FAULT_LATENCY_MS = 100

    charge(staff_api, new_key())

    assert slept == [0.1]


def test_unreadable_fault_settings_inject_nothing(staff_api, new_key, monkeypatch, slept):
    from django.db import OperationalError

    def unreadable():
        raise OperationalError("the fault table is locked")

    monkeypatch.setattr(faults, "faults_overrides", unreadable)

    assert charge(staff_api, new_key()).status_code == 201
    assert slept == []


@pytest.mark.django_db(transaction=True)
def test_a_client_that_times_out_after_the_charge_finds_it_made_and_its_retry_replays_it(live_server, staff_user):
    """Over real HTTP (a live server on a free port): the charge is committed before the delay."""
    faults.faults_set(timeout_after_charge_ms=1200)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": "timed-out",
        "Authorization": "Basic " + base64.b64encode(b"admin:admin").decode(),
    }

    def post(timeout):
        request = urllib.request.Request(f"{live_server.url}/api/payments/", json.dumps(PAYMENT).encode(), headers)
        return urllib.request.urlopen(request, timeout=timeout)

    started = time.monotonic()
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        post(timeout=0.4)

    # The client gave up, yet the charge happened and was committed: it is visible from here.
    assert time.monotonic() - started < 1.2
    payment = Payment.objects.get()
    assert payment.status == "succeeded"
    retried = post(timeout=5)
    assert retried.status == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert json.loads(retried.read())["id"] == str(payment.pk)
    assert Payment.objects.count() == 1
    time.sleep(1)  # let the first request's delay end before the test database is flushed


# --- manage.py faults ------------------------------------------------------------------------


def run_faults(*args):
    out = io.StringIO()
    call_command("faults", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_command_shows_sets_and_clears(db, settings):
    assert run_faults() == NONE
    assert run_faults("set", "--latency-ms", "300", "--error-rate", "0.2") == {
        "latency_ms": 300,
        "error_rate": 0.2,
        "timeout_after_charge_ms": 0,
    }
    # set changes only what it is given
    assert run_faults("set", "--timeout-after-charge-ms", "8000") == {
        "latency_ms": 300,
        "error_rate": 0.2,
        "timeout_after_charge_ms": 8000,
    }
    assert run_faults("show") == faults.faults_get().as_dict()
    settings.PAYMENTS_FAULT_LATENCY_MS = 50
    assert run_faults("clear") == {**NONE, "latency_ms": 50}  # back to the settings' defaults


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "--error-rate", "2"], "--error-rate"),
        (["set", "--error-rate", "nan"], "--error-rate"),
        (["set", "--latency-ms", "-3"], "--latency-ms"),
        (["set", "--timeout-after-charge-ms", "soon"], "--timeout-after-charge-ms"),
        (["set"], "at least one"),
        (["clear", "--latency-ms", "3"], "faults set"),
    ],
)
def test_the_command_refuses_bad_values_naming_the_option(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("faults", *args, stdout=io.StringIO())

    assert not FaultSettings.objects.exists()
