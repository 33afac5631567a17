"""Service-to-service trust: `Authorization: Bearer <token>` lets a peer service do what staff may do.

A wrong token is a 401, no token where staff is needed is a 401 with the Basic challenge, and
the token never reaches a log line.
"""

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient, APIRequestFactory

from catalog_service.catalog.models import Category, Product, StockReservation
from catalog_service.core.auth import ServicePrincipal, ServiceTokenAuthentication
from conftest import SERVICE_TOKEN

PRODUCTS = "/api/catalog/products/"
CATEGORIES = "/api/catalog/categories/"
RESERVATIONS = "/api/catalog/stock-reservations/"
NEW_PRODUCT = {"sku": "NEW-1", "name": "Granite Moka Pot", "category": "coffee", "price": "34.90", "stock": 4}


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_401(response):
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


# --- What a service may do ----------------------------------------------------------------


def test_a_service_writes_products_and_categories(service_api, api, category):
    assert service_api.post(PRODUCTS, NEW_PRODUCT, format="json").status_code == 201
    assert service_api.patch(f"{PRODUCTS}NEW-1/", {"price": "29.00"}, format="json").status_code == 200
    assert api.get(f"{PRODUCTS}NEW-1/").json()["price"] == "29.00"
    assert service_api.delete(f"{PRODUCTS}NEW-1/").status_code == 204
    assert service_api.post(CATEGORIES, {"slug": "tea", "name": "Tea"}, format="json").status_code == 201
    assert service_api.patch(f"{CATEGORIES}tea/", {"name": "Loose Tea"}, format="json").status_code == 200
    assert service_api.delete(f"{CATEGORIES}tea/").status_code == 204


def test_a_service_reserves_commits_and_releases_stock(service_api, make_product):
    make_product("COF-1", stock=5)
    body = {"reservation_id": "order-1-1", "lines": [{"sku": "COF-1", "quantity": 2}]}

    assert service_api.post(RESERVATIONS, body, format="json").status_code == 201
    assert service_api.post(RESERVATIONS, body, format="json").status_code == 200  # a replay
    assert service_api.get(f"{RESERVATIONS}order-1-1/").json()["status"] == "held"
    assert service_api.post(f"{RESERVATIONS}order-1-1/commit/").json()["status"] == "committed"
    assert Product.objects.get(sku="COF-1").stock == 3

    assert service_api.post(RESERVATIONS, {**body, "reservation_id": "order-2-1"}, format="json").status_code == 201
    assert service_api.post(f"{RESERVATIONS}order-2-1/release/").json()["status"] == "released"
    assert Product.objects.get(sku="COF-1").stock == 3


def test_a_service_sees_inactive_products_as_staff_does(service_api, api, make_product):
    # The data move copies and verifies every row, hidden ones too.
    make_product("COF-9", is_active=False)

    assert [p["sku"] for p in service_api.get(PRODUCTS).json()["results"]] == ["COF-9"]
    assert service_api.get(f"{PRODUCTS}COF-9/").json()["is_active"] is False
    assert api.get(PRODUCTS).json()["count"] == 0


def test_each_configured_service_has_its_own_token(service_tokens, category):
    assert (
        bearer(service_tokens["ops"]).post(CATEGORIES, {"slug": "tea", "name": "Tea"}, format="json").status_code == 201
    )


def test_a_service_needs_no_csrf_token(service_tokens, category):
    # CSRF protects cookies a browser sends by itself; a bearer token is never sent that way.
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")

    assert client.post(PRODUCTS, NEW_PRODUCT, format="json").status_code == 201


