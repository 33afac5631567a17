"""Production: every secret and address from the environment, HTTPS assumed at the edge."""

import environ
from django.core.exceptions import ImproperlyConfigured

# Required, and checked before base, which would otherwise fall back to an SQLite file.
environ.Env()("DATABASE_URL")

from .base import *  # noqa: E402,F403
from .base import SECRET_KEY, SERVICE_TOKENS, env  # noqa: E402

DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health probes speak plain HTTP to the process itself, behind any TLS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# A service token is a password that never expires and is typed by no one: it can afford to
# be long. 32 characters is what secrets.token_urlsafe(24) gives.
if any(len(token) < 32 for token in SERVICE_TOKENS.values()):
    raise ImproperlyConfigured("SERVICE_TOKENS: every token must be at least 32 characters long in production.")


def _weak_secret_key(key):
    """Django's own test for a guessable key (check --deploy's security.W009), and the repository's local keys."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-") or "not-a-secret" in key


if _weak_secret_key(SECRET_KEY):
    # The message never shows the key. `python -c "import secrets; print(secrets.token_urlsafe(50))"`
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for production: use at least 50 random characters (secrets.token_urlsafe(50)), "
        "never a key from the repository."
    )
