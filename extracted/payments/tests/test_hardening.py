"""Bad input that used to be a 500, sessions that end at logout, private answers kept out of caches, and the
API's per-user throttle (issue 10), in the payments service's copies of core/."""

import base64

import pytest
from django.core.cache import cache
from django.test import Client

from conftest import PAYMENT
from payments_service.core.parsers import MAX_DEPTH

NUL_USERNAME = "Basic " + base64.b64encode(b"a\x00:b").decode()  # YQA6Yg==, from the probe
PAYMENTS = "/api/payments/"


@pytest.mark.parametrize("header", [NUL_USERNAME, "Basic " + base64.b64encode(b"admin:ad\x00min").decode()])
def test_a_nul_in_basic_credentials_is_a_401_naming_it(api, staff_user, header):
    response = api.get(PAYMENTS, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert "NUL" in response.json()["detail"]


def test_deeply_nested_json_is_a_400_naming_the_problem(staff_api):
    response = staff_api.post(
        PAYMENTS, "[" * 950 + "]" * 950, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nested-json-probe"
    )

    assert response.status_code == 400
    assert f"nested more than {MAX_DEPTH}" in response.json()["detail"]


def test_a_payment_takes_json_only(staff_api):
    response = staff_api.post(PAYMENTS, {"order_number": PAYMENT["order_number"]}, HTTP_IDEMPOTENCY_KEY="form-body")

    assert response.status_code == 415


def test_a_bad_host_under_the_api_is_a_json_400(db, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]  # as in the local run; the test settings take any host
    response = Client().get(PAYMENTS, HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_a_session_ends_at_logout_even_for_a_copy_of_its_cookie(staff_user, settings):
    browser = Client()
    browser.post("/api-auth/login/", {"username": "admin", "password": "admin"})
    stolen = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.get(PAYMENTS).status_code == 200

    browser.post("/api-auth/logout/")
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen

    assert replay.get(PAYMENTS).status_code in (401, 403)


def test_payments_are_private_and_not_stored(staff_api, paid):
    for path in [PAYMENTS, f"{PAYMENTS}{paid['id']}/"]:
        cache_control = staff_api.get(path)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, path


def test_even_a_refused_anonymous_answer_is_private(api, db):
    response = api.get(PAYMENTS)

    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_the_api_throttles_a_signed_in_user_but_not_a_service(settings, staff_api, service_api):
    cache.clear()
    settings.API_USER_THROTTLE_RATE = "2/minute"
    try:
        user = [staff_api.get(PAYMENTS).status_code for _ in range(3)]
        service = [service_api.get(PAYMENTS).status_code for _ in range(3)]
    finally:
        cache.clear()

    assert user == [200, 200, 429]
    assert service == [200, 200, 200]
