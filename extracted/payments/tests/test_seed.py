"""manage.py seed_payments: the local run's staff user admin/admin; safe to repeat, never in production."""

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from payments_service.payments.models import Payment


def seed():
    out = io.StringIO()
    call_command("seed_payments", stdout=out)
    return out.getvalue()


def test_seed_creates_the_staff_user_and_no_payments(db):
    assert "User admin/admin created." in seed()

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password("admin")
    assert not Payment.objects.exists()


def test_seed_is_safe_to_repeat_and_keeps_a_changed_password(db):
    seed()
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-since")
    admin.save()

    assert seed() == ""

    assert get_user_model().objects.count() == 1
    assert get_user_model().objects.get(username="admin").check_password("changed-since")


def test_without_demo_users_the_seed_creates_no_one(db, settings):
    settings.SEED_DEMO_USERS = False  # production's value

    seed()

    assert not get_user_model().objects.exists()
