"""Settings shared by every environment; everything that varies comes from the environment."""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent  # extracted/payments, where manage.py is
APP_DIR = PROJECT_DIR / "payments_service"

env = environ.Env()

# The shop's runtime folder, as shopctl names it: <repository>/.run in a checkout.
RUN_DIR = Path(env("SHOP_RUN_DIR", default=str(PROJECT_DIR.parent.parent / ".run")))

SECRET_KEY = env("SECRET_KEY")
# Off unless a developer turns it on (DJANGO_DEBUG=1): a debug page lists every URL pattern and
# setting, and the local run is what audiences see (docs/running.md).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The facade forwards the client's host and scheme, so links (pagination's next and
# previous) and CSRF checks see what the browser sees, not the upstream address.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Which process this is: sent as X-Served-By and in /healthz.
SERVICE_NAME = "payments"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "payments_service.core",
    "payments_service.payments",
    "payments_service.ops",
    "django_prometheus",
]

MIDDLEWARE = [
    # First: its latency covers every other middleware (payments_service/core/metrics.py).
    "payments_service.core.metrics.PrometheusBeforeMiddleware",
    "log_request_id.middleware.RequestIDMiddleware",
    "payments_service.core.middleware.ServedByMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "payments_service.core.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "payments_service.core.middleware.ApiErrorMiddleware",
    # Responses by status, as the client gets them.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, so that it wraps the view and its ATOMIC_REQUESTS transaction alone: a delay it adds
    # after a charge comes after the charge was committed (ops/middleware.py).
    "payments_service.ops.middleware.FaultInjectionMiddleware",
]

ROOT_URLCONF = "payments_service.urls"
WSGI_APPLICATION = "payments_service.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL when DATABASE_URL is set; otherwise an SQLite file, so running the service
# alone needs no database server.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{RUN_DIR / 'payments.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite creates the file but not its folder, and a fresh checkout has no .run/ yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
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
# The service has no pages of its own: people sign in to the browsable API or the admin.
LOGIN_URL = "/api-auth/login/"
LOGIN_REDIRECT_URL = "/api/payments/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = RUN_DIR / "payments" / "static"  # not the monolith's .run/static: each collects its own
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
# Cookies do not care about ports, and behind the facade the monolith and this service share
# one host. Under the monolith's cookie names this service would read the monolith's session
# cookie, fail its signature (another SECRET_KEY) and answer with a cookie that replaces it:
# the shopper would lose their login and cart. Its own names keep the two apart.
SESSION_COOKIE_NAME = "payments_sessionid"
CSRF_COOKIE_NAME = "payments_csrftoken"


# Seed the staff user admin/admin (manage.py seed_payments). Never in production.
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
PRIVATE_PATH_PREFIXES = ["/admin/", "/api-auth/", "/ops/", "/api/payments/"]

# Requests one signed-in user may make to the API (core/throttling.py), counted in each
# gunicorn worker: "<n>/second|minute|hour|day"; empty turns the throttle off. The default is
# far above what a shopper clicks or the benchmarks send as one user, and a test never meets it.
API_USER_THROTTLE_RATE = env("API_USER_THROTTLE_RATE", default="1200/minute") or None

REST_FRAMEWORK = {
    # Basic first: DRF answers an anonymous caller with the first class's
    # challenge, so `curl` and services get a 401 with WWW-Authenticate rather
    # than a 403 that no credentials could fix. Browsers use the session; peer
    # services send their token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "payments_service.core.auth.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "payments_service.core.auth.ServiceTokenAuthentication",
    ],
    # JSON first (what the documents advertise), with a depth limit (core/parsers.py); forms for
    # the browsable API's flat bodies. Views with nested bodies take JSON alone.
    "DEFAULT_PARSER_CLASSES": [
        "payments_service.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # A rate per signed-in user (API_USER_THROTTLE_RATE above); anonymous callers are limited
    # per address at the facade, and the shop's own services not at all.
    "DEFAULT_THROTTLE_CLASSES": ["payments_service.core.throttling.UserRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "payments_service.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "payments_service.core.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [],
    "EXCEPTION_HANDLER": "payments_service.core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# The title and description of the monolith's /api/payments/schema/: the contract wants the
# same document from whichever process serves the prefix.
SPECTACULAR_SETTINGS = {
    "TITLE": "strangler-shop payments API",
    "DESCRIPTION": "Payments against test cards, refunds and idempotency keys, under /api/payments/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Django's <slug:...> as its pattern, as the shop's own converters are (core/converters.py).
    "PATH_CONVERTER_OVERRIDES": {"slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}},
    "ENUM_NAME_OVERRIDES": {},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "payments_service.core.schema.document_negotiation_errors",
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

# Idempotency keys are kept at least this long (`manage.py purge_idempotency_keys` refuses to
# delete younger ones): a client may retry a payment with the same key for a day, as Stripe
# promises its clients.
IDEMPOTENCY_KEY_MIN_AGE_HOURS = 24

# Fault injection for demos and tests (ops/): the defaults, while no one has set a value through
# PUT /ops/faults/ or `manage.py faults`. All off unless the environment says otherwise.
PAYMENTS_FAULT_LATENCY_MS = env.int("PAYMENTS_FAULT_LATENCY_MS", default=0)
PAYMENTS_FAULT_ERROR_RATE = env.float("PAYMENTS_FAULT_ERROR_RATE", default=0.0)
PAYMENTS_FAULT_TIMEOUT_AFTER_CHARGE = env.int("PAYMENTS_FAULT_TIMEOUT_AFTER_CHARGE", default=0)
