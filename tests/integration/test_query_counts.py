"""The list pages and the cart run a constant number of queries, whatever the page or cart size.

Each test measures the same request at a small and a large size and compares the
two counts, so a query per row (an N+1) fails it whatever the baseline is.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from monolith.catalog.models import Category, Product


@pytest.fixture
def stock_products(category):
    """stock_products(n): n more active products, each in its own category (a per-row category lookup would show)."""
    made = []

    def make(count):
        start = len(made)
        for n in range(start, start + count):
            cat = Category.objects.create(slug=f"cat-{n}", name=f"Category {n}")
            made.append(
                Product.objects.create(
                    sku=f"QC-{n:03}",
                    name=f"Product {n:03}",
                    slug=f"qc-{n:03}",
                    category=cat,
                    price=Decimal("3.00"),
                    stock=50,
                )
            )
        return made

    return make


def count_queries(client, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {})
    assert response.status_code == 200, response.content[:500]
    return len(queries), response


def test_the_html_product_list_runs_the_same_queries_for_3_or_60_products(stock_products):
    client = Client()
    stock_products(3)
    few, response = count_queries(client, "/products/")
    assert len(response.context["page"].products) == 3

    stock_products(57)
    full, response = count_queries(client, "/products/")
    assert len(response.context["page"].products) == settings.PRODUCTS_PER_PAGE
    last, response = count_queries(client, "/products/", {"page": 3})
    assert len(response.context["page"].products) == 60 - 2 * settings.PRODUCTS_PER_PAGE

    assert few == full == last


def test_the_html_product_page_runs_the_same_queries_whatever_the_catalog_size(stock_products):
    client = Client()
    stock_products(1)
    small, _ = count_queries(client, "/products/QC-000/")

    stock_products(40)
    large, _ = count_queries(client, "/products/QC-000/")

    assert small == large


def test_the_api_product_list_runs_the_same_queries_at_page_size_5_or_100(stock_products, api):
    stock_products(120)

    small, response = count_queries(api, "/api/catalog/products/", {"page_size": 5})
    assert len(response.json()["results"]) == 5
    large, response = count_queries(api, "/api/catalog/products/", {"page_size": 100})
    assert len(response.json()["results"]) == 100

    assert small == large


def test_the_api_batch_read_runs_the_same_queries_for_1_or_100_skus(stock_products, api):
    products = stock_products(100)

    one, _ = count_queries(api, "/api/catalog/products/", {"sku": products[0].sku})
    hundred, response = count_queries(
        api, "/api/catalog/products/", {"sku": ",".join(p.sku for p in products), "page_size": 100}
    )
    assert response.json()["count"] == 100

    assert one == hundred


def test_the_category_list_runs_the_same_queries_for_2_or_40_categories(stock_products, api):
    stock_products(1)
    few, _ = count_queries(api, "/api/catalog/categories/")

    stock_products(39)
    many, _ = count_queries(api, "/api/catalog/categories/")

    assert few == many


def test_the_cart_runs_the_same_queries_with_1_or_20_lines(stock_products):
    products = stock_products(20)
    small_cart, large_cart = Client(), Client()
    small_cart.post("/cart/add/", {"sku": products[0].sku, "quantity": 2})
    for product in products:
        large_cart.post("/cart/add/", {"sku": product.sku, "quantity": 2})

    small, response = count_queries(small_cart, "/cart/")
    assert len(response.context["cart"].lines) == 1
    large, response = count_queries(large_cart, "/cart/")
    assert len(response.context["cart"].lines) == 20

    assert small == large
