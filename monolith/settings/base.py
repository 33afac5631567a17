"""Settings shared by every environment; everything that varies comes from the environment."""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # the repository root
APP_DIR = BASE_DIR / "monolith"

env = environ.Env()

SECRET_KEY = env("SECRET_KEY")
# Off unless a developer turns it on (DJANGO_DEBUG=1): a debug page lists every URL pattern and
# setting, and the local run is what audiences see (docs/running.md).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The facade forwards the client's host and scheme, so links and CSRF checks see
# what the browser sees, not the upstream address.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Which process this is: sent as X-Served-By and shown in the page footer.
SERVICE_NAME = "monolith"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "monolith.core",
    "monolith.catalog",
    "monolith.cart",
    "monolith.orders",
    "monolith.payments",
    "monolith.parallel_run",
    "monolith.strangler",
    "monolith.storefront",
    "monolith.seed",
    "django_prometheus",
    "monolith.dashboard",
    "monolith.traces",
    "monolith.ops",
]

MIDDLEWARE = [
    # First: its latency covers every other middleware (monolith/dashboard/metrics.py).
    "monolith.dashboard.metrics.PrometheusBeforeMiddleware",
    "log_request_id.middleware.RequestIDMiddleware",
    "monolith.core.middleware.ServedByMiddleware",
    # Before sessions, CSRF and auth: a forwarded request is the catalog service's to check.
    "monolith.strangler.middleware.StageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "monolith.core.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "monolith.core.middleware.ApiErrorMiddleware",
    # Responses by status (the errors /staff/migration/ shows), as the client gets them.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, so that its process_exception runs first: a view that meets a context out of reach
    # (the catalog service down) answers 503, not ApiErrorMiddleware's 500.
    "monolith.core.middleware.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "monolith.urls"
WSGI_APPLICATION = "monolith.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [APP_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monolith.core.context_processors.shop",
                "monolith.cart.context_processors.cart",
            ],
        },
    },
]

