"""Fixtures every test may use: a small catalog, users, and API clients."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from monolith.catalog.models import Category, Product

GOOD_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
DECLINED_CARD = {**GOOD_CARD, "number": "4000000000000002"}
NO_FUNDS_CARD = {**GOOD_CARD, "number": "4000000000009995"}
SHIPPING = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 7AA",
    "country": "GB",
}


@pytest.fixture
def category(db):
    return Category.objects.create(slug="coffee", name="Coffee")


@pytest.fixture
def make_product(category):
    """Make a product: make_product("COF-1", price="9.50", stock=3)."""

    def make(sku, *, price="10.00", stock=10, name=None, is_active=True, cat=None):
        return Product.objects.create(
            sku=sku,
            name=name or f"Product {sku}",
            slug=sku.lower(),
            category=cat or category,
            price=Decimal(price),
            stock=stock,
            is_active=is_active,
        )

    return make


@pytest.fixture
def product(make_product):
    return make_product("COF-0001", price="12.50", stock=5, name="Harbour Espresso Beans")


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user("admin", "admin@example.com", "admin", is_staff=True, is_superuser=True)


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user("demo", "demo@example.com", "demo")


@pytest.fixture
def api():
    """An anonymous API client that keeps its session cookie (anonymous orders belong to the session)."""
    return APIClient()


@pytest.fixture
def staff_api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def customer_api(customer):
    client = APIClient()
    client.login(username="demo", password="demo")
    return client


@pytest.fixture
def new_key():
    return lambda: uuid.uuid4().hex


@pytest.fixture
def place_order(api):
    """Place an order through the API as `client` (default: the anonymous `api` client)."""

    def place(lines, client=None):
        response = (client or api).post(
            "/api/orders/", {"email": "ada@example.com", "shipping": SHIPPING, "lines": lines}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    return place
