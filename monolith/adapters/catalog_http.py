"""The catalog port over HTTP: RemoteCatalog reads and reserves stock through the catalog service's /api/catalog/.

It behaves as LocalCatalog does, errors included, for a catalog in another process. One
ServiceSession per process talks to the service (monolith/core/service_client.py: its timeouts,
its retry policy, GETs only); a circuit breaker in front of it makes a catalog that is down
cost each page a moment instead of a timeout; reads are cached for CACHE_SECONDS, and checkout
is priced from the reservation's answer, never from the cache.
"""

import hashlib
import logging
import re
import uuid
from urllib.parse import quote

import pybreaker
import requests
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError

from monolith.core.errors import ApplicationError, Conflict, NotFound
from monolith.core.service_client import (
    CATALOG_READ_TIMEOUT,
    CATALOG_WRITE_TIMEOUT,
    READ_RETRY,
    ServiceFailure,
    ServiceSession,
    bearer,
    circuit_breaker,
)
from monolith.ports.catalog import (
    CatalogUnavailable,
    CategoryInfo,
    ProductInfo,
    ProductPage,
    ReservedLine,
    StockCommits,
)

logger = logging.getLogger(__name__)

# Reads (categories, product pages, products) are kept this long, in this process: a price or
# stock changed in the catalog service shows on the shop's pages within 5 s. Checkout never
# uses them: it charges the prices the reservation answers with, and reservations always go to
# the service.
CACHE_SECONDS = 5
# A page for each query and a product for each sku; q is free text, so the number must be bounded.
CACHE_MAX_ENTRIES = 2000

# The API's largest page_size, and the most skus one batch read may name.
BATCH_SIZE = 100

# What the catalog's URLs accept as a sku (monolith.catalog.selectors.SKU_SHAPE): anything
# else is no product, and is asked of no one.
SKU_SHAPE = re.compile(r"^[A-Za-z0-9-]{1,32}\Z")


