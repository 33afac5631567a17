"""Seed the catalog service: the staff user of the local run and, with --demo-catalog, the demo catalog.

Normally the catalog arrives from the monolith through the API (the data move). For running
the service on its own, --demo-catalog creates the same ten categories and 210 products as
the monolith's `seed_shop` (the same table and random seed, so the same skus, prices and
stock). Idempotent: what exists is left alone (a re-run never resets stock or prices that
changed since), and what is missing is created.
"""

import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog_service.catalog.models import Category, Product
from catalog_service.catalog.services import category_create, product_create

# Copied from the monolith's seed_shop; change both or neither.
# (slug, name, sku prefix, nouns, price range in whole euros)
CATEGORIES = [
    (
        "coffee",
        "Coffee",
        "COF",
        [
            "Espresso Beans",
            "Filter Roast",
            "Decaf Blend",
            "Single Origin",
            "Cold Brew Pack",
            "Moka Grind",
            "Ristretto Beans",
        ],
        (7, 32),
    ),
    (
        "tea",
        "Tea",
        "TEA",
        ["Sencha", "Earl Grey", "Oolong", "Rooibos", "Chai Blend", "Darjeeling", "Mint Infusion"],
        (4, 26),
    ),
    (
        "brewing",
        "Brewing Gear",
        "BRW",
        ["Pour-Over Dripper", "French Press", "Gooseneck Kettle", "Hand Grinder", "Moka Pot", "Milk Frother", "Scale"],
        (12, 180),
    ),
    (
        "mugs",
        "Mugs & Cups",
        "MUG",
        ["Stoneware Mug", "Espresso Cup", "Travel Tumbler", "Glass Cup", "Enamel Mug", "Latte Bowl", "Tea Cup Set"],
        (8, 45),
    ),
    (
        "kitchen",
        "Kitchen",
        "KIT",
        [
            "Chef's Knife",
            "Cutting Board",
            "Cast Iron Pan",
            "Mixing Bowl",
            "Spice Jar Set",
            "Salad Spinner",
            "Dutch Oven",
        ],
        (9, 220),
    ),
    (
        "books",
        "Books",
        "BOK",
        [
            "Cookbook",
            "Field Guide",
            "Baking Handbook",
            "Coffee Atlas",
            "Tea Almanac",
            "Fermentation Primer",
            "Travel Journal",
        ],
        (12, 48),
    ),
    (
        "stationery",
        "Stationery",
        "STA",
        ["Notebook", "Fountain Pen", "Pencil Set", "Desk Planner", "Sketchbook", "Ink Bottle", "Washi Tape"],
        (3, 95),
    ),
    (
        "home",
        "Home",
        "HOM",
        ["Linen Throw", "Scented Candle", "Ceramic Vase", "Wool Cushion", "Table Lamp", "Doormat", "Wall Clock"],
        (14, 160),
    ),
    (
        "outdoor",
        "Outdoor",
        "OUT",
        [
            "Camping Mug",
            "Vacuum Flask",
            "Picnic Blanket",
            "Trail Cooker",
            "Folding Stool",
            "Head Torch",
            "Water Bottle",
        ],
        (9, 140),
    ),
    (
        "gifts",
        "Gifts",
        "GFT",
        [
            "Gift Box",
            "Tasting Set",
            "Gift Card Holder",
            "Advent Calendar",
            "Sampler Crate",
            "Greeting Card Set",
            "Hamper",
        ],
        (10, 90),
    ),
]
ADJECTIVES = [
    "Classic",
    "Nordic",
    "Harbour",
    "Alpine",
    "Copper",
    "Midnight",
    "Meadow",
    "Juniper",
    "Granite",
    "Saffron",
    "Coastal",
    "Orchard",
    "Ember",
    "Willow",
    "Cobalt",
    "Linden",
    "Maple",
    "Sable",
    "Amber",
    "Fjord",
    "Heather",
]
PRODUCTS_PER_CATEGORY = 21


class Command(BaseCommand):
    help = (
        "Create the admin/admin staff user (local run only) and, with --demo-catalog, the demo catalog. Safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo-catalog",
            action="store_true",
            help="Also create the monolith's demo catalog (10 categories, 210 products), to run this service alone.",
        )

    @transaction.atomic
    def handle(self, *args, demo_catalog=False, **options):
        if demo_catalog:
            self._demo_catalog()
        if settings.SEED_DEMO_USERS:
            self._staff_user("admin", "admin")

    def _demo_catalog(self):
        rng = random.Random(2026)  # the monolith's seed: the same shop on every machine
        created = 0
        for slug, name, prefix, nouns, (low, high) in CATEGORIES:
            category = Category.objects.filter(slug=slug).first() or category_create(
                slug=slug, name=name, description=f"Our pick of {name.lower()}."
            )
            existing = set(Product.objects.filter(category=category).values_list("sku", flat=True))
            for index in range(PRODUCTS_PER_CATEGORY):
                # Drawn before the skip below, so a product made later gets the price and
                # stock it would have had in a single run.
                adjective, noun = ADJECTIVES[index], nouns[index % len(nouns)]
                price = Decimal(rng.randint(low * 100, high * 100)) / 100
                stock = rng.choice([0, 3, 5, 8, 12, 20, 35, 50, 80, 120])
                sku = f"{prefix}-{index + 1:04d}"
                if sku in existing:
                    continue
                product_create(
                    sku=sku,
                    name=f"{adjective} {noun}",
                    category=category,
                    price=price.quantize(Decimal("0.01")),
                    description=f"The {adjective.lower()} {noun.lower()}: a favourite in our {name.lower()} range.",
                    stock=stock,
                )
                created += 1
        self.stdout.write(f"Catalog: {created} products created, {Product.objects.count()} in all.")

    def _staff_user(self, username, password):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.com",
                "is_staff": True,
                "is_superuser": True,
                "first_name": username.capitalize(),
            },
        )
        if created:
            user.set_password(password)
            user.save()
            self.stdout.write(f"User {username}/{password} created.")
