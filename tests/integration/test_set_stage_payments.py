"""`manage.py set_stage` at stage 2: the payment records (payments, refunds, idempotency keys) move to
the payments service and back, verified row by row, and the monolith's payments follow the stage:
paid in-process up to stage 1, through the payments service at 2, /api/payments/ passed on to it."""

import base64
import io
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from rest_framework.test import APIClient

from monolith import wiring
from monolith.catalog import services as catalog_services
from monolith.payments.models import IdempotencyKey, Payment, Refund
from monolith.strangler.selectors import current_stage
from tests.conftest import GOOD_CARD, SHIPPING
from tests.servers import CATALOG, PAYMENTS, free_port, serve

TOKEN = "stage2-test-token"
ADMIN = "Basic " + base64.b64encode(b"admin:admin").decode()


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    logs = tmp_path_factory.mktemp("stage2")
    env = {"SERVICE_TOKENS": f"monolith={TOKEN}"}
    with (
        serve(
            CATALOG,
            port=free_port(),
            name="stage2_catalog",
            log_dir=logs,
            env=env,
            setup=lambda server: server.manage("seed_catalog"),
        ) as catalog,
        serve(
            PAYMENTS,
            port=free_port(),
            name="stage2_payments",
            log_dir=logs,
            env=env,
            setup=lambda server: server.manage("seed_payments"),
        ) as payments,
    ):
        yield catalog, payments


@pytest.fixture
def shop(transactional_db, services, settings):
    catalog, payments = services
    for name in ("catalog_stockreservationline", "catalog_stockreservation", "catalog_product", "catalog_category"):
        catalog.manage(
            "shell", "-c", f"from django.db import connection; connection.cursor().execute('TRUNCATE {name} CASCADE')"
        )
    payments.manage(
        "shell",
        "-c",
        "from django.db import connection; "
        "connection.cursor().execute('TRUNCATE payments_refund, payments_payment, payments_idempotencykey CASCADE')",
    )
    settings.CATALOG_BACKEND = settings.PAYMENTS_BACKEND = "stage"
    settings.CATALOG_SERVICE_URL, settings.PAYMENTS_SERVICE_URL = catalog.url, payments.url
    settings.CATALOG_SERVICE_TOKEN = settings.PAYMENTS_SERVICE_TOKEN = TOKEN
    beans = catalog_services.category_create(slug="beans", name="Beans")
    catalog_services.product_create(
        sku="ST2-0001", name="Stage two beans", category=beans, price=Decimal("9.00"), stock=50
    )
    with wiring.override():  # adapters built afresh, with these settings
        yield payments


def set_stage(stage):
    out = io.StringIO()
    call_command("set_stage", str(stage), "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def buy(client, key):
    order = client.post(
        "/api/orders/",
        {"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": "ST2-0001", "quantity": 1}]},
        format="json",
    )
    assert order.status_code == 201, order.content
    paid = client.post(
        f"/api/orders/{order.json()['number']}/pay/", {"card": GOOD_CARD}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert paid.status_code == 201, paid.content
    return order.json()["number"], paid.json()


def service_payments(payments, number):
    listed = requests.get(
        f"{payments.url}/api/payments/",
        params={"order_number": number},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    return listed.json()["results"]


def test_stage_2_moves_the_payment_records_and_payments_follow_it_both_ways(shop):
    client = APIClient()
    earlier, earlier_payment = buy(client, "key-at-stage-0")  # in-process, at stage 0
    assert Payment.objects.filter(order_number=earlier).count() == 1

    output = set_stage(2)  # two steps: the catalog, then the payment records

    assert current_stage() == 2
    assert "Stage 0 → 1" in output and "Stage 1 → 2" in output and "Stage 2 recorded" in output
    assert "Verified: 1 payments, 0 refunds, 1 idempotency keys on both sides" in output
    moved = service_payments(shop, earlier)
    assert [p["id"] for p in moved] == [earlier_payment["id"]]

    later, later_payment = buy(client, "key-at-stage-2")  # through the payments service now
    assert not Payment.objects.filter(order_number=later).exists()
    assert [p["status"] for p in service_payments(shop, later)] == ["succeeded"]
    # The monolith's /api/payments/ is the service's now; a refund there, of the moved payment.
    refund = client.post(
        f"/api/payments/{earlier_payment['id']}/refunds/", {"amount": "4.00"}, format="json", HTTP_AUTHORIZATION=ADMIN
    )
    assert refund.status_code == 201, refund.content
    assert refund["X-Served-By"] == "payments"

    output = set_stage(1)

    assert current_stage() == 1
    assert "Stage 2 → 1" in output
    assert Payment.objects.get(id=later_payment["id"]).status == "succeeded"
    assert Payment.objects.get(id=earlier_payment["id"]).amount_refunded == Decimal("4.00")
    assert Refund.objects.filter(payment_id=earlier_payment["id"]).count() == 1
    assert IdempotencyKey.objects.filter(key__contains="key-at-stage-2").exists()
    # Back in-process: a payment again, and the keys of both eras are known here.
    third, _ = buy(client, "key-at-stage-1")
    assert Payment.objects.filter(order_number=third).count() == 1
    assert "Copied while serving: 1 idempotency keys created, 1 payments created." in set_stage(2)
