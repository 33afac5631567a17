"""Bad input that used to be a 500, sessions that end at logout, private answers kept out of caches, and the
API's per-user throttle (issue 10), in the catalog service's copies of core/."""

import base64

import pytest
from django.core.cache import cache
from django.test import Client

from catalog_service.core.parsers import MAX_DEPTH

NUL_USERNAME = "Basic " + base64.b64encode(b"a\x00:b").decode()  # YQA6Yg==, from the probe
RESERVATIONS = "/api/catalog/stock-reservations/"


@pytest.mark.parametrize("path", ["/api/catalog/products/", RESERVATIONS])
def test_a_nul_in_basic_credentials_is_a_401_naming_it(api, staff_user, path):
    response = api.get(path, HTTP_AUTHORIZATION=NUL_USERNAME)

    assert response.status_code == 401
    assert "NUL" in response.json()["detail"]


def test_deeply_nested_json_is_a_400_naming_the_problem(staff_api):
    response = staff_api.post(RESERVATIONS, "[" * 950 + "]" * 950, content_type="application/json")

    assert response.status_code == 400
    assert f"nested more than {MAX_DEPTH}" in response.json()["detail"]


def test_a_reservation_takes_json_only(staff_api, product):
    response = staff_api.post(RESERVATIONS, {"reservation_id": "r-1"})

    assert response.status_code == 415


def test_a_bad_host_under_the_api_is_a_json_400(db, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]  # as in the local run; the test settings take any host
    response = Client().get("/api/catalog/products/", HTTP_HOST="evil.example.com")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_a_session_ends_at_logout_even_for_a_copy_of_its_cookie(staff_user, settings):
    browser = Client()
    browser.post("/api-auth/login/", {"username": "admin", "password": "admin"})
    stolen = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.get("/admin/").status_code == 200

    browser.post("/api-auth/logout/")
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen

    assert replay.get("/admin/").status_code == 302  # to the admin's login page


def test_answers_to_a_signed_in_caller_are_private_and_not_stored(staff_api, product):
    for path in ["/api/catalog/products/", RESERVATIONS]:
        cache_control = staff_api.get(path)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, path


def test_an_anonymous_product_list_is_left_alone(api, product):
    assert "Cache-Control" not in api.get("/api/catalog/products/")


def test_the_api_throttles_a_signed_in_user_but_not_a_service(settings, customer_api, service_api, product):
    cache.clear()
    settings.API_USER_THROTTLE_RATE = "2/minute"
    try:
        user = [customer_api.get("/api/catalog/products/").status_code for _ in range(3)]
        service = [service_api.get("/api/catalog/products/").status_code for _ in range(3)]
    finally:
        cache.clear()

    assert user == [200, 200, 429]
    assert service == [200, 200, 200]
