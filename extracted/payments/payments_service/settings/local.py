"""Local run: the service alone or in `shop up --stage 2`. Never used in production."""
import os

os.environ.setdefault("SECRET_KEY", "local-only-not-a-secret")
os.environ.setdefault("DEBUG", "true")
# The monolith's token in the local run, so that stage 2 works with no setup; the monolith's
# local settings must send the same one.
os.environ.setdefault("SERVICE_TOKENS", "monolith=local-only-not-a-secret-monolith-token")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
SEED_DEMO_USERS = True
# Serve the admin's files and Swagger UI straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the apps' folders by the finders; nothing is collected
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
