"""The shoppers `shop load` sends through the facade: Locust user classes, their page types and mix.

Used as a library (shopctl/load.py runs them; the comparison kit will run the same ones), so the
mix is data here rather than options there. Two kinds of user:

- Shopper: what a person does in a browser, through the HTML pages and their forms (with CSRF):
  the home page, a category, a search, a product page, add to cart, the cart, and checkout with
  a good card or, one time in DECLINED_SHARE, a declined one. Which page comes next is drawn
  with WEIGHTS; a shopper with nothing in the cart who draws checkout adds something first.
- ApiReader: a script reading the catalog API (list with filters, one product, the categories),
  so that the catalog service shows up in the X-Served-By column from stage 1 on.

Each request is named by its page type (PAGE_TYPES), which is what the table groups by. Between
two pages a user thinks for THINK_TIME seconds (drawn uniformly), unless `shop load --rate` sets
a total rate instead (Locust's constant_throughput per user).

Importing this module imports Locust, which patches the standard library for gevent: never
import it into a process that has imported ssl already (a test run, `shop` itself).

Which answers count as failures: anything but a 2xx or a redirect, except the two form posts
(add to cart, checkout), where the shop may rightly answer 400 with a form error (the product
sold out meanwhile: many shoppers buy the same stock). A 429, a 5xx, a CSRF 403 or a lost
connection is a failure everywhere.
"""

import contextlib
import random
import re
import uuid

from locust import HttpUser, between, task

# Seconds a user waits between two pages (uniform). Real shoppers read; 1-3 s keeps the facade's
# per-client limits in reach of a few dozen users sharing 127.0.0.1.
THINK_TIME = (1.0, 3.0)
# One shopper in five pays with a declined card (4000 0000 0000 0002).
DECLINED_SHARE = 0.2
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
# Sent on every request, so that the facade's access log tells the load's requests apart.
USER_AGENT = "shop-load/1 (strangler-shop; shopctl/workload.py)"

# The page types, in the order the table lists them.
PAGE_TYPES = [
    "home",
    "category",
    "search",
    "product",
    "cart-add",
    "cart",
    "checkout-form",
    "checkout",
    "order",
    "api-products",
    "api-product",
    "api-categories",
]
# How often a shopper's next page is of each kind (relative weights). Checkout-form, checkout and
# order are one step: the form, its post, the order page it redirects to.
WEIGHTS = {"home": 2, "category": 4, "search": 3, "product": 5, "cart-add": 3, "cart": 1, "checkout": 2}
API_WEIGHTS = {"api-products": 3, "api-product": 3, "api-categories": 1}
# How many users of each kind Locust starts: one API reader to every four shoppers.
USER_WEIGHTS = {"Shopper": 4, "ApiReader": 1}

CATEGORIES = ["coffee", "tea", "brewing", "mugs", "kitchen", "books", "stationery", "home", "outdoor", "gifts"]
# Words of the seed catalog (monolith/core/management/commands/seed_shop.py). A search takes a
# random slice of one, optionally with a second: thousands of distinct queries, some that match
# nothing, so no cache could answer them all.
WORDS = [
    "classic",
    "nordic",
    "harbour",
    "alpine",
    "copper",
    "midnight",
    "meadow",
    "juniper",
    "granite",
    "saffron",
    "coastal",
    "orchard",
    "ember",
    "willow",
    "cobalt",
    "linden",
    "maple",
    "sable",
    "amber",
    "fjord",
    "heather",
    "espresso",
    "filter",
    "decaf",
    "oolong",
    "rooibos",
    "sencha",
    "kettle",
    "grinder",
    "mug",
    "tumbler",
    "notebook",
    "pen",
    "candle",
    "vase",
    "cushion",
    "flask",
    "blanket",
    "hamper",
    "sampler",
    "knife",
    "skillet",
]

_SKU_LINK = re.compile(r'href="/products/([A-Za-z0-9._-]+)/"')
_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')
# Form posts the shop may refuse with an inline form error (400) without anything being wrong.
_MAY_REFUSE = {"cart-add", "checkout"}


def search_term(rng: random.Random = random) -> str:
    word = rng.choice(WORDS)
    start = rng.randrange(0, max(1, len(word) - 3))
    term = word[start : start + rng.randint(3, len(word) - start)] if len(word) > 3 else word
    return f"{term} {rng.choice(WORDS)[: rng.randint(2, 5)]}" if rng.random() < 0.3 else term


