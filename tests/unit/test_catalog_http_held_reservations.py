"""RemoteCatalog.held_reservations over a fake transport: which requests it sends, and how it reads the answers.

The fake stands in for the catalog service's HTTP answers only; tests/integration/ asks a real one.
"""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from monolith.adapters.catalog_http import BATCH_SIZE, RemoteCatalog
from monolith.core.errors import ApplicationError
from monolith.core.service_client import BearerToken
from monolith.ports.catalog import CatalogUnavailable

CUTOFF = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


class FakeResponse:
    def __init__(self, status_code, body):
        self.status_code, self.reason, self._body = status_code, "Fake", body

    def json(self):
        return self._body


class FakeSession:
    """Answers each request with the next of `answers` ((status, body) pairs), and records what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url, kwargs))
        return FakeResponse(*self.answers.pop(0))


def page(ids, has_next=False):
    return 200, {
        "count": len(ids),
        "next": "http://catalog/next" if has_next else None,
        "previous": None,
        "results": [{"reservation_id": reservation_id, "status": "held"} for reservation_id in ids],
    }


@pytest.fixture
def remote(settings):
    settings.CATALOG_SERVICE_URL = "http://catalog.test:1"
    settings.CATALOG_SERVICE_TOKEN = "unit-token"
    return RemoteCatalog()


def with_answers(remote, *answers):
    remote._session = FakeSession(*answers)
    return remote._session


def test_it_reads_every_page_of_held_reservations_made_before_the_cutoff(remote):
    session = with_answers(remote, page(["order-A-1", "order-B-1"], has_next=True), page(["order-C-2"]))

    assert remote.held_reservations(older_than=CUTOFF) == ["order-A-1", "order-B-1", "order-C-2"]

    assert [method for method, _, _ in session.sent] == ["GET", "GET"]  # a GET: the retry policy's to retry
    for number, (_, url, kwargs) in enumerate(session.sent, start=1):
        assert urlsplit(url).path == "/api/catalog/stock-reservations/"
        assert kwargs["params"] == {
            "status": "held",
            "created_before": "2026-03-04T05:06:07+00:00",
            "page_size": BATCH_SIZE,
            "page": number,
        }
        # Staff or service only: this read is signed, unlike the product reads.
        assert isinstance(kwargs["auth"], BearerToken)


def test_it_is_never_cached(remote):
    session = with_answers(remote, page(["order-A-1"]), page([]))

    assert remote.held_reservations(older_than=CUTOFF) == ["order-A-1"]
    assert remote.held_reservations(older_than=CUTOFF) == []
    assert len(session.sent) == 2


def test_a_list_that_shrank_while_it_was_read_ends_at_the_missing_page(remote):
    with_answers(remote, page(["order-A-1"], has_next=True), (404, {"detail": "Invalid page.", "code": "not_found"}))

    assert remote.held_reservations(older_than=CUTOFF) == ["order-A-1"]


def test_a_refused_cutoff_is_the_application_error_naming_the_field(remote):
    with_answers(remote, (400, {"created_before": ["Enter a valid date/time."]}))

    with pytest.raises(ApplicationError) as caught:
        remote.held_reservations(older_than=CUTOFF)
    assert caught.value.status_code == 400 and "created_before" in caught.value.message


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_make_the_catalog_unavailable(remote, status):
    with_answers(remote, (status, {"detail": "No.", "code": "not_authenticated"}))

    with pytest.raises(CatalogUnavailable):
        remote.held_reservations(older_than=CUTOFF)


def test_a_failing_service_makes_the_catalog_unavailable(remote):
    with_answers(remote, (500, {}))

    with pytest.raises(CatalogUnavailable):
        remote.held_reservations(older_than=CUTOFF)
