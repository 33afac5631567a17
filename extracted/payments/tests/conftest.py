"""Fixtures for the payments service's tests: users, test cards, a service token, API clients, threads.

Adapted from the monolith's tests/conftest.py and the catalog service's; nothing here imports
the monolith or its tests.
"""

import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from rest_framework.test import APIClient

GOOD_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
DECLINED_CARD = {**GOOD_CARD, "number": "4000000000000002"}
NO_FUNDS_CARD = {**GOOD_CARD, "number": "4000000000009995"}
PAYMENT = {"order_number": "ORDER12345", "amount": "12.50", "currency": "EUR", "card": GOOD_CARD}

SERVICE_TOKEN = "test-monolith-token-0123456789abcdefghijklmnop"


def charge(client, key, body=PAYMENT):
    return client.post("/api/payments/", body, format="json", headers={"Idempotency-Key": key})


def refund(client, payment_id, body=None, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/payments/{payment_id}/refunds/", body or {}, format="json", headers=headers)


def assert_json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


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
def service_api(service_tokens, db):
    """The monolith calling with its token: no user, no session."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {SERVICE_TOKEN}")
    return client


@pytest.fixture
def new_key():
    return lambda: uuid.uuid4().hex


@pytest.fixture
def paid(staff_api, new_key):
    """A succeeded payment of 12.50 EUR, as the API returned it."""
    response = charge(staff_api, new_key())
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def run_at_once():
    """run_at_once(count, work): work(index) in `count` threads released together, each with its
    own database connection; returns each call's result or the exception it raised.

    The catalog service's fixture (after the monolith's tests/concurrency.py), copied."""

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
