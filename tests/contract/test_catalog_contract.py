"""The /api/catalog/ contract, proven: the same requests to the monolith (stage 0) and the catalog service (stage 1).

Both run under gunicorn, each on its own database holding the same catalog: the monolith's is
seeded by `seed_shop`, and the service's filled from it by `catalog_push` (so the data move is
exercised too). Every case below is sent to both, in this order, and must get the same status
and the same JSON body, but for what may honestly differ: the timestamps, and the host:port in
pagination links. The writes come after the reads and build on each other (a product is
created, changed, reserved...), which is fine because both servers see the same sequence.

    pytest tests/contract        # or: pytest -m contract
"""

import re
from urllib.parse import quote

import pytest
import requests

from tests.contract import CREDENTIALS, SERVICE_ENV, TOKEN, add_customer, normalised
from tests.servers import CATALOG, MONOLITH, free_port, serve

pytestmark = pytest.mark.contract

MONOLITH_PORT = free_port()
SERVICE_PORT = free_port()
NEW = {"sku": "CTR-0001", "name": "Contract Mug", "category": "mugs", "price": "9.99", "stock": 5}
HIDDEN = {"sku": "CTR-0002", "name": "Short-lived", "category": "mugs", "price": "1.00"}
SOME_SKUS = "COF-0001,TEA-0002,NOPE-0001,COF-0001"
TOO_MANY_SKUS = ",".join(f"COF-{n:04d}" for n in range(1, 102))


def case(name, method, path, who="anonymous", body=None):
    return pytest.param(method, path, who, body, id=name)