# PostgreSQL when DATABASE_URL is set; otherwise an SQLite file, so the quick
# start needs no database server.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / '.run' / 'monolith.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
    # failing with "database is locked" when one upgrades a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # django-prometheus's wrapper of the same backend: counts each SQL statement
    # (django_db_execute_total at /metrics), which the comparison kit divides by requests.
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".run" / "static"
STATICFILES_DIRS = [APP_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# In the database, so that logging out ends the session for good: a signed cookie kept nothing
# on the server to revoke, and a copy of it stayed valid after logout. (Not cached_db: the
# default cache is each worker's own memory, where another worker would still find the
# session after a logout.) `manage.py clearsessions` removes expired rows.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True

# The shop sells in one currency; every product and order carries it explicitly
# so that a second currency would be a data change, not a schema change.
SHOP_CURRENCY = env("SHOP_CURRENCY", default="EUR")
PRODUCTS_PER_PAGE = 24

# Which adapter each port uses (branch by abstraction): "local" in-process (stage 0). The
# catalog's default, "stage", follows the stage recorded in the database (monolith/strangler/):
# "local" at stage 0, "remote" from stage 1. Set it to one of those to pin it, or to "shadow",
# a parallel run: served locally, compared with the service (monolith/ports/catalog_shadow.py).
CATALOG_BACKEND = env("CATALOG_BACKEND", default="stage")
# Payments the same way: "stage" (the default) is "local" up to stage 1 and "remote", the
# payments service (monolith/ports/payments_http.py), at stage 2.
PAYMENTS_BACKEND = env("PAYMENTS_BACKEND", default="stage")
CATALOG_SERVICE_URL = env("CATALOG_SERVICE_URL", default="http://127.0.0.1:8002")
PAYMENTS_SERVICE_URL = env("PAYMENTS_SERVICE_URL", default="http://127.0.0.1:8003")
# Where /staff/migration/ reads the facade's counters (nginx stub_status): `unix:<socket>` (the
# local run: a socket in the run folder, which no browser reaches) or an http:// URL (compose,
# on its own network). Empty: the page shows no facade figures.
FACADE_STATUS_URL = env("FACADE_STATUS_URL", default="")
# The remote catalog adapter's credentials, sent only on the calls that need them (stock
# reservations): the catalog service's token for this monolith (`Authorization: Bearer`), never
# logged; empty sends none.
CATALOG_SERVICE_TOKEN = env("CATALOG_SERVICE_TOKEN", default="")
PAYMENTS_SERVICE_TOKEN = env("PAYMENTS_SERVICE_TOKEN", default="")
# The in-process catalog's fault switch (monolith/ops/faults.py), for the failure exercises at stage 0:
# off, it costs nothing and nothing can turn it on; `shop exercise` starts its own shop with it on.
CATALOG_FAULT_SWITCH = env.bool("CATALOG_FAULT_SWITCH", default=False)
# The payment relay (`manage.py payments_relay`): how long a request's own delivery of a payment
# attempt keeps the relay off it, and the longest wait between two deliveries of one attempt.
PAYMENT_INLINE_LEASE_SECONDS = 10
PAYMENT_RETRY_MAX_SECONDS = 30

# Minutes a stock reservation may be held for an unpaid order before `manage.py
# sweep_reservations` cancels the order (or releases the reservation, if no order owns it).
RESERVATION_TTL_MINUTES = env.int("RESERVATION_TTL_MINUTES", default=30)

# Seed the demo users (admin/admin, demo/demo). Never in production.
SEED_DEMO_USERS = False


def parse_service_tokens(entries):
    """SERVICE_TOKENS="monolith=<token>,ops=<token>" as {name: token}; the error never shows a token."""
    tokens = {}
    for number, entry in enumerate(entries, start=1):
        name, _, token = entry.partition("=")
        name = name.strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ImproperlyConfigured(
                f"SERVICE_TOKENS, entry {number}: write name=token (a name of letters, digits, - and _)."
            )
        # Printable ASCII without spaces or commas: the header carries it as it is, and a
        # comma would end the entry. `python -c "import secrets; print(secrets.token_urlsafe(32))"`
        if not re.fullmatch(r"[\x21-\x2b\x2d-\x7e]+", token):
            raise ImproperlyConfigured(
                f"SERVICE_TOKENS, entry {number} ({name}): the token is empty or has a space, comma or non-ASCII character."
            )
        if name in tokens:
            raise ImproperlyConfigured(f"SERVICE_TOKENS names {name} twice.")
        tokens[name] = token
    return tokens


# Peer services and their tokens (`Authorization: Bearer <token>`, core/auth.py): a
# service with a valid token may do on this API what staff may do.
SERVICE_TOKENS = parse_service_tokens(env.list("SERVICE_TOKENS", default=[]))

# Paths whose answers are someone's own (core/middleware.py's PrivateCacheMiddleware sends them,
# and every answer to a signed-in caller, with `Cache-Control: private, no-store`).
PRIVATE_PATH_PREFIXES = [
    "/orders/",
    "/cart/",
    "/checkout/",
    "/accounts/",
    "/admin/",
    "/staff/",
    "/api-auth/",
    "/api/orders/",
    "/api/payments/",
]

# Requests one signed-in user may make to the API (core/throttling.py), counted in each
# gunicorn worker: "<n>/second|minute|hour|day"; empty turns the throttle off. The default is
# far above what a shopper clicks or the benchmarks send as one user, and a test never meets it.
API_USER_THROTTLE_RATE = env("API_USER_THROTTLE_RATE", default="1200/minute") or None

REST_FRAMEWORK = {
    # Basic first: DRF answers an anonymous caller with the first class's
    # challenge, so `curl` and services get a 401 with WWW-Authenticate rather
    # than a 403 that no credentials could fix. Browsers use the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "monolith.core.auth.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "monolith.core.auth.ServiceTokenAuthentication",
    ],
    # JSON first (what the documents advertise), with a depth limit (core/parsers.py); forms for
    # the browsable API's flat bodies. Views with nested bodies take JSON alone.
    "DEFAULT_PARSER_CLASSES": [
        "monolith.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # A rate per signed-in user (API_USER_THROTTLE_RATE above); anonymous callers are limited
    # per address at the facade, and the shop's own services not at all.
    "DEFAULT_THROTTLE_CLASSES": ["monolith.core.throttling.UserRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "monolith.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "monolith.core.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [],
    "EXCEPTION_HANDLER": "monolith.core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "strangler-shop monolith API",
    "DESCRIPTION": "Catalog, orders and payments of the strangler-shop monolith.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Django's <slug:...> as its pattern, as the shop's own converters are (core/converters.py).
    "PATH_CONVERTER_OVERRIDES": {"slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}},
    # The reservation's status appears twice (the reservation, and a record of one for the data
    # move): one name for the one set of choices.
    "ENUM_NAME_OVERRIDES": {"StockReservationStatusEnum": "monolith.catalog.models.StockReservation.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "monolith.core.schema.document_negotiation_errors",
    ],
}

# django-log-request-id: take the facade's X-Request-ID, make one when there is
# none (a direct call), echo it on the response and put it on every log record.
LOG_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
GENERATE_REQUEST_ID_IF_NOT_IN_HEADER = True
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "log_request_id.filters.RequestIDFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Our handler replaces Django's own console handler, which under DEBUG
        # would print every record a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Django logs every 4xx/5xx here; gunicorn's access log has the rest.
        "django.request": {"level": "WARNING"},
        "log_request_id.middleware": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "monolith.core.views.csrf_failure"
