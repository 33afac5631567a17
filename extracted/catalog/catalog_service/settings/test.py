"""Tests: PostgreSQL at 127.0.0.1:5432 unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_catalog")

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
# Faults read afresh at every request, so that a test sees the value it has just set.
CATALOG_FAULTS_REFRESH_SECONDS = 0
