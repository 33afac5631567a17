"""Seed the payments service: the staff user admin/admin of the local run. Safe to repeat.

There is no demo data: payments arrive through the API (the monolith's checkout).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create the admin/admin staff user (local run only). Safe to re-run."

    @transaction.atomic
    def handle(self, *args, **options):
        if settings.SEED_DEMO_USERS:
            self._staff_user("admin", "admin")

    # The catalog service's seed_catalog._staff_user, copied.
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
