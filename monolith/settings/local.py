"""Local run: the quick start and the demo. Never used in production."""
import os

os.environ.setdefault("SECRET_KEY", "local-only-not-a-secret")
os.environ.setdefault("DEBUG", "true")
# The token the catalog and payments services' local settings expect from the monolith.
os.environ.setdefault("CATALOG_SERVICE_TOKEN", "local-only-not-a-secret-monolith-token")
os.environ.setdefault("PAYMENTS_SERVICE_TOKEN", "local-only-not-a-secret-monolith-token")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
SEED_DEMO_USERS = True
# Serve our CSS and Swagger UI straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the apps' folders by the finders; nothing is collected
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
