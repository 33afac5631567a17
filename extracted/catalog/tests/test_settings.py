"""Settings: production passes Django's deployment checks, the local run needs no database server,
SERVICE_TOKENS is read safely, and the service stands alone (it never imports the monolith)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]  # extracted/catalog
REPO = PROJECT.parents[1]
CLEARED = {
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_DEBUG",
    "ALLOWED_HOSTS",
    "SERVICE_TOKENS",
    "SHOP_RUN_DIR",
}
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "catalog_service.settings.production",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "catalog.example.com",
    "DATABASE_URL": "postgres://catalog@db.example.com:5432/catalog",
    "SERVICE_TOKENS": "monolith=" + "t" * 43,
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env={**clean, **env}, capture_output=True, text=True
    )


def show(expression, env):
    """The repr of a Python expression evaluated with the settings loaded."""
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        f"from django.conf import settings; from django.db import connection; print(repr(({expression})))",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_required_variables(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_a_short_service_token():
    result = manage("check", env={**PRODUCTION, "SERVICE_TOKENS": "monolith=short-token"})

    assert result.returncode != 0
    assert "at least 32 characters" in result.stderr
    assert "short-token" not in result.stderr


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("monolith", id="no-equals"),
        pytest.param("=secret-token-value", id="no-name"),
        pytest.param("monolith=", id="no-token"),
        pytest.param("monolith=secret token value", id="space"),
        pytest.param("monolith=secret-token-välue", id="non-ascii"),
        pytest.param("monolith=secret-token-value,monolith=secret-token-value2", id="a-name-twice"),
    ],
)
def test_a_malformed_service_tokens_setting_is_refused_without_showing_the_token(value):
    result = manage("check", env={"SERVICE_TOKENS": value})

    assert result.returncode != 0
    assert "SERVICE_TOKENS" in result.stderr
    assert "secret" not in result.stderr


def test_service_tokens_are_read_as_name_and_token():
    tokens = show("sorted(settings.SERVICE_TOKENS.items())", env={"SERVICE_TOKENS": "monolith=abc=def,ops=x_y-z"})

    assert tokens == "[('monolith', 'abc=def'), ('ops', 'x_y-z')]"


def test_without_database_url_the_local_run_uses_an_sqlite_file_in_the_repositorys_run_folder():
    shown = show("connection.vendor, str(connection.settings_dict['NAME'])", env={})

    assert shown == repr(("sqlite", str(REPO / ".run" / "catalog.sqlite3")))


def test_database_url_selects_postgresql_with_persistent_connections_and_atomic_requests():
    settings = show(
        "connection.vendor, connection.settings_dict['CONN_MAX_AGE'], "
        "connection.settings_dict['CONN_HEALTH_CHECKS'], connection.settings_dict['ATOMIC_REQUESTS']",
        env={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/shop_catalog"},
    )

    assert settings == "('postgresql', 600, True, True)"


def test_the_local_run_has_no_token_of_its_own_and_names_itself_catalog():
    # No working token in the repository: `shop up` generates the monolith's (docs/running.md, "Secrets").
    assert show("settings.SERVICE_TOKENS, settings.SERVICE_NAME", env={}) == "({}, 'catalog')"


def test_the_local_run_shows_no_debug_page_unless_a_developer_asks():
    assert show("settings.DEBUG", env={}) == "False"
    assert show("settings.DEBUG", env={"DJANGO_DEBUG": "1"}) == "True"


WEAK_KEYS = ["tiny-key", "x" * 60, "local-only-not-a-secret-but-long-enough-to-pass-the-length-test-1234"]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_production_refuses_a_weak_secret_key_without_showing_it(key):
    result = manage("check", env={**PRODUCTION, "SECRET_KEY": key})

    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr
    assert key not in result.stderr


def test_the_service_never_imports_the_monolith():
    # Every module a request can reach: settings, apps, URLs, views, the admin and the schema.
    script = (
        "import sys, django; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "from drf_spectacular.generators import SchemaGenerator; SchemaGenerator().get_schema(public=True);"
        "from django.core.management import load_command_class; load_command_class('catalog_service.catalog', 'seed_catalog');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('monolith', 'shopctl', 'tests')))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env = {**clean, "DJANGO_SETTINGS_MODULE": "catalog_service.settings.local"}

    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
