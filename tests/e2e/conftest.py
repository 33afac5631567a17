"""The real shop for the end-to-end tests: gunicorn and nginx on PostgreSQL, started by `shop up`.

The shop gets databases of its own, shop_e2e (and shop_e2e_catalog, shop_e2e_payments), made afresh
for each run on the server the other tests use (DATABASE_URL), and the contract's addresses, which
FACADE_ADDR and MONOLITH_ADDR override. The stage-1 shop (`shop up --stage 1`) gets databases of
its own too, shop_e2e_stage1 for the monolith and shop_e2e_stage1_catalog for the catalog service,
and free ports, so that both stages can run in one session. The quick start's shop
(quickstart_shop) names no database, and runs on the PostgreSQL `shop up` runs itself. Every
process is stopped at the end, whether the tests passed or not.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import psycopg2
import pytest
from psycopg2 import sql

from shopctl import ShopError, kit, nginx, postgres, stack
from shopctl.background import BackgroundShop

E2E_DATABASE = "shop_e2e"
STAGE1_DATABASE = "shop_e2e_stage1"
STAGE1_OUTAGE_DATABASE = "shop_e2e_stage1_outage"
SWITCH_DATABASE = "shop_e2e_switch"


class SeparateShop(NamedTuple):
    facade: BackgroundShop
    monolith: BackgroundShop


class SeparateStage1Shop(NamedTuple):
    front: BackgroundShop  # the facade and the monolith
    catalog: BackgroundShop


@pytest.fixture(scope="session")
def shop_env() -> dict[str, str]:
    """The environment `shop up` gets here: fresh databases (each deployable's: with one unset,
    `shop up` would run a PostgreSQL of its own for it), the local run's settings, and no rate
    limit at the facade (every test comes from one address; tests/e2e/test_facade_limits.py sets its own)."""
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_monolith"))
    urls = {
        variable: server._replace(path=f"/{E2E_DATABASE}{suffix}").geturl()
        for variable, suffix in (
            ("DATABASE_URL", ""),
            ("CATALOG_DATABASE_URL", "_catalog"),
            ("PAYMENTS_DATABASE_URL", "_payments"),
        )
    }
    for url in urls.values():
        _recreate_database(url)
    return {**nginx.UNLIMITED, **urls, "DJANGO_SETTINGS_MODULE": "monolith.settings.local"}


@pytest.fixture(scope="session")
def shop(shop_env, tmp_path_factory) -> Iterator[BackgroundShop]:
    """The whole shop at stage 0, facade and monolith under one `shop up`, for the whole session."""
    run_dir = tmp_path_factory.mktemp("shop")
    running = BackgroundShop(env={**shop_env, "SHOP_RUN_DIR": str(run_dir)}, log_path=run_dir / "shop.log")
    try:
        _start(running)
        yield running
    finally:
        running.stop()


@pytest.fixture
def separate_shop(shop_env, tmp_path) -> Iterator[SeparateShop]:
    """Another facade and monolith at free ports, each under its own `shop up`, so that a test can
    stop and restart the monolith (honcho stops every process when one of them stops)."""
    env = {
        **shop_env,
        "FACADE_ADDR": stack.free_address(),
        "MONOLITH_ADDR": stack.free_address(),
        "SHOP_RUN_DIR": str(tmp_path),
    }
    separate = SeparateShop(
        facade=BackgroundShop(["facade"], env=env, log_path=tmp_path / "facade.log"),
        monolith=BackgroundShop(["monolith"], env=env, log_path=tmp_path / "monolith.log"),
    )
    try:
        # The facade is ready when /readyz answers through it, so the monolith comes first.
        _start(separate.monolith)
        _start(separate.facade)
        yield separate
    finally:
        separate.facade.stop()
        separate.monolith.stop()


def _stage1_env(database: str) -> dict[str, str]:
    """`shop up`'s environment: fresh databases <database>, <database>_catalog and <database>_payments, free
    ports, no rate limit at the facade."""
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_monolith"))
    database_url = server._replace(path=f"/{database}").geturl()
    catalog_database_url = server._replace(path=f"/{database}_catalog").geturl()
    payments_database_url = server._replace(path=f"/{database}_payments").geturl()
    for url in (database_url, catalog_database_url, payments_database_url):
        _recreate_database(url)
    return {
        **nginx.UNLIMITED,
        "DATABASE_URL": database_url,
        "CATALOG_DATABASE_URL": catalog_database_url,
        "PAYMENTS_DATABASE_URL": payments_database_url,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.local",
        "FACADE_ADDR": stack.free_address(),
        "MONOLITH_ADDR": stack.free_address(),
        "CATALOG_ADDR": stack.free_address(),
        "PAYMENTS_ADDR": stack.free_address(),
    }


@pytest.fixture(scope="session")
def stage1_shop(tmp_path_factory) -> Iterator[BackgroundShop]:
    """The whole shop at stage 1 (facade, monolith, catalog service) under one `shop up --stage 1`."""
    run_dir = tmp_path_factory.mktemp("shop_stage1")
    env = {**_stage1_env(STAGE1_DATABASE), "SHOP_RUN_DIR": str(run_dir)}
    running = BackgroundShop(stage=1, env=env, log_path=run_dir / "shop.log")
    try:
        _start(running)
        yield running
    finally:
        running.stop()


@pytest.fixture
def switching_shop(tmp_path) -> Iterator[BackgroundShop]:
    """The whole shop under `shop up`, started at stage 0 on fresh PostgreSQL databases of its own
    (the live switch needs PostgreSQL), for a test that moves it between stages with `shop stage`."""
    env = {**_stage1_env(SWITCH_DATABASE), "SHOP_RUN_DIR": str(tmp_path)}
    running = BackgroundShop(env=env, log_path=tmp_path / "shop.log")
    try:
        _start(running)
        yield running
    finally:
        running.stop()


@pytest.fixture
def quickstart_shop() -> Iterator[BackgroundShop]:
    """The whole shop as the README's quick start runs it, at free ports: no database URL, so
    `shop up` runs a PostgreSQL of its own in the run folder (shopctl/postgres.py)."""
    with kit.reachable_run_dir() as run_dir:
        running = BackgroundShop(env=quickstart_env(run_dir), without=postgres.DATABASES, log_path=run_dir / "shop.log")
        try:
            _start(running)
            yield running
        finally:
            running.stop()


def quickstart_env(run_dir: Path) -> dict[str, str]:
    """The quick start's environment (no database URL) at free ports, in run_dir, with no rate limit at
    the facade (the test's shoppers all come from one address; `shop up` records the limits, so the
    `shop stage` commands from a clean environment keep them)."""
    return {
        **nginx.UNLIMITED,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.local",
        "SHOP_RUN_DIR": str(run_dir),
        **{f"{name.upper()}_ADDR": stack.free_address() for name in ("facade", "monolith", "catalog", "payments")},
    }


@pytest.fixture
def separate_stage1_shop(tmp_path) -> Iterator[SeparateStage1Shop]:
    """Stage 1 with the catalog service under a `shop up --stage 1 catalog` of its own (the rest under
    `shop up --stage 1 facade monolith`), on databases
    of its own, so that a test can stop it (honcho stops every process when one of them stops)."""
    env = {**_stage1_env(STAGE1_OUTAGE_DATABASE), "SHOP_RUN_DIR": str(tmp_path)}
    separate = SeparateStage1Shop(
        front=BackgroundShop(["facade", "monolith"], stage=1, env=env, log_path=tmp_path / "front.log"),
        catalog=BackgroundShop(["catalog"], stage=1, env=env, log_path=tmp_path / "catalog.log"),
    )
    try:
        # The catalog first: its preparation moves the monolith's catalog into it.
        _start(separate.catalog)
        _start(separate.front)
        yield separate
    finally:
        separate.front.stop()
        separate.catalog.stop()


def _start(shop: BackgroundShop) -> None:
    try:
        shop.start()
        shop.wait_until_ready()
    except ShopError as error:
        shop.stop()
        failure = str(error)
    else:
        return
    # Outside the except block, so that pytest shows the message once, without a traceback.
    pytest.fail(failure, pytrace=False)


def _recreate_database(database_url: str) -> None:
    parts = urlsplit(database_url)
    connection = psycopg2.connect(parts._replace(path="/postgres").geturl())
    connection.autocommit = True  # CREATE and DROP DATABASE refuse to run inside a transaction
    try:
        with connection.cursor() as cursor:
            name = sql.Identifier(parts.path.lstrip("/"))
            # FORCE: a shop left over from an interrupted run may still hold connections.
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        connection.close()
