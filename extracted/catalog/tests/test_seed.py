"""manage.py seed_catalog: the local run's staff user, and on request the monolith's demo catalog; safe to repeat."""

import hashlib
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog_service.catalog.models import Category, Product

# sha256 of the monolith's seed_shop catalog, one "sku|name|slug|description|category|price|
# currency|stock|t" line per product in sku order (as `psql -At` prints it): the service's demo
# catalog is the monolith's, row for row.
MONOLITH_DEMO_CATALOG = "b79396a5730eaffd756237b5b519fe34689f1d70084dc5f8c6f7b20ff1836ec3"


def seed(*args):
    out = io.StringIO()
    call_command("seed_catalog", *args, stdout=out)
    return out.getvalue()


def catalog_checksum():
    lines = [
        f"{p.sku}|{p.name}|{p.slug}|{p.description}|{p.category.slug}|{p.price}|{p.currency}|{p.stock}|{'t' if p.is_active else 'f'}\n"
        for p in Product.objects.select_related("category").order_by("sku")
    ]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def test_seed_creates_the_staff_user_and_no_catalog(db):
    assert "User admin/admin created." in seed()

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password("admin")
    assert not Product.objects.exists() and not Category.objects.exists()


def test_the_demo_catalog_is_the_monoliths(db):
    assert "210 products created, 210 in all" in seed("--demo-catalog")

    assert Category.objects.count() == 10
    assert catalog_checksum() == MONOLITH_DEMO_CATALOG


def test_seeding_again_changes_nothing_and_keeps_what_changed_since(db):
    seed("--demo-catalog")
    Product.objects.filter(sku="COF-0001").update(price="1.00", stock=0)
    Product.objects.filter(sku="TEA-0021").delete()

    output = seed("--demo-catalog")

    assert "1 products created, 210 in all" in output
    assert "User" not in output  # admin exists already
    assert Product.objects.get(sku="COF-0001").stock == 0
    assert str(Product.objects.get(sku="COF-0001").price) == "1.00"
    Product.objects.filter(sku="COF-0001").delete()
    seed("--demo-catalog")
    assert catalog_checksum() == MONOLITH_DEMO_CATALOG  # a re-made product gets its own values back
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("args", [(), ("--demo-catalog",)])
def test_no_user_is_seeded_outside_the_local_run(settings, db, args):
    settings.SEED_DEMO_USERS = False

    seed(*args)

    assert not get_user_model().objects.exists()