class RemoteCatalog:
    """The catalog service at CATALOG_SERVICE_URL, behind the same port as LocalCatalog.

    Reads go without credentials, as a shopper's would, so the service shows exactly what
    LocalCatalog shows (no inactive products); stock reservations carry the service token.
    """

    # Its writes are committed in the catalog service's database, whatever the caller's transaction does.
    shares_transaction = False

    def __init__(self):
        self._api = settings.CATALOG_SERVICE_URL.rstrip("/") + "/api/catalog/"
        self._session = ServiceSession(retry=READ_RETRY, timeout=CATALOG_READ_TIMEOUT)
        self._credentials = bearer(settings.CATALOG_SERVICE_TOKEN)
        self.breaker = circuit_breaker("catalog")
        # A name of its own: LocMemCache instances that share a name share one store.
        self._cache = LocMemCache(
            f"{__name__}.{uuid.uuid4().hex}", {"TIMEOUT": CACHE_SECONDS, "OPTIONS": {"MAX_ENTRIES": CACHE_MAX_ENTRIES}}
        )

    def categories(self):
        return self._cached("categories", self._categories)

    def product_page(self, *, filters, page, per_page):
        number = page_number(page)
        query = (sorted(filters.items()), number, per_page)
        key = "page:" + hashlib.sha256(repr(query).encode()).hexdigest()  # q is free text: no raw key
        return self._cached(key, lambda: self._product_page(filters, number, per_page))

    def product(self, sku):
        if not is_sku(sku):
            raise _no_product(sku)
        return self._cached(f"product:{sku}", lambda: self._product(sku))

    def products(self, skus):
        wanted = list(dict.fromkeys(sku for sku in skus if is_sku(sku)))
        found = {
            product.sku: product for product in self._cache.get_many([f"product:{sku}" for sku in wanted]).values()
        }
        for chunk in chunked([sku for sku in wanted if sku not in found], BATCH_SIZE):
            body = self._ok("GET", "products/", params={"sku": ",".join(chunk), "page_size": BATCH_SIZE})
            fetched = {product.sku: product for product in map(ProductInfo.from_body, body["results"])}
            self._cache.set_many({f"product:{sku}": product for sku, product in fetched.items()})
            found.update(fetched)
        return found

    def reserve(self, *, reservation_id, lines):
        body = self._ok(
            "POST",
            "stock-reservations/",
            json={"reservation_id": reservation_id, "lines": lines},
            timeout=CATALOG_WRITE_TIMEOUT,
        )
        return {line["sku"]: ReservedLine.from_body(line) for line in body["lines"]}

    def commit(self, *, reservation_id):
        self._ok("POST", f"stock-reservations/{quote(reservation_id, safe='')}/commit/", timeout=CATALOG_WRITE_TIMEOUT)

    def commit_many(self, *, reservation_ids):
        body = self._ok(
            "POST",
            "stock-reservation-commits/",
            json={"reservation_ids": reservation_ids},
            timeout=CATALOG_WRITE_TIMEOUT,
        )
        return StockCommits.from_body(body)

    def release(self, *, reservation_id):
        self._ok("POST", f"stock-reservations/{quote(reservation_id, safe='')}/release/", timeout=CATALOG_WRITE_TIMEOUT)

    def held_reservations(self, *, older_than):
        # Never cached: the sweep acts on the answer. Staff or service only, so signed (a GET
        # nonetheless, retried as the other reads are); by page number, as _categories reads.
        params = {"status": "held", "created_before": older_than.isoformat(), "page_size": BATCH_SIZE}
        held, page = [], 1
        while True:
            status, body = self._exchange(
                "GET", "stock-reservations/", params={**params, "page": page}, auth=self._credentials
            )
            if status == 404 and page > 1:  # the list shrank while we read it: what we have is all
                return held
            if status != 200:
                raise application_error(status, body)
            held += [reservation["reservation_id"] for reservation in body["results"]]
            if not body["next"]:
                return held
            page += 1

    def reservation_status(self, *, reservation_id):
        # Never cached: a payment is charged on the answer. Staff or service only, so signed.
        status, body = self._exchange(
            "GET", f"stock-reservations/{quote(reservation_id, safe='')}/", auth=self._credentials
        )
        if status == 404:
            return None
        if status != 200:
            raise application_error(status, body)
        return body["status"]

    def _categories(self):
        categories, page = [], 1
        while True:
            # By page number rather than by `next`, which names whatever host the service thinks it has.
            body = self._ok("GET", "categories/", params={"page": page, "page_size": BATCH_SIZE})
            categories += map(CategoryInfo.from_body, body["results"])
            if not body["next"]:
                return categories
            page += 1

    def _product_page(self, filters, number, per_page):
        query = {**filters, "page_size": per_page}
        body = self._products_page(query, number) if number >= 1 else None
        if body is None:
            # Paginator.get_page's rule, which LocalCatalog follows: out of range is the last page.
            body, number = self._products_page(query, 1), 1
            last = num_pages(body["count"], per_page)
            last_body = self._products_page(query, last) if last > 1 else None
            if last_body is not None:  # None only if products went away between the two calls
                body, number = last_body, last
        return ProductPage(
            products=[ProductInfo.from_body(product) for product in body["results"]],
            count=body["count"],
            number=number,
            num_pages=num_pages(body["count"], per_page),
        )

    def _products_page(self, query, number):
        """A page of the product list, or None when the page is out of range (the API's 404)."""
        status, body = self._exchange("GET", "products/", params={**query, "page": number})
        if status == 400:
            raise filter_error(body)
        if status == 404 and number > 1:  # page 1 always exists, even when empty
            return None
        if status != 200:
            raise application_error(status, body)
        return body

    def _product(self, sku):
        status, body = self._exchange("GET", f"products/{sku}/")
        if status == 404:
            raise _no_product(sku)
        if status != 200:
            raise application_error(status, body)
        return ProductInfo.from_body(body)

    def _cached(self, key, fetch):
        value = self._cache.get(key)
        if value is None:
            value = fetch()
            self._cache.set(key, value)
        return value

    def _ok(self, method, path, **kwargs):
        """The body of a 2xx answer; any other answer raised as LocalCatalog would raise it."""
        status, body = self._exchange(method, path, **kwargs)
        if not 200 <= status < 300:
            raise application_error(status, body)
        return body

    def _exchange(self, method, path, **kwargs):
        """(status, body) of an answer below 500; CatalogUnavailable when there is none."""
        if method != "GET":
            kwargs["auth"] = (
                self._credentials
            )  # reads stay anonymous (see the class docstring), unless signed by the caller
        try:
            status, body = self.breaker.call(self._send, method, self._api + path, **kwargs)
        except pybreaker.CircuitBreakerError as error:
            raise CatalogUnavailable() from error
        except (requests.RequestException, ServiceFailure) as error:
            # The message names the method and URL, never a header: the token stays out of the log.
            logger.warning("Catalog service call failed: %s %s: %s", method, path, error)
            raise CatalogUnavailable() from error
        if status in (401, 403):
            # Our configuration, not the caller's request, is wrong: the caller cannot fix it.
            logger.error(
                "The catalog service refused the monolith's credentials (%s) for %s %s: check CATALOG_SERVICE_TOKEN.",
                status,
                method,
                path,
            )
            raise CatalogUnavailable()
        return status, body

    def _send(self, method, url, **kwargs):
        response = self._session.request(method, url, **kwargs)
        if response.status_code >= 500:
            raise ServiceFailure(f"{response.status_code} {response.reason}")
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ServiceFailure(f"{response.status_code} {response.reason}, and no JSON body") from None


