"""/staff/migration/: staff only; the stage, who serves each prefix, the last moves and each process,
also when the services do not answer. (tests/e2e/test_live_traffic.py reads real traffic back.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from monolith.strangler.models import StageMove
from monolith.strangler.services import stage_record

pytestmark = pytest.mark.django_db

NOBODY = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def silent_services(settings):
    settings.CATALOG_SERVICE_URL = settings.PAYMENTS_SERVICE_URL = NOBODY
    settings.FACADE_STATUS_URL = ""


def test_the_page_is_for_staff_only(client, customer, silent_services):
    assert client.get("/staff/migration/figures/").status_code == 302
    client.force_login(customer)
    assert client.get("/staff/migration/").status_code == 403
    assert client.get("/staff/migration/figures/").status_code == 403


def test_the_figures_at_stage_1_after_a_move(admin_client, silent_services):
    started = timezone.now() - timedelta(seconds=3)
    stage_record(number=1, started_at=started, writes_held_for=0.012)

    figures = admin_client.get("/staff/migration/figures/").json()

    assert figures["stage"] == 1
    assert figures["routes"] == [
        {"prefix": "/", "served_by": "monolith"},
        {"prefix": "/api/catalog/", "served_by": "catalog"},
        {"prefix": "/api/payments/", "served_by": "monolith"},
    ]
    [move] = figures["moves"]
    assert (move["from"], move["to"], move["writes_held_ms"]) == (0, 1, 12)
    assert 3 <= move["seconds"] < 10
    processes = {process["name"]: process for process in figures["processes"]}
    assert list(processes) == ["facade", "monolith", "catalog", "payments"]
    assert processes["monolith"]["up"] and processes["monolith"]["requests"] is not None
    for name in ("facade", "catalog", "payments"):
        assert processes[name]["up"] is False and processes[name]["requests"] is None


def test_recording_the_same_stage_is_no_move(silent_services):
    stage_record(number=0, started_at=timezone.now())
    assert not StageMove.objects.exists()


def test_the_page_renders_the_stage_and_its_script(admin_client, silent_services):
    page = admin_client.get("/staff/migration/")

    assert page.status_code == 200
    assert b"stage 0" in page.content and b"dashboard/migration.js" in page.content
