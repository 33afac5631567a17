"""The local run's secrets (shopctl/secrets.py): random, made once per run folder, private, distinct per caller and
service, and given to each process under the names its settings read."""

import stat

from shopctl import secrets as run_secrets
from shopctl import stack


def test_secrets_are_made_once_private_and_all_different(tmp_path):
    first = run_secrets.load(tmp_path, env={})
    again = run_secrets.load(tmp_path, env={})

    assert first == again  # read back, not made anew: sessions and tokens survive a restart
    assert len(set(first.values())) == len(run_secrets.NAMES)
    assert all(len(value) >= 50 for value in first.values())
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600


def test_deleting_the_file_rotates_them(tmp_path):
    first = run_secrets.load(tmp_path, env={})
    (tmp_path / "secrets.env").unlink()

    assert set(run_secrets.load(tmp_path, env={}).values()).isdisjoint(first.values())


def test_each_process_gets_only_its_own(tmp_path):
    env = {"SHOP_RUN_DIR": str(tmp_path)}
    values = run_secrets.load(tmp_path, env={})

    monolith, catalog, payments = (stack.environment(name, env) for name in ("monolith", "catalog", "payments"))
    facade = stack.environment("facade", env)

    assert monolith["CATALOG_SERVICE_TOKEN"] != monolith["PAYMENTS_SERVICE_TOKEN"]
    assert (
        catalog["SERVICE_TOKENS"] == f"monolith={monolith['CATALOG_SERVICE_TOKEN']},ops={values['CATALOG_OPS_TOKEN']}"
    )
    assert (
        payments["SERVICE_TOKENS"]
        == f"monolith={monolith['PAYMENTS_SERVICE_TOKEN']},ops={values['PAYMENTS_OPS_TOKEN']}"
    )
    assert len({monolith["SECRET_KEY"], catalog["SECRET_KEY"], payments["SECRET_KEY"]}) == 3
    assert stack.environment("relay", env)["PAYMENTS_SERVICE_TOKEN"] == monolith["PAYMENTS_SERVICE_TOKEN"]
    assert not set(values.values()) & set(facade.values())  # nginx needs none of them


def test_a_value_from_the_environment_wins(tmp_path):
    env = {"SHOP_RUN_DIR": str(tmp_path), "CATALOG_SERVICE_TOKEN": "t" * 40}

    assert stack.environment("catalog", env)["SERVICE_TOKENS"].startswith("monolith=" + "t" * 40 + ",ops=")
    assert stack.environment("monolith", env)["CATALOG_SERVICE_TOKEN"] == "t" * 40
