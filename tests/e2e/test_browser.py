"""A shopper in a real browser (headless Chromium) through the facade: browse, filter, search, buy,
pay after a declined card, and be told about a bad card number.

It drives Debian's chromium through Debian's chromedriver, both at fixed paths: nothing downloads a
browser or a driver (Selenium Manager never runs). `make test` installs them when they are missing;
without them this test fails when CI is set and is skipped otherwise.

Each step leaves a full-page screenshot in $BROWSER_SCREENSHOTS (default: the test's tmp_path), named
<journey>-<step number>-<what>.png; a failing test adds <journey>-failure.png.
"""

import base64
import contextlib
import datetime
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.e2e

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")
MISSING_BROWSER = (
    f"The browser test needs Debian's chromium and chromium-driver, and {CHROMEDRIVER} is missing: "
    "`make test` installs them (or run 'apt-get install chromium chromium-driver')."
)
# Flags that keep a headless Chromium from reaching the network by itself (there is none here but
# the shop's) and from needing a display or a GPU.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]
WAIT_SECONDS = 15

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
NOT_A_CARD = "4242 4242 4242 4241"  # fails the Luhn check
NEXT_YEAR = str(datetime.date.today().year + 1)
SHOPPER = {
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}
# Made by the facade when the browser sends none (the contract's format for its own ids).
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
ORDER_URL = re.compile(r"/orders/(?P<number>[2-9A-HJ-NP-Z]{10})/$")