def reserve(reservation_id, *lines):
    return {"reservation_id": reservation_id, "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}


CASES = [
    # Categories
    case("categories", "GET", "categories/"),
    case("categories-page-size-3", "GET", "categories/?page_size=3"),
    case("categories-page-2-of-3", "GET", "categories/?page=2&page_size=3"),
    case("category", "GET", "categories/coffee/"),
    case("category-404", "GET", "categories/nowhere/"),
    # Product lists, pagination and its errors
    case("products", "GET", "products/"),
    case("products-page-2", "GET", "products/?page=2"),
    case("products-last-page", "GET", "products/?page=11"),
    case("products-past-the-last-page-404", "GET", "products/?page=12"),
    case("products-page-0-404", "GET", "products/?page=0"),
    case("products-page-abc-404", "GET", "products/?page=abc"),
    case("products-100-a-page-page-2", "GET", "products/?page_size=100&page=2"),
    case("products-page-size-0-400", "GET", "products/?page_size=0"),
    case("products-page-size-101-400", "GET", "products/?page_size=101"),
    case("products-page-size-abc-400", "GET", "products/?page_size=abc"),
    # Filters
    case("category-tea", "GET", "products/?category=tea"),
    case("category-unknown", "GET", "products/?category=nowhere"),
    case("q-text", "GET", "products/?q=espresso"),
    case("q-sku", "GET", "products/?q=COF-0003"),
    case("q-blank", "GET", "products/?q=%20"),
    case("min-price", "GET", "products/?min_price=150"),
    case("max-price", "GET", "products/?max_price=5.50"),
    case("price-range", "GET", "products/?min_price=10&max_price=12.5"),
    case("min-price-abc-400", "GET", "products/?min_price=abc"),
    case("min-price-exponent-400", "GET", "products/?min_price=1e3"),
    case("max-price-negative-400", "GET", "products/?max_price=-1"),
    case("in-stock-true", "GET", "products/?in_stock=true"),
    case("in-stock-0", "GET", "products/?in_stock=0"),
    case("in-stock-yes-400", "GET", "products/?in_stock=yes"),
    case("ordering-price", "GET", "products/?ordering=price"),
    case("ordering--price", "GET", "products/?ordering=-price"),
    case("ordering-name", "GET", "products/?ordering=name"),
    case("ordering--name", "GET", "products/?ordering=-name"),
    case("ordering-two-keys", "GET", "products/?ordering=-price,name"),
    case("ordering-bogus-400", "GET", "products/?ordering=bogus"),
    case("ordering-empty-key-400", "GET", "products/?ordering=price,"),
    case("many-bad-filters-400", "GET", "products/?min_price=x&in_stock=maybe&ordering=up"),
    case(
        "filters-combined-page-2", "GET", "products/?category=coffee&in_stock=true&ordering=-price&page=2&page_size=5"
    ),
    # Batch reads by sku
    case("batch", "GET", f"products/?sku={SOME_SKUS}"),
    case("batch-none-found", "GET", "products/?sku=NOPE-0001"),
    case("batch-101-skus-400", "GET", f"products/?sku={TOO_MANY_SKUS}"),
    # Product detail
    case("product", "GET", "products/COF-0001/"),
    case("product-404", "GET", "products/NOPE-0001/"),
    case("product-lower-case-404", "GET", "products/cof-0001/"),
    case("product-bad-sku-404", "GET", f"products/{quote('bad sku')}/"),
    case("product-long-sku-404", "GET", f"products/{'X' * 300}/"),
    case("unknown-path-404", "GET", "nothing-here/"),
    # Writes: who may
    case("create-anonymous-401", "POST", "products/", "anonymous", NEW),
    case("create-customer-403", "POST", "products/", "customer", NEW),
    case("create-staff-201", "POST", "products/", "staff", NEW),
    case("create-again-400", "POST", "products/", "staff", NEW),
    case(
        "create-bad-input-400",
        "POST",
        "products/",
        "staff",
        {"sku": "bad sku", "name": "", "category": "nowhere", "price": "-1", "currency": "USD", "stock": -2},
    ),
    case("create-service-201", "POST", "products/", "service", HIDDEN),
    case("create-category-customer-403", "POST", "categories/", "customer", {"slug": "tools", "name": "Tools"}),
    case("create-category-staff-201", "POST", "categories/", "staff", {"slug": "tools", "name": "Tools"}),
    case("create-category-again-400", "POST", "categories/", "staff", {"slug": "tools", "name": "Tools"}),
    case("update-anonymous-401", "PATCH", "products/CTR-0001/", "anonymous", {"price": "8.00"}),
    case("update-customer-403", "PATCH", "products/CTR-0001/", "customer", {"price": "8.00"}),
    case("update-staff-200", "PATCH", "products/CTR-0001/", "staff", {"price": "8.00", "category": "tools"}),
    case("update-sku-400", "PATCH", "products/CTR-0001/", "staff", {"sku": "CTR-9999"}),
    case("update-bad-price-400", "PATCH", "products/CTR-0001/", "staff", {"price": "abc"}),
    case("update-404", "PATCH", "products/NOPE-0001/", "staff", {"price": "1.00"}),
    case("update-category-staff-200", "PATCH", "categories/tools/", "staff", {"description": "Hammers."}),
    case("hide-staff-200", "PATCH", "products/CTR-0002/", "staff", {"is_active": False}),
    case("hidden-anonymous-404", "GET", "products/CTR-0002/"),
    case("hidden-staff-200", "GET", "products/CTR-0002/", "staff"),
    case("hidden-in-staff-batch", "GET", "products/?sku=CTR-0001,CTR-0002", "staff"),
    case("hidden-not-in-anonymous-batch", "GET", "products/?sku=CTR-0001,CTR-0002"),
    case("delete-anonymous-401", "DELETE", "products/CTR-0002/"),
    case("delete-customer-403", "DELETE", "products/CTR-0002/", "customer"),
    case("delete-staff-204", "DELETE", "products/CTR-0002/", "staff"),
    case("deleted-404", "GET", "products/CTR-0002/", "staff"),
    case("delete-nonempty-category-409", "DELETE", "categories/tools/", "staff"),
    case("delete-unknown-category-404", "DELETE", "categories/nowhere/", "staff"),
    # Stock reservations
    case("reserve-anonymous-401", "POST", "stock-reservations/", "anonymous", reserve("r-1", ("CTR-0001", 2))),
    case("reserve-customer-403", "POST", "stock-reservations/", "customer", reserve("r-1", ("CTR-0001", 2))),
    case(
        "reserve-service-201",
        "POST",
        "stock-reservations/",
        "service",
        reserve("r-1", ("CTR-0001", 2), ("COF-0002", 1)),
    ),
    case(
        "reserve-replay-200",
        "POST",
        "stock-reservations/",
        "service",
        reserve("r-1", ("COF-0002", 1), ("CTR-0001", 1), ("CTR-0001", 1)),
    ),
    case("reserve-replay-other-lines-422", "POST", "stock-reservations/", "service", reserve("r-1", ("CTR-0001", 1))),
    case("reserved-stock-taken", "GET", "products/CTR-0001/"),
    case(
        "reserve-short-409",
        "POST",
        "stock-reservations/",
        "staff",
        reserve("r-2", ("CTR-0001", 4), ("COF-0002", 10_000)),
    ),
    case("reserve-unknown-sku-400", "POST", "stock-reservations/", "staff", reserve("r-3", ("NOPE-0001", 1))),
    case("reserve-no-lines-400", "POST", "stock-reservations/", "staff", reserve("r-4")),
    case("reserve-bad-id-400", "POST", "stock-reservations/", "staff", reserve("bad id!", ("CTR-0001", 1))),
    case("reservation-staff-200", "GET", "stock-reservations/r-1/", "staff"),
    case("reservation-anonymous-401", "GET", "stock-reservations/r-1/"),
    case("reservation-404", "GET", "stock-reservations/r-404/", "service"),
    case("commit-200", "POST", "stock-reservations/r-1/commit/", "service"),
    case("commit-again-200", "POST", "stock-reservations/r-1/commit/", "service"),
    case("release-committed-409", "POST", "stock-reservations/r-1/release/", "service"),
    case("reserve-again-201", "POST", "stock-reservations/", "service", reserve("r-5", ("CTR-0001", 3))),
    case("release-200", "POST", "stock-reservations/r-5/release/", "service"),
    case("release-again-200", "POST", "stock-reservations/r-5/release/", "service"),
    case("commit-released-409", "POST", "stock-reservations/r-5/commit/", "service"),
    case("commit-unknown-404", "POST", "stock-reservations/r-404/commit/", "service"),
    # The reservation list a sweep reads: r-1 committed, r-5 released, r-6 held.
    case("reserve-held-201", "POST", "stock-reservations/", "service", reserve("r-6", ("CTR-0001", 1))),
    case("reservations-staff", "GET", "stock-reservations/", "staff"),
    case("reservations-held-service", "GET", "stock-reservations/?status=held", "service"),
    case("reservations-committed", "GET", "stock-reservations/?status=committed", "staff"),
    case("reservations-released-page-size-1", "GET", "stock-reservations/?status=released&page_size=1", "staff"),
    case("reservations-before-2000", "GET", "stock-reservations/?created_before=2000-01-01T00:00:00Z", "service"),
    case(
        "reservations-held-before-2999",
        "GET",
        "stock-reservations/?status=held&created_before=2999-01-01T00:00:00Z",
        "service",
    ),
    case("reservations-page-2-404", "GET", "stock-reservations/?page=2", "staff"),
    case("reservations-bad-status-400", "GET", "stock-reservations/?status=lost", "staff"),
    case("reservations-bad-created-before-400", "GET", "stock-reservations/?created_before=yesterday", "service"),
    case("reservations-bad-page-size-400", "GET", "stock-reservations/?page_size=101", "service"),
    case("reservations-anonymous-401", "GET", "stock-reservations/"),
    case("reservations-customer-403", "GET", "stock-reservations/", "customer"),
    # A batch commit (the relay's): r-6 held, r-1 committed, r-5 released, r-404 unknown.
    case(
        "commits-200",
        "POST",
        "stock-reservation-commits/",
        "service",
        {"reservation_ids": ["r-6", "r-1", "r-5", "r-404", "r-6"]},
    ),
    case("commits-again-200", "POST", "stock-reservation-commits/", "staff", {"reservation_ids": ["r-6"]}),
    case("commits-committed-r-6", "GET", "stock-reservations/r-6/", "service"),
    case("commits-empty-400", "POST", "stock-reservation-commits/", "service", {"reservation_ids": []}),
    case("commits-bad-id-400", "POST", "stock-reservation-commits/", "service", {"reservation_ids": ["bad id!"]}),
    case(
        "commits-101-400",
        "POST",
        "stock-reservation-commits/",
        "service",
        {"reservation_ids": [f"r-{n}" for n in range(101)]},
    ),
    case("commits-not-a-list-400", "POST", "stock-reservation-commits/", "service", {"reservation_ids": "r-6"}),
    case("commits-anonymous-401", "POST", "stock-reservation-commits/", "anonymous", {"reservation_ids": ["r-6"]}),
    case("commits-customer-403", "POST", "stock-reservation-commits/", "customer", {"reservation_ids": ["r-6"]}),
    case("stock-after-reservations", "GET", "products/CTR-0001/", "staff"),
    case("reserved-product-delete-hides-it-204", "DELETE", "products/CTR-0001/", "staff"),
    case("reserved-product-hidden-staff-200", "GET", "products/CTR-0001/", "staff"),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    def setup(server):
        server.manage("seed_catalog")  # the staff user admin/admin; the catalog comes from the monolith
        add_customer(server)

    with serve(
        CATALOG,
        port=SERVICE_PORT,
        name="contract_catalog",
        log_dir=tmp_path_factory.mktemp("contract"),
        env=SERVICE_ENV,
        setup=setup,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def monolith(tmp_path_factory, service):
    with serve(
        MONOLITH,
        port=MONOLITH_PORT,
        name="contract_monolith",
        log_dir=tmp_path_factory.mktemp("contract"),
        env=SERVICE_ENV,
        setup=lambda server: server.manage("seed_shop"),
    ) as server:
        # The data move under test too: the service gets its catalog the way production will.
        output = server.manage("catalog_push", "--to", service.url, "--token", TOKEN)
        assert "Verified" in output, output
        yield server


def answer(server, method, path, who, body):
    """What a client sees: the status and the body, with timestamps masked and the host taken out of links."""
    response = requests.request(method, f"{server.url}/api/catalog/{path}", json=body, timeout=10, **CREDENTIALS[who])
    if not response.content:
        return response.status_code, None
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:500]
    return response.status_code, normalised(response.json(), server.url)


@pytest.mark.parametrize("method, path, who, body", CASES)
def test_both_processes_answer_alike(monolith, service, method, path, who, body, request):
    expected = answer(monolith, method, path, who, body)

    assert answer(service, method, path, who, body) == expected
    # A case named "...-409" documents the status it is about: two equal wrong answers are no proof.
    named = re.search(r"-(\d{3})$", request.node.callspec.id)
    assert expected[0] == (int(named.group(1)) if named else 200), expected
