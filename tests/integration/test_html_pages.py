"""The shop's HTML pages: product list and page, the footer and headers every page carries, login and health."""

import re

import pytest
from django.conf import settings
from django.test import Client

from monolith.catalog.models import Category


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def shop(make_product):
    tea = Category.objects.create(slug="tea", name="Tea")
    make_product("COF-1", price="12.50", stock=5, name="Harbour Espresso")
    make_product("COF-2", price="8.00", stock=0, name="Alpine Filter Roast")
    make_product("COF-3", price="9.00", stock=3, name="Hidden Roast", is_active=False)
    make_product("TEA-1", price="4.20", stock=9, name="Meadow Sencha", cat=tea)


@pytest.fixture
def many(make_product):
    """More products than fit on one page."""
    count = settings.PRODUCTS_PER_PAGE + 6
    for n in range(count):
        make_product(f"BULK-{n:03}", name=f"Bulk {n:03}")
    return count


def html(response):
    return response.content.decode()


def product_names(response):
    return [product.name for product in response.context["page"].products]


@pytest.mark.parametrize("url", ["/", "/products/"])
def test_the_product_list_shows_the_active_products(client, shop, url):
    response = client.get(url)

    assert response.status_code == 200
    page = html(response)
    assert product_names(response) == ["Alpine Filter Roast", "Harbour Espresso", "Meadow Sencha"]
    assert "Hidden Roast" not in page
    assert "12.50 EUR" in page and "Out of stock" in page and "5 in stock" in page
    assert 'href="/products/COF-1/"' in page
    assert "3 products" in page
    assert 'href="/products/?category=tea"' in page  # the category menu


def test_the_category_filter(client, shop):
    response = client.get("/products/", {"category": "tea"})

    assert response.status_code == 200
    assert product_names(response) == ["Meadow Sencha"]
    assert "<h1>Tea</h1>" in html(response)


def test_an_unknown_category_is_a_404_naming_it(client, shop):
    response = client.get("/products/", {"category": "nothing-here"})

    assert response.status_code == 404
    assert "We have no category nothing-here." in html(response)


def test_searching_within_a_category_keeps_the_category(client, shop):
    page = html(client.get("/products/", {"category": "tea"}))
    assert '<input type="hidden" name="category" value="tea">' in page  # the search form sends it along

    response = client.get("/products/", {"category": "tea", "q": "roast"})

    assert product_names(response) == []  # the roasts are coffee
    assert product_names(client.get("/products/", {"category": "tea", "q": "sencha"})) == ["Meadow Sencha"]


def test_the_search(client, shop):
    response = client.get("/products/", {"q": "sencha"})

    assert response.status_code == 200
    assert product_names(response) == ["Meadow Sencha"]
    assert "Results for “sencha”" in html(response)
    assert 'name="q" value="sencha"' in html(response)  # the search box keeps the query


def test_a_search_is_shown_escaped(client, shop):
    page = html(client.get("/products/", {"q": "<script>alert(1)</script>"}))

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_pages_of_products(client, many):
    first = client.get("/products/")
    second = client.get("/products/", {"page": 2})

    assert len(first.context["page"].products) == settings.PRODUCTS_PER_PAGE
    assert "Page 1 of 2" in html(first) and 'href="?page=2"' in html(first)
    assert product_names(second) == [f"Bulk {n:03}" for n in range(settings.PRODUCTS_PER_PAGE, many)]
    assert "Page 2 of 2" in html(second) and 'href="?page=1"' in html(second)


def test_page_links_keep_the_filters(client, many):
    page = html(client.get("/products/", {"category": "coffee", "page": 1}))

    assert 'href="?category=coffee&amp;page=2"' in page


@pytest.mark.parametrize(
    "page, shown",
    [
        ("abc", 1),
        ("0", 2),
        ("-1", 2),
        ("99999", 2),
        ("99999999999999999999", 2),
        (str(2**64), 2),
        ("\x00", 1),
        ("\u00b2", 1),
        ("", 1),
    ],
)
def test_a_bad_page_number_shows_a_page_not_an_error(client, many, page, shown):
    response = client.get("/products/", {"page": page})

    assert response.status_code == 200
    assert f"Page {shown} of 2" in html(response)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "-5"}, "max_price"),
        ({"max_price": "1e400"}, "max_price"),
        ({"ordering": "stock"}, "ordering"),
        ({"q": "tea\x00"}, "q"),
        ({"category": "\x00"}, "category"),
    ],
)
def test_a_bad_filter_is_a_clear_message_not_a_500(client, shop, params, field):
    response = client.get("/products/", params)

    assert response.status_code == 400
    page = html(response)
    assert "Those filters do not work:" in page and f"{field}:" in page
    assert product_names(response)  # the shopper still sees products to browse