@pytest.fixture(scope="session")
def chromedriver() -> Path:
    """The driver, or a clear failure (CI) or skip (a developer's machine) when it is missing.
    Session-scoped, so that pytest asks for it before it starts the session's shop."""
    if not (CHROMEDRIVER.is_file() and os.access(CHROMEDRIVER, os.X_OK)):
        if os.environ.get("CI"):
            pytest.fail(MISSING_BROWSER, pytrace=False)
        pytest.skip(MISSING_BROWSER)
    return CHROMEDRIVER


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shopper(chromedriver, shop, screenshots, tmp_path, request) -> Iterator["Shopper"]:
    """A fresh browser (own profile, so own cookies and cart) for one journey through the facade."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    # An explicit driver path: Selenium Manager, which would download one, is never asked.
    service = Service(executable_path=str(chromedriver), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    journey = request.node.name.removeprefix("test_").split("_")[0]
    shopper = Shopper(driver, shop.url, screenshots, journey)
    failed_before = request.session.testsfailed
    try:
        yield shopper
    finally:
        try:
            # The call phase's report is counted before teardown: show the lead where it stopped.
            if request.session.testsfailed > failed_before:
                with contextlib.suppress(Exception):  # a browser that died must not hide the failure
                    shopper.screenshot("failure", numbered=False)
        finally:
            driver.quit()


class Shopper:
    """The browser, with the few things a shopper does: open a page, click, type, look."""

    def __init__(self, driver, url: str, screenshots: Path, journey: str) -> None:
        self.driver = driver
        self.url = url
        self.folder = screenshots
        self.journey = journey
        self.wait = WebDriverWait(driver, WAIT_SECONDS)
        # While one document replaces another, a script may find no page to run in: ask again.
        self.navigation = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,))
        self.shots: list[Path] = []
        self.request_ids: list[str] = []

    # Navigation -------------------------------------------------------------------------------

    def open(self, path: str = "") -> None:
        self.driver.get(self.url + path.lstrip("/"))
        self._page_loaded()

    def follow(self, element) -> None:
        """Click a link or a submit button and wait for the page it loads.

        The old page is marked with a window property, which the new document does not have.
        (Waiting for an element of the old page to go stale raced: ChromeDriver can answer
        "Node with given id does not belong to the document" while the page is being replaced.)
        """
        self.driver.execute_script("window.__leaving = true;")
        element.click()
        self.navigation.until(lambda driver: driver.execute_script("return window.__leaving === undefined;"))
        self._page_loaded()

    def _page_loaded(self) -> None:
        """Every page comes through the facade from the monolith, with a request id of its own."""
        self.wait.until(lambda driver: driver.execute_script("return document.readyState") == "complete")
        served_by = self.find("[data-testid=served-by]").text
        request_id = self.find("[data-testid=request-id]").text
        assert served_by == "monolith", f"{self.driver.current_url} says it was served by {served_by!r}"
        assert REQUEST_ID.match(request_id), f"{self.driver.current_url} shows request id {request_id!r}"
        assert request_id not in self.request_ids, f"{self.driver.current_url} repeats request id {request_id}"
        self.request_ids.append(request_id)

    # Looking and typing -----------------------------------------------------------------------

    def find(self, css: str, within=None):
        return (within or self.driver).find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str, within=None) -> list:
        return (within or self.driver).find_elements(By.CSS_SELECTOR, css)

    def link(self, text: str, within=None):
        return (within or self.driver).find_element(By.LINK_TEXT, text)

    def button(self, text: str, within=None):
        buttons = [
            b for b in (within or self.driver).find_elements(By.TAG_NAME, "button") if b.text.strip().startswith(text)
        ]
        assert buttons, f"no button {text!r} on {self.driver.current_url}"
        return buttons[0]

    def fill_in(self, field_id: str, value: str, within=None) -> None:
        field = self.find(f"#{field_id}", within)
        field.clear()
        field.send_keys(value)

    def text(self, css: str) -> str:
        return self.find(css).text.strip()

    @property
    def path(self) -> str:
        return "/" + self.driver.current_url.removeprefix(self.url)

    def cart_count(self) -> int:
        return int(self.text("[data-testid=cart-count]"))

    def messages(self) -> list[str]:
        return [message.text for message in self.find_all(".messages .message")]

    def screenshot(self, what: str, numbered: bool = True) -> Path:
        """The whole page, not just the window (Chrome's DevTools protocol can; WebDriver cannot)."""
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )
        name = f"{self.journey}-{len(self.shots) + 1:02d}-{what}.png" if numbered else f"{self.journey}-{what}.png"
        path = self.folder / name
        path.write_bytes(base64.b64decode(shot["data"]))
        self.shots.append(path)
        return path

    # What a shopper does more than once -------------------------------------------------------

    def open_a_product_in_stock(self, at_least: int) -> "Product":
        """From the product list on screen, open the first product with enough in stock."""
        for card in self.find_all(".grid .card"):
            stock = re.fullmatch(r"(\d+) in stock", self.find(".stock", card).text.strip())
            if stock and int(stock[1]) >= at_least:
                self.follow(self.find("a", card))
                break
        else:
            pytest.fail(f"no product with {at_least} in stock on {self.driver.current_url}")
        return self.product_on_screen()

    def product_on_screen(self) -> "Product":
        product = Product(
            sku=self.text(".product p.muted").removeprefix("SKU "),
            name=self.text(".product h1"),
            price=price_of(self.text(".product .price")),
            stock=stock_of(self.text(".product .stock")),
        )
        assert self.path == f"/products/{product.sku}/"
        assert self.driver.title.startswith(product.name)
        return product

    def add_to_cart(self, quantity: int) -> None:
        form = self.find("form.add-to-cart")
        self.fill_in("id_quantity", str(quantity), form)
        self.follow(self.button("Add to cart", form))
        assert self.path == "/cart/"

    def fill_checkout(self, card: str) -> None:
        for field, value in SHOPPER.items():
            self.fill_in(f"id_{field}", value)
        self.fill_card(card)

    def fill_card(self, card: str, within=None) -> None:
        self.fill_in("id_card_number", card, within)
        self.fill_in("id_exp_month", "12", within)
        self.fill_in("id_exp_year", NEXT_YEAR, within)
        self.fill_in("id_cvc", "123", within)

    def order_number(self) -> str:
        match = ORDER_URL.fullmatch(self.path)
        assert match, f"not an order's page: {self.path}"
        assert self.text("main h1") == f"Order {match['number']}"
        return match["number"]

    def order_status(self) -> str:
        return self.text("[data-testid=order-status]")

    def payments(self) -> list[str]:
        return [payment.text for payment in self.find_all("[data-testid=payments] li")]


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal
    stock: int


