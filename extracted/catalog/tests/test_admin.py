"""Staff manage categories, products and reservations in the service's own admin."""

import pytest
from django.test import Client

from catalog_service.catalog import services


@pytest.fixture
def staff_browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/catalog/product/",
        "/admin/catalog/category/",
        "/admin/catalog/stockreservation/",
        "/admin/auth/user/",
    ],
)
def test_staff_see_the_admin_pages(staff_browser, product, url):
    assert staff_browser.get(url).status_code == 200


def test_staff_open_a_product_and_a_reservation(staff_browser, product):
    reservation, _ = services.stock_reserve(reservation_id="order-1-1", lines=[{"sku": product.sku, "quantity": 1}])

    assert staff_browser.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    assert staff_browser.get(f"/admin/catalog/stockreservation/{reservation.pk}/change/").status_code == 200


def test_a_customer_cannot_open_the_admin(customer):
    client = Client()
    client.force_login(customer)
    assert client.get("/admin/catalog/product/").status_code == 302  # to the admin's login


def test_staff_change_a_price_in_the_admin(staff_browser, product):
    response = staff_browser.post(
        f"/admin/catalog/product/{product.pk}/change/",
        {
            "sku": product.sku,
            "name": product.name,
            "slug": product.slug,
            "description": "",
            "category": product.category_id,
            "price": "15.00",
            "currency": "EUR",
            "stock": "5",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert str(product.price) == "15.00"
