"""Local run: the quick start and the demo. Never used in production."""

import os

# `shop up` passes a key it generated for this run folder (.run/secrets.env); this one is for a
# manage.py command run by hand. DEBUG stays off unless DJANGO_DEBUG=1 (settings/base.py).
os.environ.setdefault("SECRET_KEY", "local-only-not-a-secret")
# No default service tokens: a working token in the repository would open every local shop.
# `shop up` generates one per caller and service (docs/running.md, "Secrets").

from .base import *  # noqa: F403
from .base import env

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
SEED_DEMO_USERS = True
# Serve our CSS and Swagger UI straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the apps' folders by the finders; nothing is collected
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
