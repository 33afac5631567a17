"""The HTTP catalog adapter's pure parts: page numbers, error bodies, the retry policy, the token."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from django.core.paginator import Paginator
from urllib3.exceptions import MaxRetryError, NewConnectionError

from monolith.adapters.catalog_http import application_error, chunked, describe, filter_error, num_pages, page_number
from monolith.catalog.services import InsufficientStock, ReservationMismatch
from monolith.core.errors import ApplicationError, Conflict, NotFound, ServiceUnavailable
from monolith.core.service_client import READ_RETRY as RETRY
from monolith.core.service_client import BearerToken
from monolith.ports.catalog import CatalogUnavailable, ProductInfo

URL = "/api/catalog/stock-reservations/"


@pytest.mark.parametrize(
    "page", [1, 3, 5, "2", " 4 ", 0, -1, "-3", 6, "99", "abc", "", None, "last", 2.0, 2.5, "1.0", True]
)
def test_a_page_number_means_what_it_means_to_paginator_get_page(page):
    paginator = Paginator(range(50), 10)  # five pages

    number = page_number(page)
    shown = number if 1 <= number <= paginator.num_pages else paginator.num_pages  # the API's 404: the last page

    assert shown == paginator.get_page(page).number


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 99, 100, 101])
def test_the_number_of_pages_is_paginators(count):
    assert num_pages(count, 10) == Paginator(range(count), 10).num_pages


def test_skus_are_read_in_chunks_of_at_most_the_batch_size():
    assert chunked(list(range(250)), 100) == [list(range(100)), list(range(100, 200)), list(range(200, 250))]
    assert chunked([], 100) == []


@pytest.mark.parametrize(
    "error, caught_as",
    [
        (InsufficientStock(["TEA-2", "COF-1"]), Conflict),
        (
            ReservationMismatch("This reservation_id was already used for other lines.", field="reservation_id"),
            ApplicationError,
        ),
        (
            ApplicationError("Unknown sku: NOPE-9.", code="unknown_sku", extra={"skus": ["NOPE-9"]}, field="lines"),
            ApplicationError,
        ),
        (NotFound("No stock reservation 'x'."), NotFound),
        (Conflict("This reservation was committed and cannot be released.", code="reservation_committed"), Conflict),
    ],
    ids=["short", "mismatch", "unknown-sku", "not-found", "committed"],
)
def test_an_error_body_becomes_the_error_that_made_it(error, caught_as):
    """The service sends ApplicationError.as_dict(): what comes out is what went in, as callers see it."""
    mapped = application_error(error.status_code, error.as_dict())

    assert isinstance(mapped, caught_as)
    assert (mapped.status_code, mapped.code, mapped.message, mapped.field, mapped.extra) == (
        error.status_code,
        error.code,
        error.message,
        error.field,
        error.extra,
    )
    assert mapped.as_dict() == error.as_dict()


def test_short_stock_is_a_conflict_naming_the_skus():
    mapped = application_error(
        409, {"detail": "Not enough stock for COF-1.", "code": "insufficient_stock", "skus": ["COF-1"]}
    )

    assert isinstance(mapped, Conflict)
    assert (mapped.code, mapped.extra) == ("insufficient_stock", {"skus": ["COF-1"]})


def test_field_errors_without_a_detail_become_one_message_naming_each_field():
    body = {
        "reservation_id": ["This value does not match the required pattern."],
        "lines": {"0": {"quantity": ["Ensure this value is less than or equal to 10000."]}},
    }

    mapped = application_error(400, body)

    assert mapped.status_code == 400 and mapped.code == "invalid"
    assert mapped.message == (
        "reservation_id: This value does not match the required pattern.; "
        "lines: 0: quantity: Ensure this value is less than or equal to 10000."
    )
    assert describe(["a", ["b"]]) == "a b"


def test_a_body_that_is_not_an_object_still_says_the_status():
    mapped = application_error(418, ["teapot"])

    assert (mapped.status_code, mapped.message) == (418, "The catalog service answered 418.")


def test_a_bad_filter_is_a_validation_error_per_field():
    error = filter_error({"min_price": ["Enter an amount such as 12 or 12.50."], "in_stock": "Use true or false."})

    assert error.message_dict == {
        "min_price": ["Enter an amount such as 12 or 12.50."],
        "in_stock": ["Use true or false."],
    }


def test_catalog_unavailable_is_a_503_the_api_can_answer():
    error = CatalogUnavailable()

    # Not an ApplicationError: a form that shows those as the shopper's mistakes must let it through.
    assert isinstance(error, ServiceUnavailable) and not isinstance(error, ApplicationError)
    assert error.status_code == 503
    assert error.as_dict() == {"code": "catalog_unavailable", "detail": error.message}
    assert "temporarily unavailable" in error.message and "try again" in error.message


def test_a_product_is_built_from_its_json():
    product = ProductInfo.from_body(
        {
            "sku": "COF-1",
            "name": "Beans",
            "slug": "beans",
            "description": "",
            "category": "coffee",
            "price": "12.50",
            "currency": "EUR",
            "stock": 3,
            "is_active": True,
            "updated_at": "2026-01-02T03:04:05.678901Z",
        }
    )

    assert product.price == Decimal("12.50") and isinstance(product.price, Decimal)
    assert product.updated_at == datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def refused():
    return NewConnectionError(None, "Connection refused")


def test_a_get_is_retried_after_a_refused_connection_and_a_post_never():
    assert RETRY.increment("GET", URL, error=refused()).connect == RETRY.connect - 1
    with pytest.raises(MaxRetryError):
        RETRY.increment("POST", URL, error=refused())


def test_only_a_get_is_retried_after_a_bad_gateway_status():
    assert RETRY.is_retry("GET", 503)
    assert RETRY.is_retry("GET", 502)
    assert not RETRY.is_retry("GET", 500)  # a bug in the service: asking again gives the same answer
    assert not RETRY.is_retry("POST", 503)


def test_a_retry_after_header_does_not_hold_a_page():
    assert not RETRY.respect_retry_after_header
    assert RETRY.read == 0  # a request that reached the service is not sent again: a timeout would double


def test_the_token_goes_in_the_header_and_nowhere_else():
    token = "secret-token-0123456789"
    request = BearerToken(token)(requests.Request("POST", "http://catalog" + URL).prepare())

    assert request.headers["Authorization"] == f"Bearer {token}"
    assert token not in repr(BearerToken(token))
