"""Bad input that used to be a 500 or a debug page, sessions that end at logout, personal pages kept out of caches,
and the API's per-user throttle (issue 10), in the monolith.

The services have the same tests for their copies of core/ (extracted/*/tests/test_hardening.py).
"""

import base64
import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import Client

from monolith.core.parsers import MAX_DEPTH
from monolith.orders.models import Order
from tests.conftest import SHIPPING

API_ENDPOINTS = ["/api/catalog/products/", "/api/orders/", "/api/payments/"]
NUL_USERNAME = "Basic " + base64.b64encode(b"a\x00:b").decode()  # YQA6Yg==, from the probe


@pytest.mark.parametrize("path", API_ENDPOINTS)
@pytest.mark.parametrize("header", [NUL_USERNAME, "Basic " + base64.b64encode(b"admin:ad\x00min").decode()])
def test_a_nul_in_basic_credentials_is_a_401_naming_it(api, staff_user, path, header):
    response = api.get(path, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert "NUL" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Basic")


def test_basic_authentication_still_works(api, staff_user):
    credentials = base64.b64encode(b"admin:admin").decode()
    assert api.get("/api/orders/", HTTP_AUTHORIZATION=f"Basic {credentials}").status_code == 200


def test_a_nul_in_the_login_form_is_a_form_error(db, customer):
    response = Client().post("/accounts/login/", {"username": "de\x00mo", "password": "demo"})

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


@pytest.mark.parametrize("path", ["/api/orders/", "/api/payments/", "/api/catalog/stock-reservations/"])
def test_deeply_nested_json_is_a_400_naming_the_problem(staff_api, path):
    # The probe's body: 950 levels in under 2 KB, which made Python's json module raise RecursionError.
    body = "[" * 950 + "]" * 950

    response = staff_api.post(path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nested-json-probe")

    assert response.status_code == 400
    assert "nested more than" in response.json()["detail"]


def test_json_just_past_the_depth_limit_is_refused_and_at_it_is_read(staff_api):
    def nested(depth):
        return "[" * (depth - 1) + "{}" + "]" * (depth - 1)

    too_deep = staff_api.post("/api/orders/", nested(MAX_DEPTH + 1), content_type="application/json")
    at_limit = staff_api.post("/api/orders/", nested(MAX_DEPTH), content_type="application/json")

    assert too_deep.status_code == 400 and "nested" in too_deep.json()["detail"]
    # Parsed, then refused by the serializer for what it is: not an order.
    assert at_limit.status_code == 400 and "nested" not in str(at_limit.json())


def test_no_debug_page_in_the_local_settings_by_default():
    # The settings module `shop up` and `make up` use, read as it reads them, without DJANGO_DEBUG.
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE"}}
    code = "from django.conf import settings; print(settings.DEBUG)"
    command = [sys.executable, "manage.py", "shell", "-v", "0", "-c", code]
    off = subprocess.run(command, env=env, capture_output=True, text=True)
    on = subprocess.run(command, env={**env, "DJANGO_DEBUG": "1"}, capture_output=True, text=True)

    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True"), off.stderr + on.stderr


def test_a_bad_host_is_the_shops_400_page(db):
    response = Client().get("/", HTTP_HOST="evil.example.com:8080/<x>")

    assert response.status_code == 400
    assert b"Traceback" not in response.content and b"DisallowedHost" not in response.content


def test_an_unknown_url_is_the_shops_404_page(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert b"URLconf" not in response.content  # the debug page lists every URL pattern


def test_a_form_with_too_many_fields_is_a_400(db):
    fields = {f"field{number}": "x" for number in range(2000)}

    response = Client().post("/cart/add/", fields)

    assert response.status_code == 400
    assert b"TooManyFieldsSent" not in response.content


def test_a_session_ends_at_logout_even_for_a_copy_of_its_cookie(db, customer):
    browser = Client()
    browser.post("/accounts/login/", {"username": "demo", "password": "demo"})
    stolen = browser.cookies["sessionid"].value
    assert browser.get("/orders/").wsgi_request.user.username == "demo"

    browser.post("/accounts/logout/")
    replay = Client()
    replay.cookies["sessionid"] = stolen
    response = replay.get("/orders/")

    # The session is gone from the server: the copy is nobody's.
    assert not response.wsgi_request.user.is_authenticated


@pytest.mark.parametrize(
    "path", ["/orders/", "/cart/", "/checkout/", "/accounts/login/", "/api/orders/", "/api/payments/"]
)
def test_personal_pages_are_private_and_not_stored(db, customer, path):
    browser = Client()
    browser.login(username="demo", password="demo")

    response = browser.get(path)

    cache_control = response["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control, (path, response.status_code)


def test_the_admin_keeps_its_never_cache_and_is_private(db, staff_user):
    browser = Client()
    browser.login(username="admin", password="admin")

    cache_control = browser.get("/admin/")["Cache-Control"]

    assert {"private", "no-store", "no-cache"} <= {part.strip() for part in cache_control.split(",")}


def test_a_public_page_for_an_anonymous_visitor_is_left_alone(db, product):
    assert "Cache-Control" not in Client().get("/products/")


def test_the_api_throttles_a_signed_in_user_past_the_rate(settings, customer_api):
    cache.clear()
    settings.API_USER_THROTTLE_RATE = "3/minute"

    statuses = [customer_api.get("/api/orders/").status_code for _ in range(4)]
    throttled = customer_api.get("/api/orders/")

    assert statuses == [200, 200, 200, 429]
    assert int(throttled["Retry-After"]) > 0
    assert "throttled" in throttled.json()["detail"]
    cache.clear()


def test_the_throttle_leaves_services_and_anonymous_callers_to_the_facade(settings, api, db):
    cache.clear()
    settings.API_USER_THROTTLE_RATE = "1/minute"
    settings.SERVICE_TOKENS = {"catalog": "t" * 40}

    anonymous = [api.get("/api/catalog/products/").status_code for _ in range(3)]
    service = [api.get("/api/catalog/products/", HTTP_AUTHORIZATION="Bearer " + "t" * 40).status_code for _ in range(3)]

    assert anonymous == service == [200, 200, 200]
    cache.clear()


def test_an_order_still_takes_json_only_and_says_so(api, product):
    body = {"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": product.sku, "quantity": 1}]}

    as_form = api.post("/api/orders/", {"email": "ada@example.com"})
    as_json = api.post("/api/orders/", body, format="json")

    assert as_form.status_code == 415
    assert as_json.status_code == 201
    assert Order.objects.count() == 1