def price_of(text: str) -> Decimal:
    """'12.50 EUR' -> Decimal('12.50')"""
    match = re.fullmatch(r"(\d+\.\d{2}) [A-Z]{3}", text.strip())
    assert match, f"not a price: {text!r}"
    return Decimal(match[1])


def stock_of(text: str) -> int:
    text = text.strip()
    if text == "Out of stock":
        return 0
    match = re.fullmatch(r"(\d+) in stock", text)
    assert match, f"not a stock level: {text!r}"
    return int(match[1])


def test_purchase_a_shopper_finds_a_product_buys_it_and_pays(shopper):
    # (a) The home page lists products, and the footer says who served it, with the request id
    # (the browser checks that footer on every page it loads).
    shopper.open("/")
    cards = shopper.find_all(".grid .card")
    assert cards, "the home page shows no products"
    assert all(shopper.find("h3", card).text for card in cards)
    assert "Served by monolith" in shopper.text(".site-footer")
    assert shopper.cart_count() == 0
    shopper.screenshot("home")

    # (b) A category from the sidebar shows that category's products only...
    shopper.follow(shopper.link("Coffee", shopper.find(".sidebar")))
    assert shopper.path == "/products/?category=coffee"
    assert shopper.text("main h1") == "Coffee"
    assert shopper.text(".sidebar a.active") == "Coffee"
    coffee = shopper.find_all(".grid .card")
    assert coffee
    assert all("/products/COF-" in shopper.find("a", card).get_attribute("href") for card in coffee)
    shopper.screenshot("category")

    # ...and searching for a word from a product's name finds that category's products with that word.
    wanted = next(
        (shopper.find("h3", card).text for card in coffee if stock_of(shopper.find(".stock", card).text) >= 3), None
    )
    assert wanted, "no coffee with 3 in stock"
    word = wanted.split()[-1]
    search = shopper.find("form.search")
    shopper.find("input[name=q]", search).send_keys(word)
    shopper.follow(shopper.button("Search", search))
    assert shopper.text("main h1") == f"Results for “{word}” in Coffee"
    assert shopper.find("form.search input[name=q]").get_attribute("value") == word
    found = shopper.find_all(".grid .card")
    names = [shopper.find("h3", card).text for card in found]
    assert wanted in names
    assert all("/products/COF-" in shopper.find("a", card).get_attribute("href") for card in found)
    assert all(word.lower() in name.lower() for name in names), names
    assert shopper.text("main section p.muted") == f"{len(names)} product{'s' if len(names) != 1 else ''}"
    shopper.screenshot("search")

    # (c) The product's page; 2 of it go into the cart.
    product = shopper.open_a_product_in_stock(at_least=3)
    assert word.lower() in product.name.lower()
    shopper.screenshot("product")
    shopper.add_to_cart(2)
    assert f"Added 2 × {product.name} to your cart." in shopper.messages()
    assert shopper.cart_count() == 2
    row = shopper.find("table.cart tbody tr")
    assert product.name in row.text
    assert price_of(shopper.find("td.num", row).text) == 2 * product.price
    assert price_of(shopper.text("table.cart tfoot th.num")) == 2 * product.price
    shopper.screenshot("cart")

    # (d) 3 instead of 2, then checkout with a good card.
    form = shopper.find("form.qty")
    quantity = shopper.find("input[name=quantity]", form)
    quantity.clear()
    quantity.send_keys("3")
    shopper.follow(shopper.button("Update", form))
    assert "Cart updated." in shopper.messages()
    assert shopper.cart_count() == 3
    assert price_of(shopper.text("table.cart tfoot th.num")) == 3 * product.price
    shopper.screenshot("cart-updated")

    shopper.follow(shopper.link("Checkout"))
    assert shopper.path == "/checkout/"
    assert price_of(shopper.text(".summary .total strong")) == 3 * product.price
    shopper.fill_checkout(GOOD_CARD)
    shopper.screenshot("checkout")
    shopper.follow(shopper.button("Place order and pay"))

    number = shopper.order_number()
    assert shopper.order_status() == "Paid"
    assert f"Thank you! Order {number} is paid." in shopper.messages()
    assert price_of(shopper.text("table.cart tfoot th.num")) == 3 * product.price
    [payment] = shopper.payments()
    assert payment.startswith("Succeeded card ending 4242"), payment
    assert not shopper.find_all("form.pay-form")
    assert shopper.cart_count() == 0
    shopper.screenshot("order-paid")

    # The order is in the shopper's list, and the stock went down by what was bought.
    shopper.follow(shopper.link("Orders", shopper.find(".site-header")))
    assert number in shopper.text("table.cart")
    shopper.open(f"/products/{product.sku}/")
    assert shopper.product_on_screen().stock == product.stock - 3