def test_a_service_is_not_a_database_user(service_tokens, db):
    users = get_user_model().objects.count()
    request = APIRequestFactory().get(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")

    user, auth = ServiceTokenAuthentication().authenticate(request)

    assert isinstance(user, ServicePrincipal)
    assert (user.name, str(user), user.is_authenticated, user.is_staff, user.pk) == (
        "monolith",
        "service:monolith",
        True,
        False,
        None,
    )
    assert auth is None  # the token is not kept on the request
    assert get_user_model().objects.count() == users


# --- What is refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(f"Bearer {SERVICE_TOKEN}x", id="one-character-more"),
        pytest.param(f"Bearer {SERVICE_TOKEN[:-1]}", id="one-character-less"),
        pytest.param(f"Bearer {SERVICE_TOKEN.upper()}", id="other-case"),
        pytest.param("Bearer nope", id="unknown"),
        pytest.param("Bearer", id="no-token"),
        pytest.param(f"Bearer {SERVICE_TOKEN} {SERVICE_TOKEN}", id="two-tokens"),
        pytest.param("Bearer " + "x" * 10_000, id="10-kB"),
        pytest.param("Bearer caf\u00e9\u00ff", id="latin-1"),
        pytest.param("Bearer a\x00b", id="nul"),
    ],
)
def test_a_wrong_token_is_a_401_and_changes_nothing(service_tokens, make_product, header):
    make_product("COF-1", stock=5)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_401(client.post(PRODUCTS, NEW_PRODUCT, format="json"))
    assert_401(
        client.post(RESERVATIONS, {"reservation_id": "r-1", "lines": [{"sku": "COF-1", "quantity": 1}]}, format="json")
    )
    assert_401(client.get(PRODUCTS))  # wrong credentials are wrong on a read too
    assert not Product.objects.filter(sku="NEW-1").exists()
    assert not StockReservation.objects.exists()


def test_no_token_is_accepted_when_none_is_configured(settings, category):
    settings.SERVICE_TOKENS = {}

    assert_401(bearer("").post(CATEGORIES, {"slug": "tea", "name": "Tea"}, format="json"))
    assert_401(bearer("anything").post(CATEGORIES, {"slug": "tea", "name": "Tea"}, format="json"))
    assert not Category.objects.filter(slug="tea").exists()


def test_a_process_without_the_setting_refuses_every_token(settings, category):
    # The monolith takes a copy of core/auth.py: without SERVICE_TOKENS a token is a 401, not a 500.
    del settings.SERVICE_TOKENS

    assert_401(bearer(SERVICE_TOKEN).post(CATEGORIES, {"slug": "tea", "name": "Tea"}, format="json"))


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", PRODUCTS),
        ("post", RESERVATIONS),
        ("get", f"{RESERVATIONS}order-1/"),
        ("post", f"{RESERVATIONS}order-1/commit/"),
        ("post", f"{RESERVATIONS}order-1/release/"),
    ],
)
def test_no_credentials_where_staff_or_a_service_is_needed_is_a_401_with_the_basic_challenge(
    api, service_tokens, db, method, url
):
    response = getattr(api, method)(url, {}, format="json")

    assert_401(response)
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


class EverythingFormatter(logging.Formatter):
    def format(self, record):
        return f"{super().format(record)} {vars(record)!r}"


def test_the_token_never_reaches_a_log_line(settings, service_tokens, category):
    # Every record any logger makes, at every level, with everything it carries (its message,
    # arguments and extras), while requests carry the right token and a wrong one.
    settings.LOG_REQUESTS = True  # django-log-request-id's line per request, with the user
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(EverythingFormatter())
    loggers = [
        logging.getLogger(name)
        for name in ("", "django", "django.request", "django.security", "log_request_id.middleware")
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    wrong = SERVICE_TOKEN[:-1] + "!"
    try:
        client = bearer(SERVICE_TOKEN)
        assert client.post(PRODUCTS, NEW_PRODUCT, format="json").status_code == 201
        assert client.post(PRODUCTS, {**NEW_PRODUCT, "price": "abc"}, format="json").status_code == 400
        assert client.get(f"{PRODUCTS}NOPE-1/").status_code == 404
        assert bearer(wrong).post(PRODUCTS, NEW_PRODUCT, format="json").status_code == 401
    finally:
        for logger, level in zip(loggers, levels, strict=False):
            logger.removeHandler(handler)
            logger.setLevel(level)

    output = stream.getvalue()
    assert "Unauthorized" in output and "status=201" in output  # the capture did capture
    assert SERVICE_TOKEN not in output
    assert wrong not in output
    assert SERVICE_TOKEN[:16] not in output  # not even in part