def test_a_products_page_shows_its_name_price_and_add_to_cart_form(client, shop):
    response = client.get("/products/COF-1/")

    assert response.status_code == 200
    page = html(response)
    assert "<h1>Harbour Espresso</h1>" in page
    assert "12.50 EUR" in page and "5 in stock" in page
    form = re.search(r'<form class="add-to-cart" action="/cart/add/" method="post".*?</form>', page, re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'type="hidden" name="sku" value="COF-1"' in form
    assert 'name="quantity" value="1"' in form
    assert "Add to cart" in form
    assert 'href="/products/?category=coffee"' in page  # the way back to its category


def test_an_out_of_stock_product_has_no_add_to_cart_form(client, shop):
    page = html(client.get("/products/COF-2/"))

    assert "Out of stock" in page
    assert "Add to cart" not in page


@pytest.mark.parametrize(
    "url",
    [
        "/products/NOPE-1/",
        "/products/COF-3/",
        "/products/cof-1/",
        "/products/COF%001/",
        f"/products/{'A' * 40}/",
        "/no-such-page/",
    ],
)
def test_unknown_pages_are_the_404_page(client, shop, url):
    response = client.get(url)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = html(response)
    assert "<h1>Not found</h1>" in page
    assert 'data-testid="served-by">monolith<' in page


def test_the_404_page_names_the_missing_product(client, shop):
    assert "We have no product NOPE-1." in html(client.get("/products/NOPE-1/"))


@pytest.mark.parametrize("url", ["/", "/products/COF-1/", "/cart/", "/accounts/login/", "/products/NOPE-1/"])
def test_every_page_names_the_serving_process_and_the_request(client, shop, url):
    response = client.get(url)

    assert response["X-Served-By"] == "monolith"
    request_id = response["X-Request-ID"]
    assert request_id
    page = html(response)
    assert 'data-testid="served-by">monolith<' in page
    assert f'data-testid="request-id">{request_id}<' in page


def test_each_request_gets_its_own_request_id(client, shop):
    assert client.get("/")["X-Request-ID"] != client.get("/")["X-Request-ID"]


def test_an_incoming_request_id_is_echoed_back(client, shop):
    response = client.get("/products/", headers={"X-Request-ID": "facade-4f2c9a"})

    assert response["X-Request-ID"] == "facade-4f2c9a"
    assert 'data-testid="request-id">facade-4f2c9a<' in html(response)


def test_an_incoming_request_id_is_escaped_in_the_page(client, shop):
    response = client.get("/", headers={"X-Request-ID": "<b>x</b>"})

    assert "<b>x</b>" not in html(response)


def test_api_responses_carry_the_headers_too(client, shop):
    response = client.get("/api/catalog/products/", headers={"X-Request-ID": "api-call-1"})

    assert response["X-Served-By"] == "monolith"
    assert response["X-Request-ID"] == "api-call-1"


def test_login_with_the_demo_account(client, customer):
    response = client.post("/accounts/login/", {"username": "demo", "password": "demo"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Log out demo" in html(client.get("/"))


def test_login_goes_back_to_the_page_it_came_from(client, customer):
    response = client.post("/accounts/login/?next=/cart/", {"username": "demo", "password": "demo", "next": "/cart/"})

    assert response["Location"] == "/cart/"


def test_a_wrong_password_is_an_inline_error(client, customer):
    response = client.post("/accounts/login/", {"username": "demo", "password": "wrong"})

    assert response.status_code == 200
    page = html(response)
    assert 'class="form-errors"' in page and "Please enter a correct username and password." in page
    assert "Log out" not in page


def test_the_login_page_has_a_form(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert 'name="username"' in html(response) and 'name="password"' in html(response)


def test_health_endpoints(client, db):
    alive = client.get("/healthz")
    ready = client.get("/readyz")

    assert alive.status_code == 200 and alive.json()["status"] == "ok"
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "service": "monolith", "stage": 0}
