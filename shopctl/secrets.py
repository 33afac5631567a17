"""The local run's secrets: made at random once per run folder, kept in <run folder>/secrets.env (mode 0600).

`python -m shopctl.secrets .env` writes the same variables to .env for docker compose, which
refuses to start without them.

Nothing in the repository is a working credential: each Django project gets its own SECRET_KEY, and
each caller its own token for each service it calls (the monolith one for the catalog service and
another for the payments service; an operator, `ops`, one for each service's /ops/). The
file is written once and read by every later `shop up`, so that sessions and tokens survive a
restart; deleting it (with the shop stopped) rotates them all (docs/running.md, "Secrets").

A variable of the same name in the environment wins over the file, for a shop whose secrets come
from elsewhere.
"""

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

FILE_NAME = "secrets.env"
# Each a secrets.token_urlsafe(): letters, digits, - and _ only, which SERVICE_TOKENS and a shell
# `source` both take as they are.
NAMES = (
    "MONOLITH_SECRET_KEY",
    "CATALOG_SECRET_KEY",
    "PAYMENTS_SECRET_KEY",
    "CATALOG_SERVICE_TOKEN",  # the monolith's token for the catalog service
    "PAYMENTS_SERVICE_TOKEN",  # the monolith's token for the payments service
    "CATALOG_OPS_TOKEN",  # an operator's token for the catalog service's /ops/ (faults)
    "PAYMENTS_OPS_TOKEN",  # an operator's token for the payments service's /ops/ (faults, records)
)


def load(run_dir: Path, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The secrets of the run folder, made first if there are none; the environment's values win."""
    values = ensure(run_dir / FILE_NAME)
    return {name: env.get(name) or values[name] for name in NAMES}


def ensure(path: Path) -> dict[str, str]:
    """The secrets in the file at `path`, adding at random those it lacks (all, for a new file)."""
    values = _read(path)
    missing = [name for name in NAMES if name not in values]
    if missing:
        values.update({name: secrets.token_urlsafe(48) for name in missing})
        _write(path, values)
    return values


def _read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def _write(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    # 0600 from the start: the file is never readable by others, not even for a moment.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(
            "# The local run's secrets (shopctl/secrets.py). To rotate them, stop the shop and delete this file.\n"
        )
        file.writelines(f"{name}={value}\n" for name, value in values.items())
    os.replace(temporary, path)  # whole or not at all, for a `shop up` reading it at the same moment


def for_process(name: str, values: Mapping[str, str]) -> dict[str, str]:
    """The variables process `name` (monolith, relay, catalog, payments) reads them from."""
    if name == "catalog":
        return {
            "SECRET_KEY": values["CATALOG_SECRET_KEY"],
            "SERVICE_TOKENS": f"monolith={values['CATALOG_SERVICE_TOKEN']},ops={values['CATALOG_OPS_TOKEN']}",
        }
    if name == "payments":
        return {
            "SECRET_KEY": values["PAYMENTS_SECRET_KEY"],
            "SERVICE_TOKENS": f"monolith={values['PAYMENTS_SERVICE_TOKEN']},ops={values['PAYMENTS_OPS_TOKEN']}",
        }
    return {
        "SECRET_KEY": values["MONOLITH_SECRET_KEY"],
        "CATALOG_SERVICE_TOKEN": values["CATALOG_SERVICE_TOKEN"],
        "PAYMENTS_SERVICE_TOKEN": values["PAYMENTS_SERVICE_TOKEN"],
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m shopctl.secrets <file>   (e.g. .env, for docker compose)")
    target = Path(sys.argv[1])
    existed = target.exists()
    ensure(target)
    print(f"{target}: {'kept; missing secrets added' if existed else 'written'} (mode 0600). Delete it to rotate them.")
