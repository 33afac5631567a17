"""Settings: production passes Django's deployment checks, and the quick start needs no database server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def manage(*args, env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_DEBUG"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env={**clean, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DJANGO_SETTINGS_MODULE": "monolith.settings.production",
            "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
            "ALLOWED_HOSTS": "shop.example.com",
            "DATABASE_URL": "postgres://shop@db.example.com:5432/shop",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "monolith.settings.production",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://shop@db.example.com:5432/shop",
}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_required_variables(missing):
    # DATABASE_URL too: production never falls back to the local run's SQLite file.
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize(
    "key", ["tiny-key", "x" * 60, "local-only-not-a-secret-" + "y" * 40, "django-insecure-" + "abcdef" * 9]
)
def test_production_refuses_a_weak_secret_key_without_showing_it(key):
    result = manage("check", env={**PRODUCTION, "SECRET_KEY": key})

    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr
    assert key not in result.stderr


def test_without_database_url_the_local_run_uses_an_sqlite_file():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.db import connection; print(connection.vendor, connection.settings_dict['NAME'])",
        env={},
    )
    assert result.returncode == 0, result.stderr
    vendor, name = result.stdout.split()
    assert vendor == "sqlite"
    assert name.endswith(".run/monolith.sqlite3")


def test_database_url_selects_postgresql_with_persistent_connections():
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.db import connection; print(connection.vendor, connection.settings_dict['CONN_MAX_AGE'])",
        env={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/shop_monolith"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgresql", "600"]
