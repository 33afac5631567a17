"""Tests: PostgreSQL at 127.0.0.1:5432 unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_payments")

from .base import *  # noqa: F403

ALLOWED_HOSTS = ["*"]
SEED_DEMO_USERS = True
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the apps' folders by the finders; nothing is collected
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Fast hashing: the tests make users, they do not test bcrypt.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test database beside the one DATABASE_URL names, with its name as a prefix
# (shop_payments -> shop_payments_test), not Django's test_ in front: on a shared server a
# deployable's databases then all start with its own name.
DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}_test"}  # noqa: F405
