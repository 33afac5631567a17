"""The catalog API, /api/catalog/: reads, filters, writes for staff and services, and bad input that never gives a 500.

Adapted from the monolith's tests/integration/test_catalog_api.py: the same requests must get
the same answers from either process.
"""

import base64
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog_service.catalog.models import Category, Product

PRODUCTS = "/api/catalog/products/"
CATEGORIES = "/api/catalog/categories/"
PRODUCT_FIELDS = {
    "sku",
    "name",
    "slug",
    "description",
    "category",
    "price",
    "currency",
    "stock",
    "is_active",
    "updated_at",
}


def skus(response):
    assert response.status_code == 200, response.content
    return [item["sku"] for item in response.json()["results"]]


def assert_json_error(response, status, field=None):
    """A 4xx with a JSON body that, for bad input, names the field."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    if field is not None:
        assert field in body, body
    return body


def assert_refused_anonymous(response):
    # DRF answers with the first authentication class's challenge: Basic, so a 401
    # that tells curl and services what to send, never a 403 no credentials could fix.
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert "detail" in response.json()


@pytest.fixture
def shelf(make_product):
    """Five products in two categories, one inactive, one out of stock."""
    tea = Category.objects.create(slug="tea", name="Tea")
    return {
        "espresso": make_product("COF-1", price="12.50", stock=5, name="Harbour Espresso"),
        "filter": make_product("COF-2", price="8.00", stock=0, name="Alpine Filter Roast"),
        "decaf": make_product("COF-3", price="30.00", stock=2, name="Midnight Decaf", is_active=False),
        "sencha": make_product("TEA-1", price="4.20", stock=9, name="Meadow Sencha", cat=tea),
        "earl": make_product("TEA-2", price="19.99", stock=1, name="Copper Earl Grey", cat=tea),
    }


def basic_client(username, password):
    client = APIClient()
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


# --- Reads ---------------------------------------------------------------------------------


def test_product_list_has_the_contract_shape_and_fields(api, product):
    response = api.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert body["next"] is None and body["previous"] is None
    item = body["results"][0]
    assert set(item) == PRODUCT_FIELDS
    assert item["sku"] == "COF-0001"
    assert item["name"] == "Harbour Espresso Beans"
    assert item["slug"] == "cof-0001"
    assert item["category"] == "coffee"
    assert item["price"] == "12.50"  # a decimal string, never a float
    assert item["currency"] == "EUR"
    assert item["stock"] == 5
    assert item["is_active"] is True
    assert item["updated_at"]


def test_product_detail_by_sku(api, product):
    response = api.get(f"{PRODUCTS}COF-0001/")

    assert response.status_code == 200
    assert set(response.json()) == PRODUCT_FIELDS
    assert response.json()["price"] == "12.50"


def test_inactive_products_are_hidden_from_anonymous_users_but_not_from_staff(api, staff_api, shelf):
    assert "COF-3" not in skus(api.get(PRODUCTS))
    assert_json_error(api.get(f"{PRODUCTS}COF-3/"), 404)
    assert skus(api.get(PRODUCTS, {"sku": "COF-3"})) == []

    assert "COF-3" in skus(staff_api.get(PRODUCTS))
    assert staff_api.get(f"{PRODUCTS}COF-3/").json()["is_active"] is False


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"category": "tea"}, {"TEA-1", "TEA-2"}),
        ({"category": "nothing-here"}, set()),
        ({"q": "espresso"}, {"COF-1"}),  # name, case-insensitive
        ({"q": "tea-2"}, {"TEA-2"}),  # exact sku, case-insensitive
        ({"q": "  "}, {"COF-1", "COF-2", "TEA-1", "TEA-2"}),
        ({"min_price": "10"}, {"COF-1", "TEA-2"}),
        ({"max_price": "8.00"}, {"COF-2", "TEA-1"}),  # inclusive
        ({"min_price": "5", "max_price": "13"}, {"COF-1", "COF-2"}),
        ({"in_stock": "true"}, {"COF-1", "TEA-1", "TEA-2"}),
        ({"in_stock": "false"}, {"COF-2"}),
        ({"in_stock": "1"}, {"COF-1", "TEA-1", "TEA-2"}),
        ({"in_stock": "0"}, {"COF-2"}),
        ({"sku": "TEA-1,COF-1,NOPE-9"}, {"TEA-1", "COF-1"}),
        ({"category": "coffee", "in_stock": "true"}, {"COF-1"}),
    ],
)
def test_product_list_filters(api, shelf, params, expected):
    assert set(skus(api.get(PRODUCTS, params))) == expected


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("price", ["TEA-1", "COF-2", "COF-1", "TEA-2"]),
        ("-price", ["TEA-2", "COF-1", "COF-2", "TEA-1"]),
        ("name", ["COF-2", "TEA-2", "COF-1", "TEA-1"]),
        ("-name", ["TEA-1", "COF-1", "TEA-2", "COF-2"]),
    ],
)
def test_product_list_ordering(api, shelf, ordering, expected):
    assert skus(api.get(PRODUCTS, {"ordering": ordering})) == expected


def test_pages_walk_the_whole_list_without_repeats(api, make_product):
    # Equal prices: only the tie-breaker keeps the pages from overlapping.
    for n in range(7):
        make_product(f"SAME-{n}", price="5.00")

    seen, url = [], f"{PRODUCTS}?ordering=price&page_size=3"
    while url:
        body = api.get(url).json()
        assert body["count"] == 7
        seen += [item["sku"] for item in body["results"]]
        url = body["next"]

    assert sorted(seen) == [f"SAME-{n}" for n in range(7)]
    page3 = api.get(PRODUCTS, {"ordering": "price", "page_size": 3, "page": 3}).json()
    assert len(page3["results"]) == 1 and page3["next"] is None and page3["previous"]


def test_page_size_allows_up_to_one_hundred(api, make_product):
    coffee = make_product("ONE-1").category
    Product.objects.bulk_create(
        Product(
            sku=f"BULK-{n:03}",
            name=f"Bulk {n:03}",
            slug=f"bulk-{n:03}",
            category=coffee,
            price=Decimal("1.00"),
            stock=1,
        )
        for n in range(101)
    )

    body = api.get(PRODUCTS, {"page_size": 100}).json()
    assert body["count"] == 102 and len(body["results"]) == 100
    assert len(api.get(PRODUCTS).json()["results"]) == 20  # the default


def test_batch_read_by_sku_is_limited_to_one_hundred(api, make_product):
    make_product("COF-1")
    wanted = ",".join(["COF-1"] + [f"X-{n}" for n in range(99)])
    assert skus(api.get(PRODUCTS, {"sku": wanted})) == ["COF-1"]

    too_many = ",".join(f"X-{n}" for n in range(101))
    assert_json_error(api.get(PRODUCTS, {"sku": too_many}), 400, "sku")


def test_categories_list_and_detail(api, shelf):
    body = api.get(CATEGORIES).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [c["slug"] for c in body["results"]] == ["coffee", "tea"]
    assert api.get(f"{CATEGORIES}tea/").json() == {"slug": "tea", "name": "Tea", "description": ""}


@pytest.mark.parametrize(
    "url",
    [
        f"{PRODUCTS}NOPE-1/",
        f"{PRODUCTS}cof-0001/",  # skus are case-sensitive
        f"{PRODUCTS}{'A' * 33}/",  # longer than any sku: refused by the URL itself
        f"{PRODUCTS}COF%000001/",
        f"{CATEGORIES}nope/",
        f"{CATEGORIES}co%00ffee/",
        "/api/catalog/nothing-here/",
    ],
)
def test_unknown_keys_are_json_404s(api, product, url):
    body = assert_json_error(api.get(url), 404)
    assert body["detail"]


# --- Writes --------------------------------------------------------------------------------

NEW_PRODUCT = {"sku": "NEW-1", "name": "Granite Moka Pot", "category": "coffee", "price": "34.90", "stock": 4}


def test_staff_creates_updates_and_deletes_a_product(staff_api, api, category):
    created = staff_api.post(PRODUCTS, NEW_PRODUCT, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "granite-moka-pot"  # made from the name when not given
    assert created.json()["currency"] == "EUR"
    assert api.get(f"{PRODUCTS}NEW-1/").json()["price"] == "34.90"

    patched = staff_api.patch(f"{PRODUCTS}NEW-1/", {"price": "29.00", "stock": 0}, format="json")
    assert patched.status_code == 200, patched.content
    assert api.get(f"{PRODUCTS}NEW-1/").json()["price"] == "29.00"
    assert api.get(f"{PRODUCTS}NEW-1/").json()["stock"] == 0

    deleted = staff_api.delete(f"{PRODUCTS}NEW-1/")
    assert deleted.status_code == 204
    assert_json_error(api.get(f"{PRODUCTS}NEW-1/"), 404)
    assert_json_error(staff_api.get(f"{PRODUCTS}NEW-1/"), 404)


def test_staff_hides_a_product_by_patching_is_active(staff_api, api, product):
    assert staff_api.patch(f"{PRODUCTS}COF-0001/", {"is_active": False}, format="json").status_code == 200
    assert_json_error(api.get(f"{PRODUCTS}COF-0001/"), 404)


def test_deleting_a_product_that_was_reserved_hides_it_instead(staff_api, api, product):
    reserved = staff_api.post(
        "/api/catalog/stock-reservations/",
        {"reservation_id": "r-1", "lines": [{"sku": "COF-0001", "quantity": 1}]},
        format="json",
    )
    assert reserved.status_code == 201

    assert staff_api.delete(f"{PRODUCTS}COF-0001/").status_code == 204
    assert_json_error(api.get(f"{PRODUCTS}COF-0001/"), 404)
    assert staff_api.get(f"{PRODUCTS}COF-0001/").json()["is_active"] is False  # order history keeps it


def test_staff_manages_categories(staff_api, api, product):
    assert staff_api.post(CATEGORIES, {"slug": "tea", "name": "Tea"}, format="json").status_code == 201
    assert staff_api.patch(f"{CATEGORIES}tea/", {"name": "Loose Tea"}, format="json").json()["name"] == "Loose Tea"
    assert_json_error(staff_api.post(CATEGORIES, {"slug": "tea", "name": "Again"}, format="json"), 400, "slug")

    refused = staff_api.delete(f"{CATEGORIES}coffee/")  # it still has a product
    assert_json_error(refused, 409)
    assert api.get(f"{CATEGORIES}coffee/").status_code == 200

    assert staff_api.delete(f"{CATEGORIES}tea/").status_code == 204
    assert_json_error(api.get(f"{CATEGORIES}tea/"), 404)


WRITES = [
    ("post", PRODUCTS, NEW_PRODUCT),
    ("patch", f"{PRODUCTS}COF-0001/", {"price": "1.00"}),
    ("delete", f"{PRODUCTS}COF-0001/", None),
    ("post", CATEGORIES, {"slug": "tea", "name": "Tea"}),
    ("patch", f"{CATEGORIES}coffee/", {"name": "Beans"}),
    ("delete", f"{CATEGORIES}coffee/", None),
]


@pytest.mark.parametrize("method, url, body", WRITES)
def test_writes_are_refused_to_anonymous_users(api, product, method, url, body):
    assert_refused_anonymous(getattr(api, method)(url, body, format="json"))
    assert_unchanged(api)


@pytest.mark.parametrize("method, url, body", WRITES)
def test_writes_are_refused_to_customers(customer_api, product, method, url, body):
    response = getattr(customer_api, method)(url, body, format="json")
    assert_json_error(response, 403)
    assert_unchanged(customer_api)


def assert_unchanged(client):
    assert client.get(f"{PRODUCTS}COF-0001/").json()["price"] == "12.50"
    assert [c["slug"] for c in client.get(CATEGORIES).json()["results"]] == ["coffee"]
    assert client.get(f"{CATEGORIES}coffee/").json()["name"] == "Coffee"


def test_http_basic_authentication_works_for_staff(staff_user, category):
    # The contract promises `curl -u admin:admin` works.
    response = basic_client("admin", "admin").post(PRODUCTS, NEW_PRODUCT, format="json")
    assert response.status_code == 201, response.content


def test_http_basic_with_a_wrong_password_is_refused(staff_user, category):
    assert_refused_anonymous(basic_client("admin", "wrong").post(PRODUCTS, NEW_PRODUCT, format="json"))
    assert not Product.objects.filter(sku="NEW-1").exists()


def test_put_is_not_allowed(staff_api, product):
    body = assert_json_error(staff_api.put(f"{PRODUCTS}COF-0001/", NEW_PRODUCT, format="json"), 405)
    assert body["code"] == "method_not_allowed"


def test_a_products_sku_cannot_change(staff_api, api, product):
    assert_json_error(staff_api.patch(f"{PRODUCTS}COF-0001/", {"sku": "COF-9999"}, format="json"), 400, "sku")
    assert api.get(f"{PRODUCTS}COF-0001/").status_code == 200
    # Sending the same sku back is not a change.
    assert staff_api.patch(f"{PRODUCTS}COF-0001/", {"sku": "COF-0001", "stock": 7}, format="json").json()["stock"] == 7


def test_a_duplicate_sku_is_refused(staff_api, product):
    assert_json_error(staff_api.post(PRODUCTS, {**NEW_PRODUCT, "sku": "COF-0001"}, format="json"), 400, "sku")


def test_a_malformed_json_body_is_a_400(staff_api, category):
    body = assert_json_error(staff_api.post(PRODUCTS, '{"sku": "NEW-1",', content_type="application/json"), 400)
    assert "JSON" in body["detail"]


BIG = 2**31
NUL = "\x00"

# (body, the field the error must name): every one is refused with a 400, none with a 500.
BAD_PRODUCTS = [
    pytest.param({}, "sku", id="empty"),
    pytest.param({k: v for k, v in NEW_PRODUCT.items() if k != "price"}, "price", id="missing-price"),
    pytest.param({k: v for k, v in NEW_PRODUCT.items() if k != "category"}, "category", id="missing-category"),
    pytest.param({**NEW_PRODUCT, "sku": "new-1"}, "sku", id="lower-case-sku"),
    pytest.param({**NEW_PRODUCT, "sku": "X" * 33}, "sku", id="long-sku"),
    pytest.param({**NEW_PRODUCT, "sku": None}, "sku", id="null-sku"),
    pytest.param({**NEW_PRODUCT, "name": ""}, "name", id="blank-name"),
    pytest.param({**NEW_PRODUCT, "name": ["a"]}, "name", id="list-name"),
    pytest.param({**NEW_PRODUCT, "name": "x" * 201}, "name", id="long-name"),
    pytest.param({**NEW_PRODUCT, "price": "abc"}, "price", id="text-price"),
    pytest.param({**NEW_PRODUCT, "price": "-1.00"}, "price", id="negative-price"),
    pytest.param({**NEW_PRODUCT, "price": "1.005"}, "price", id="three-decimals"),
    pytest.param({**NEW_PRODUCT, "price": "NaN"}, "price", id="nan-price"),
    pytest.param({**NEW_PRODUCT, "price": "Infinity"}, "price", id="infinite-price"),
    pytest.param({**NEW_PRODUCT, "price": BIG}, "price", id="price-past-2**31"),
    pytest.param({**NEW_PRODUCT, "price": "1e400"}, "price", id="price-1e400"),
    pytest.param({**NEW_PRODUCT, "price": {"amount": 1}}, "price", id="object-price"),
    pytest.param({**NEW_PRODUCT, "stock": BIG}, "stock", id="stock-past-2**31"),
    pytest.param({**NEW_PRODUCT, "stock": 2**64}, "stock", id="stock-past-2**64"),
    pytest.param({**NEW_PRODUCT, "stock": -1}, "stock", id="negative-stock"),
    pytest.param({**NEW_PRODUCT, "stock": "lots"}, "stock", id="text-stock"),
    pytest.param({**NEW_PRODUCT, "stock": 1.5}, "stock", id="fractional-stock"),
    pytest.param({**NEW_PRODUCT, "is_active": "maybe"}, "is_active", id="text-is-active"),
    pytest.param({**NEW_PRODUCT, "category": "no-such-category"}, "category", id="unknown-category"),
    pytest.param({**NEW_PRODUCT, "category": 1}, "category", id="numeric-category"),
    pytest.param({**NEW_PRODUCT, "currency": "USD"}, "currency", id="other-currency"),
    pytest.param({**NEW_PRODUCT, "slug": "not a slug"}, "slug", id="bad-slug"),
    pytest.param({**NEW_PRODUCT, "sku": f"NEW{NUL}1"}, "sku", id="nul-in-sku"),
    pytest.param({**NEW_PRODUCT, "name": f"Moka{NUL}Pot"}, "name", id="nul-in-name"),
    pytest.param({**NEW_PRODUCT, "description": NUL}, "description", id="nul-in-description"),
    pytest.param({**NEW_PRODUCT, "category": f"coffee{NUL}"}, "category", id="nul-in-category"),
    pytest.param({**NEW_PRODUCT, "slug": f"moka{NUL}"}, "slug", id="nul-in-slug"),
    pytest.param({**NEW_PRODUCT, "currency": f"EU{NUL}"}, "currency", id="nul-in-currency"),
    pytest.param({**NEW_PRODUCT, "price": f"1{NUL}"}, "price", id="nul-in-price"),
    pytest.param([NEW_PRODUCT], "non_field_errors", id="a-list"),
    pytest.param("NEW-1", "non_field_errors", id="a-string"),
]


@pytest.mark.parametrize("body, field", BAD_PRODUCTS)
def test_bad_product_input_is_a_400_naming_the_field(staff_api, category, body, field):
    assert_json_error(staff_api.post(PRODUCTS, body, format="json"), 400, field)
    assert not Product.objects.exists()


BAD_PATCHES = [
    pytest.param({"price": "abc"}, "price", id="text-price"),
    pytest.param({"stock": BIG}, "stock", id="stock-past-2**31"),
    pytest.param({"stock": -1}, "stock", id="negative-stock"),
    pytest.param({"name": NUL}, "name", id="nul-in-name"),
    pytest.param({"category": "nope"}, "category", id="unknown-category"),
    pytest.param({"is_active": None}, "is_active", id="null-is-active"),
    pytest.param({"sku": NUL}, "sku", id="nul-in-sku"),
]


@pytest.mark.parametrize("body, field", BAD_PATCHES)
def test_bad_patches_are_a_400_naming_the_field_and_change_nothing(staff_api, api, product, body, field):
    before = api.get(f"{PRODUCTS}COF-0001/").json()

    assert_json_error(staff_api.patch(f"{PRODUCTS}COF-0001/", body, format="json"), 400, field)
    assert api.get(f"{PRODUCTS}COF-0001/").json() == before


@pytest.mark.parametrize(
    "body, field",
    [
        pytest.param({}, "slug", id="empty"),
        pytest.param({"slug": "x y", "name": "Tea"}, "slug", id="bad-slug"),
        pytest.param({"slug": "tea", "name": NUL}, "name", id="nul-in-name"),
        pytest.param({"slug": "tea", "name": "x" * 101}, "name", id="long-name"),
    ],
)
def test_bad_category_input_is_a_400_naming_the_field(staff_api, db, body, field):
    assert_json_error(staff_api.post(CATEGORIES, body, format="json"), 400, field)
    assert not Category.objects.exists()


# (query parameters, status, the field the error must name)
BAD_QUERIES = [
    pytest.param({"page_size": 101}, 400, "page_size", id="page-size-101"),
    pytest.param({"page_size": 0}, 400, "page_size", id="page-size-0"),
    pytest.param({"page_size": -1}, 400, "page_size", id="page-size-negative"),
    pytest.param({"page_size": "abc"}, 400, "page_size", id="page-size-text"),
    pytest.param({"page_size": BIG}, 400, "page_size", id="page-size-past-2**31"),
    pytest.param({"page_size": NUL}, 400, "page_size", id="page-size-nul"),
    pytest.param({"page_size": "\u00b2"}, 400, "page_size", id="page-size-superscript-two"),
    pytest.param({"page": 2}, 404, None, id="page-past-the-end"),
    pytest.param({"page": 0}, 404, None, id="page-0"),
    pytest.param({"page": "abc"}, 404, None, id="page-text"),
    pytest.param({"page": BIG}, 404, None, id="page-past-2**31"),
    pytest.param({"page": "99999999999999999999"}, 404, None, id="page-huge"),
    pytest.param({"page": NUL}, 404, None, id="page-nul"),
    pytest.param({"min_price": "abc"}, 400, "min_price", id="min-price-text"),
    pytest.param({"min_price": "-1"}, 400, "min_price", id="min-price-negative"),
    pytest.param({"max_price": "NaN"}, 400, "max_price", id="max-price-nan"),
    pytest.param({"max_price": "1e400"}, 400, "max_price", id="max-price-huge"),
    pytest.param({"max_price": str(2**70)}, 400, "max_price", id="max-price-past-2**70"),
    pytest.param({"min_price": NUL}, 400, "min_price", id="min-price-nul"),
    pytest.param({"ordering": "stock"}, 400, "ordering", id="ordering-unknown-field"),
    pytest.param({"ordering": NUL}, 400, "ordering", id="ordering-nul"),
    pytest.param({"ordering": "price,"}, 400, "ordering", id="ordering-empty-name"),
    pytest.param({"in_stock": "maybe"}, 400, "in_stock", id="in-stock-text"),
    pytest.param({"in_stock": "2"}, 400, "in_stock", id="in-stock-2"),
    pytest.param({"min_price": "1e3"}, 400, "min_price", id="min-price-exponent"),
    pytest.param({"min_price": "1.005"}, 400, "min_price", id="min-price-three-decimals"),
    pytest.param({"q": f"tea{NUL}"}, 400, "q", id="q-nul"),
    pytest.param({"category": NUL}, 400, "category", id="category-nul"),
    pytest.param({"sku": f"COF-1,{NUL}"}, 400, "sku", id="sku-nul"),
]


@pytest.mark.parametrize("params, status, field", BAD_QUERIES)
def test_bad_query_parameters_are_json_errors_naming_the_parameter(api, product, params, status, field):
    body = assert_json_error(api.get(PRODUCTS, params), status, field)
    assert body


def test_a_huge_q_is_no_match_not_an_error(api, product):
    assert skus(api.get(PRODUCTS, {"q": "x" * 5000})) == []
