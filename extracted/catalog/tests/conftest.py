"""Fixtures for the catalog service's tests: a small catalog, users, a service token and API clients.

Adapted from the monolith's tests/conftest.py; nothing here imports the monolith or its tests.
"""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from rest_framework.test import APIClient

from catalog_service.catalog.models import Category, Product

SERVICE_TOKEN = "test-monolith-token-0123456789abcdefghijklmnop"


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
def service_tokens(settings):
    """SERVICE_TOKENS as the monolith and one other peer would have them."""
    settings.SERVICE_TOKENS = {"monolith": SERVICE_TOKEN, "ops": "test-ops-token-" + "z" * 32}
    return settings.SERVICE_TOKENS


@pytest.fixture
def service_api(service_tokens):
    """The monolith calling with its token: no user, no session."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")
    return client


@pytest.fixture
def run_at_once():
    """run_at_once(count, work): work(index) in `count` threads released together, each with its
    own database connection; returns each call's result or the exception it raised."""

    def run(count, work):
        barrier = threading.Barrier(count)
        results = [None] * count

        def worker(index):
            try:
                connection.ensure_connection()  # connect first, so that the calls start together
                barrier.wait(timeout=10)
                results[index] = work(index)
            except Exception as exc:  # the test inspects whatever each thread got
                results[index] = exc
            finally:
                connections.close_all()  # this thread's connections; else the test database cannot be dropped

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a thread hung: a deadlock or a lock never released"
        return results

    return run