def _no_product(sku):
    # LocalCatalog's words, whichever 404 the service gave (its URL converter refuses some skus outright).
    return NotFound(f"No product with sku {sku!r}.", code="unknown_sku")


def is_sku(value):
    return isinstance(value, str) and SKU_SHAPE.match(value) is not None


def page_number(page):
    """`page` as Paginator.get_page reads it: anything but a whole number is page 1 (but 0 and below are the last)."""
    try:
        if isinstance(page, float) and not page.is_integer():
            raise ValueError
        return int(page)
    except (TypeError, ValueError):
        return 1


def num_pages(count, per_page):
    """As Paginator.num_pages: an empty list still has its one (empty) page."""
    return max(1, -(-count // per_page))


def chunked(items, size):
    return [items[start : start + size] for start in range(0, len(items), size)]


def filter_error(body):
    """The API's 400 for a bad product query as the ValidationError LocalCatalog raises: {field: [message, ...]}."""
    return ValidationError(
        {
            field: [str(message) for message in messages] if isinstance(messages, list) else [str(messages)]
            for field, messages in body.items()
        }
    )


def application_error(status, body):
    """An error answer of the catalog API as the ApplicationError LocalCatalog would have raised.

    The service sends ApplicationError.as_dict(): {field: [detail], "detail", "code", **extra},
    so the error that comes out is the one that went in (a 409 for short stock is a Conflict
    with code "insufficient_stock" and extra {"skus": [...]}). A serializer's field errors,
    which have no "detail", become one message naming each field.
    """
    error_class = {404: NotFound, 409: Conflict}.get(status, ApplicationError)
    if not isinstance(body, dict):
        return error_class(f"The catalog service answered {status}.", status_code=status)
    rest = dict(body)
    detail, code = rest.pop("detail", None), rest.pop("code", None)
    if detail is None:
        return error_class(describe(rest), code=code, status_code=status)
    field = next((key for key, value in rest.items() if value == [detail]), None)
    rest.pop(field, None)
    return error_class(str(detail), code=code, status_code=status, field=field, extra=rest)


def describe(errors):
    """{"lines": {"0": {"quantity": ["Too many."]}}} -> "lines: 0: quantity: Too many." """
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {describe(value)}" for key, value in errors.items())
    if isinstance(errors, list):
        return " ".join(describe(item) for item in errors)
    return str(errors)