class _Visitor(HttpUser):
    """What both kinds share: the user agent, and one way of checking an answer."""

    abstract = True
    wait_time = between(*THINK_TIME)

    def on_start(self):
        self.client.headers["User-Agent"] = USER_AGENT

    def visit(self, page: str, method: str, path: str, **kwargs):
        """Send one request named `page`; mark it failed unless its answer is what a browser expects."""
        with self.client.request(
            method, path, name=page, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            status = response.status_code
            if 200 <= status < 400 or (status == 400 and page in _MAY_REFUSE):
                response.success()
            else:
                # Locust counts a lost connection (status 0) as failed by itself; this names the rest.
                response.failure(f"{page}: {status or 'no answer'}")
            return response


class Shopper(_Visitor):
    """A person with a browser: pages and forms, a session cookie, a cart, a checkout now and then."""

    weight = USER_WEIGHTS["Shopper"]

    def on_start(self):
        super().on_start()
        self.skus: list[str] = []  # products seen on listing pages, to visit next
        self.in_stock: str | None = None  # the last product page that had an add-to-cart form
        self.cart_lines = 0

    def _listing(self, page: str, path: str, params: dict | None = None):
        response = self.visit(page, "GET", path, params=params)
        found = _SKU_LINK.findall(response.text or "")
        if found:
            self.skus = found

    @task(WEIGHTS["home"])
    def home(self):
        self._listing("home", "/")

    @task(WEIGHTS["category"])
    def category(self):
        self._listing("category", "/products/", {"category": random.choice(CATEGORIES), "page": random.randint(1, 2)})

    @task(WEIGHTS["search"])
    def search(self):
        self._listing("search", "/products/", {"q": search_term()})

    @task(WEIGHTS["product"])
    def product(self):
        if not self.skus:
            return self.home()
        sku = random.choice(self.skus)
        text = self.visit("product", "GET", f"/products/{sku}/").text or ""
        # Only a product in stock has the add-to-cart form, and with it the CSRF token to post it.
        match = _CSRF_FIELD.search(text) if 'class="add-to-cart"' in text else None
        self.in_stock, self.csrf = (sku, match.group(1)) if match else (None, None)

    @task(WEIGHTS["cart-add"])
    def cart_add(self):
        if not self.in_stock:
            return self.product()
        response = self.visit(
            "cart-add",
            "POST",
            "/cart/add/",
            data={"csrfmiddlewaretoken": self.csrf, "sku": self.in_stock, "quantity": 1},
            headers={"Referer": f"{self.host}/products/{self.in_stock}/"},
        )
        if response.status_code in (301, 302, 303):
            self.cart_lines += 1
        self.in_stock = None  # one of each: a shopper does not buy the same thing twice in a row

    @task(WEIGHTS["cart"])
    def cart(self):
        self.visit("cart", "GET", "/cart/")

    @task(WEIGHTS["checkout"])
    def checkout(self):
        if not self.cart_lines:
            return self.cart_add()
        form = self.visit("checkout-form", "GET", "/checkout/")
        csrf, key = _CSRF_FIELD.search(form.text or ""), _KEY_FIELD.search(form.text or "")
        if form.status_code != 200 or not (csrf and key):
            self.cart_lines = 0  # the cart was empty after all (the form redirects to it)
            return
        card = DECLINED_CARD if random.random() < DECLINED_SHARE else GOOD_CARD
        response = self.visit(
            "checkout",
            "POST",
            "/checkout/",
            headers={"Referer": f"{self.host}/checkout/"},
            data={
                "csrfmiddlewaretoken": csrf.group(1),
                "idempotency_key": key.group(1),
                "email": f"shopper-{uuid.uuid4().hex[:8]}@example.com",
                "name": "Load Shopper",
                "line1": "1 Test Street",
                "city": "Berlin",
                "postal_code": "10115",
                "country": "DE",
                "card_number": card,
                "exp_month": 12,
                "exp_year": 2030,
                "cvc": "123",
            },
        )
        if response.status_code in (301, 302, 303):
            self.cart_lines = 0
            self.visit("order", "GET", response.headers["Location"])


class ApiReader(_Visitor):
    """A script reading the catalog API: whoever owns /api/catalog/ at the stage answers it."""

    weight = USER_WEIGHTS["ApiReader"]

    def on_start(self):
        super().on_start()
        self.skus: list[str] = []

    @task(API_WEIGHTS["api-products"])
    def products(self):
        params = random.choice(
            [
                {"category": random.choice(CATEGORIES)},
                {"q": search_term()},
                {"in_stock": "true", "ordering": random.choice(["price", "-price", "name"])},
                {"min_price": random.randint(5, 50), "max_price": random.randint(60, 200)},
            ]
        )
        response = self.visit("api-products", "GET", "/api/catalog/products/", params=params)
        with contextlib.suppress(ValueError, KeyError, TypeError):
            self.skus = [product["sku"] for product in response.json()["results"]] or self.skus

    @task(API_WEIGHTS["api-product"])
    def product(self):
        if not self.skus:
            return self.products()
        self.visit("api-product", "GET", f"/api/catalog/products/{random.choice(self.skus)}/")

    @task(API_WEIGHTS["api-categories"])
    def categories(self):
        self.visit("api-categories", "GET", "/api/catalog/categories/")


USER_CLASSES = [Shopper, ApiReader]
