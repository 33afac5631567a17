"""The cart pages: add, update, remove and show, with stock checks, bad input and CSRF."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from monolith.catalog.models import Product


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def beans(make_product):
    """Two products: plenty of one, little of the other."""
    return (
        make_product("COF-1", price="12.50", stock=5, name="Harbour Espresso"),
        make_product("TEA-1", price="4.20", stock=2, name="Meadow Sencha"),
    )


def add(client, sku, quantity, **kwargs):
    return client.post("/cart/add/", {"sku": sku, "quantity": quantity}, **kwargs)


def badge(response):
    """The cart count in the page header."""
    return int(re.search(r'data-testid="cart-count">(\d+)<', response.content.decode()).group(1))


def cart_lines(client):
    """What the cart page shows: {sku: quantity}."""
    response = client.get("/cart/")
    assert response.status_code == 200
    return {line.product.sku: line.quantity for line in response.context["cart"].lines}


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_an_empty_cart_says_so(client, db):
    response = client.get("/cart/")

    assert response.status_code == 200
    assert "Your cart is empty" in response.content.decode()
    assert badge(response) == 0


def test_adding_a_product_shows_it_in_the_cart(client, beans):
    response = add(client, "COF-1", 2)

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    page = client.get("/cart/")
    html = page.content.decode()
    assert "Added 2 × Harbour Espresso to your cart." in messages_of(page)
    assert "Harbour Espresso" in html and "COF-1" in html
    assert 'name="quantity" value="2"' in html
    assert "25.00 EUR" in html  # the line total and the cart total
    assert badge(page) == 2


def test_adding_again_adds_up(client, beans):
    add(client, "COF-1", 2)
    add(client, "COF-1", 1)
    add(client, "TEA-1", 1)

    assert cart_lines(client) == {"COF-1": 3, "TEA-1": 1}


def test_the_cart_shows_each_line_and_the_total(client, beans):
    add(client, "COF-1", 3)
    add(client, "TEA-1", 2)

    response = client.get("/cart/")
    html = response.content.decode()

    assert response.context["cart"].total == Decimal("45.90")
    assert "37.50 EUR" in html  # 3 × 12.50
    assert "8.40 EUR" in html  # 2 × 4.20
    assert "45.90 EUR" in html  # the total
    assert badge(response) == 5
    assert 'href="/checkout/"' in html


def test_adding_more_than_the_stock_shows_the_error_on_the_product_page(client, beans):
    response = add(client, "TEA-1", 3)

    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>Meadow Sencha</h1>" in html  # the product page, re-rendered
    assert 'class="field-error"' in html and "Only 2 of Meadow Sencha in stock." in html
    assert 'action="/cart/add/"' in html and 'name="quantity" value="3"' in html  # the form keeps what was typed
    assert cart_lines(client) == {}


def test_the_stock_check_counts_what_is_already_in_the_cart(client, beans):
    add(client, "TEA-1", 1)

    response = add(client, "TEA-1", 2)

    assert response.status_code == 400
    assert "Only 2 of Meadow Sencha in stock and 1 already in your cart." in response.content.decode()
    assert cart_lines(client) == {"TEA-1": 1}


def test_adding_past_1000_of_one_product_in_all_is_refused_on_the_product_page(client, make_product):
    make_product("BULK-1", stock=5000, name="Bulk Beans")
    add(client, "BULK-1", 600)

    response = add(client, "BULK-1", 600)

    assert response.status_code == 400
    assert "A cart holds at most 1000 of one product, and 600 are in yours." in response.content.decode()
    assert cart_lines(client) == {"BULK-1": 600}


@pytest.mark.parametrize(
    "quantity, message",
    [
        ("0", "greater than or equal to 1"),
        ("-1", "greater than or equal to 1"),
        ("abc", "Enter a whole number."),
        ("1.5", "Enter a whole number."),
        ("", "This field is required."),
        (str(2**40), "less than or equal to 1000"),
        ("1\x00", "Enter a whole number."),
        ("\u00b2", "Enter a whole number."),
    ],
)
def test_a_bad_quantity_is_a_form_error_on_the_product_page(client, beans, quantity, message):
    response = add(client, "COF-1", quantity)

    assert response.status_code == 400
    html = response.content.decode()
    assert "<h1>Harbour Espresso</h1>" in html
    assert 'class="field-error"' in html and message in html
    assert cart_lines(client) == {}


@pytest.mark.parametrize("sku", ["NOPE-1", "cof-1", "X" * 40, "COF\x001", "", "<script>"])
def test_an_unknown_sku_is_a_message_not_a_500(client, beans, sku):
    response = add(client, sku, 1, follow=True)

    assert response.status_code in (200, 400, 404)
    html = response.content.decode()
    assert "<script>" not in html
    assert messages_of(response) or "We have no product" in html
    assert cart_lines(client) == {}


def test_adding_a_product_that_sold_out_meanwhile_says_it_is_out_of_stock(client, beans):
    Product.objects.filter(sku="TEA-1").update(stock=0)  # sold while the shopper looked at the page

    response = add(client, "TEA-1", 1)

    assert response.status_code == 400
    assert "Out of stock" in response.content.decode()
    assert cart_lines(client) == {}


def test_a_cart_holds_at_most_fifty_different_products(client, category):
    Product.objects.bulk_create(
        Product(
            sku=f"MANY-{n:02}",
            name=f"Many {n:02}",
            slug=f"many-{n:02}",
            category=category,
            price=Decimal("1.00"),
            stock=5,
        )
        for n in range(51)
    )
    for n in range(50):
        add(client, f"MANY-{n:02}", 1)

    response = add(client, "MANY-50", 1, follow=True)

    assert any("at most 50 different products" in message for message in messages_of(response))
    assert len(cart_lines(client)) == 50
    assert add(client, "MANY-00", 1).status_code == 302  # more of a product already in it is fine


def test_an_inactive_product_cannot_be_added(client, beans, make_product):
    make_product("OLD-1", is_active=False)

    response = add(client, "OLD-1", 1)

    assert response.status_code == 404
    assert "We have no product OLD-1." in response.content.decode()
    assert cart_lines(client) == {}


def test_adding_is_only_a_post(client, beans):
    assert client.get("/cart/add/", {"sku": "COF-1", "quantity": 1}).status_code == 405
    assert cart_lines(client) == {}


def test_update_changes_the_quantity(client, beans):
    add(client, "COF-1", 1)

    response = client.post("/cart/update/", {"sku": "COF-1", "quantity": 4}, follow=True)

    assert "Cart updated." in messages_of(response)
    assert cart_lines(client) == {"COF-1": 4}


def test_update_to_zero_removes_the_line(client, beans):
    add(client, "COF-1", 1)
    add(client, "TEA-1", 1)

    client.post("/cart/update/", {"sku": "COF-1", "quantity": 0})

    assert cart_lines(client) == {"TEA-1": 1}


def test_update_past_the_stock_is_refused_with_a_message(client, beans):
    add(client, "TEA-1", 1)

    response = client.post("/cart/update/", {"sku": "TEA-1", "quantity": 3}, follow=True)

    assert "Only 2 of Meadow Sencha in stock." in messages_of(response)
    assert cart_lines(client) == {"TEA-1": 1}


@pytest.mark.parametrize(
    "data",
    [
        {"sku": "COF-1", "quantity": "-1"},
        {"sku": "COF-1", "quantity": "abc"},
        {"sku": "COF-1", "quantity": str(2**40)},
        {"sku": "COF-1", "quantity": "2\x00"},
        {"sku": "COF-1"},
        {"sku": "COF\x001", "quantity": "1"},
        {"sku": "TEA-1", "quantity": "1"},  # not in the cart
        {"sku": "NOPE-1", "quantity": "1"},
    ],
)
def test_a_bad_update_is_a_message_and_changes_nothing(client, beans, data):
    add(client, "COF-1", 2)

    response = client.post("/cart/update/", data, follow=True)

    assert response.status_code == 200
    assert any(message for message in messages_of(response)), "the shopper is told what went wrong"
    assert cart_lines(client) == {"COF-1": 2}


def test_remove_takes_the_line_out(client, beans):
    add(client, "COF-1", 1)
    add(client, "TEA-1", 1)

    response = client.post("/cart/remove/", {"sku": "TEA-1"}, follow=True)

    assert "Removed from your cart." in messages_of(response)
    assert cart_lines(client) == {"COF-1": 1}
    assert badge(response) == 1


@pytest.mark.parametrize("data", [{"sku": "NOPE-1"}, {"sku": "\x00"}, {}])
def test_removing_what_is_not_there_is_harmless(client, beans, data):
    add(client, "COF-1", 1)

    response = client.post("/cart/remove/", data, follow=True)

    assert response.status_code == 200
    assert cart_lines(client) == {"COF-1": 1}


def test_a_product_that_stops_being_sold_leaves_the_cart_with_a_note(client, beans):
    add(client, "COF-1", 2)
    add(client, "TEA-1", 1)
    Product.objects.filter(sku="COF-1").update(is_active=False)

    response = client.get("/cart/")

    html = response.content.decode()
    assert "No longer sold and taken out of your cart: COF-1." in html
    assert [line.product.sku for line in response.context["cart"].lines] == ["TEA-1"]
    assert "4.20 EUR" in html and "25.00" not in html
    assert badge(response) == 1  # the header agrees with the cart
    # It was taken out, as the note says: it does not come back, nor the note with it.
    Product.objects.filter(sku="COF-1").update(is_active=True)
    again = client.get("/cart/")
    assert "No longer sold" not in again.content.decode()
    assert cart_lines(client) == {"TEA-1": 1}


def test_a_line_with_more_than_the_stock_left_is_flagged(client, beans):
    add(client, "COF-1", 4)
    Product.objects.filter(sku="COF-1").update(stock=3)

    html = client.get("/cart/").content.decode()

    assert "Only 3 left in stock." in html


def test_a_post_without_a_csrf_token_is_refused(beans):
    browser = Client(enforce_csrf_checks=True)

    posts = [
        ("/cart/add/", {"sku": "COF-1", "quantity": 1}),
        ("/cart/update/", {"sku": "COF-1", "quantity": 1}),
        ("/cart/remove/", {"sku": "COF-1"}),
    ]
    for url, data in posts:
        response = browser.post(url, data)
        assert response.status_code == 403
        assert "This form has expired" in response.content.decode()
    assert cart_lines(browser) == {}


def test_the_product_pages_form_carries_a_working_csrf_token(beans):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/products/COF-1/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    response = browser.post("/cart/add/", {"sku": "COF-1", "quantity": 1, "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert cart_lines(browser) == {"COF-1": 1}