def test_declined_a_declined_card_then_a_good_one(shopper):
    shopper.open("/products/?category=tea")
    product = shopper.open_a_product_in_stock(at_least=1)
    shopper.add_to_cart(1)
    shopper.follow(shopper.link("Checkout"))
    shopper.fill_checkout(DECLINED_CARD)
    shopper.screenshot("checkout")
    shopper.follow(shopper.button("Place order and pay"))

    # (e) The order is placed, its payment failed, and the page offers another try.
    number = shopper.order_number()
    assert shopper.order_status() == "Payment failed"
    assert "Your card was declined (card declined). Try another card below." in shopper.messages()
    [payment] = shopper.payments()
    assert payment.startswith("Failed card ending 0002: card_declined"), payment
    assert shopper.text("form.pay-form h3") == "Try another card"
    shopper.screenshot("order-declined")

    # A declined order holds no stock; paying it with another card takes it again.
    shopper.open(f"/products/{product.sku}/")
    assert shopper.product_on_screen().stock == product.stock
    shopper.open(f"/orders/{number}/")
    pay_form = shopper.find("form.pay-form")

    shopper.fill_card(GOOD_CARD, pay_form)
    shopper.follow(shopper.button("Pay", pay_form))
    assert shopper.order_number() == number
    assert shopper.order_status() == "Paid"
    assert f"Thank you! Order {number} is paid." in shopper.messages()
    succeeded, failed = shopper.payments()  # newest first
    assert succeeded.startswith("Succeeded card ending 4242"), succeeded
    assert failed.startswith("Failed card ending 0002: card_declined"), failed
    assert not shopper.find_all("form.pay-form")
    assert price_of(shopper.text("table.cart tfoot th.num")) == product.price
    shopper.screenshot("order-paid")
    shopper.open(f"/products/{product.sku}/")
    assert shopper.product_on_screen().stock == product.stock - 1


def test_badcard_a_bad_card_number_is_shown_next_to_the_field_and_places_no_order(shopper):
    shopper.open("/products/?category=mugs")
    product = shopper.open_a_product_in_stock(at_least=1)
    shopper.add_to_cart(1)
    shopper.follow(shopper.link("Checkout"))
    shopper.fill_checkout(NOT_A_CARD)
    shopper.follow(shopper.button("Place order and pay"))

    # (f) Back on the checkout form, the error next to the card number, what was typed kept.
    assert shopper.path == "/checkout/"
    card_field = shopper.find("#id_card_number").find_element(By.XPATH, "..")
    assert "has-error" in card_field.get_attribute("class").split()
    assert shopper.find("p.field-error", card_field).text == "This card number is not valid (it fails the Luhn check)."
    assert len(shopper.find_all(".field.has-error")) == 1
    assert shopper.find("#id_card_number").get_attribute("value") == NOT_A_CARD
    for field, value in SHOPPER.items():
        assert shopper.find(f"#id_{field}").get_attribute("value") == value, field
    shopper.screenshot("checkout-error")

    # No order: none in the shopper's list, the cart still full, the stock untouched.
    assert shopper.cart_count() == 1
    shopper.follow(shopper.link("Orders", shopper.find(".site-header")))
    assert shopper.text("main p").startswith("No orders yet")
    shopper.screenshot("no-orders")
    shopper.open(f"/products/{product.sku}/")
    assert shopper.product_on_screen().stock == product.stock
