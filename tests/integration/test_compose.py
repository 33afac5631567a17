"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

docker-compose (Debian's package, 1.29) parses and validates the file against the compose
schema it ships, resolves interpolation and the YAML merge keys, and checks that every
depends_on names a service: `config -q` is what `up` would refuse. The tests then read the
normalised file it prints. A file that 1.29 accepts is accepted by Compose v2 too.

The facade's template is filled here with envsubst as the nginx image fills it, beside the route
files mounted as docker-compose.yml mounts them, and what it renders is checked with `nginx -t`.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shopctl import nginx
from shopctl import secrets as run_secrets

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
INSTALL_HINT = "apt-get install -y docker-compose"
# What `python -m shopctl.secrets .env` gives compose; fixed here, so that the tests can follow each value.
SECRETS = {name: f"test-{name.lower().replace('_', '-')}" for name in run_secrets.NAMES}
# In place of a developer's .env, which compose would otherwise read (it wants a file, not /dev/null).
NO_ENV_FILE = Path(tempfile.gettempdir()) / "strangler-shop-tests-empty.env"
NO_ENV_FILE.write_text("")


@pytest.fixture(scope="module")
def docker_compose():
    binary = shutil.which("docker-compose")
    if binary is None:
        message = f"docker-compose is not installed: `{INSTALL_HINT}` (Debian's package, no Docker engine needed)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def run_compose(binary, *args, **environment):
    # A clean environment: a developer's FACADE_PORT, SHOP_STAGE or secrets (in the environment or
    # in .env) must not change what is checked, and no DOCKER_HOST is needed for `config`. Only the given variables are added.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        **SECRETS,
        **environment,
    }
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "--env-file", str(NO_ENV_FILE), "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def load_services(binary, **environment):
    result = run_compose(binary, "config", **environment)
    assert result.returncode == 0, f"docker-compose rejects {COMPOSE_FILE.name}:\n{result.stderr}"
    return yaml.safe_load(result.stdout)["services"]


@pytest.fixture(scope="module")
def services(docker_compose):
    """The services with SHOP_STAGE unset: stage 0."""
    return load_services(docker_compose)


@pytest.fixture(scope="module")
def stage_1_services(docker_compose):
    return load_services(docker_compose, SHOP_STAGE="1")


@pytest.fixture(scope="module")
def stage_2_services(docker_compose):
    return load_services(docker_compose, SHOP_STAGE="2")


@pytest.mark.parametrize("stage", [None, "0", "1", "2"])
def test_docker_compose_accepts_the_file(docker_compose, stage):
    result = run_compose(docker_compose, "config", "--quiet", **({"SHOP_STAGE": stage} if stage else {}))
    assert result.returncode == 0, result.stderr


def test_the_services(services):
    assert set(services) == {
        "postgres",
        "migrate",
        "monolith",
        "catalog-postgres",
        "catalog-migrate",
        "catalog",
        "payments-postgres",
        "payments-migrate",
        "payments",
        "stage",
        "relay",
        "nginx",
        "jaeger",
        "nginx-exporter",
        "prometheus",
        "grafana",
    }


@pytest.mark.parametrize(
    "name",
    [
        "postgres",
        "catalog-postgres",
        "payments-postgres",
        "monolith",
        "catalog",
        "payments",
        "nginx",
    ],
)
def test_long_running_services_have_a_healthcheck(services, name):
    test = services[name].get("healthcheck", {}).get("test")
    assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"


@pytest.mark.parametrize("name", ["postgres", "catalog-postgres", "payments-postgres"])
def test_postgres_is_healthy_when_pg_isready_says_so(services, name):
    assert "pg_isready" in " ".join(services[name]["healthcheck"]["test"])


@pytest.mark.parametrize("name", ["monolith", "catalog", "payments"])
def test_a_django_service_is_healthy_when_ready(services, name):
    # /readyz reaches the database; /healthz would call a service without one healthy.
    test = " ".join(services[name]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{services[name]['environment']['PORT']}/readyz" in test


def test_nginx_is_healthy_when_it_serves_through_the_facade(services):
    assert "http://127.0.0.1:8080/" in " ".join(services["nginx"]["healthcheck"]["test"])


def test_start_order(services):
    def conditions(name):
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    done, healthy = "service_completed_successfully", "service_healthy"
    assert conditions("migrate") == {"postgres": healthy}
    assert conditions("catalog-migrate") == {"catalog-postgres": healthy}
    assert conditions("catalog") == {"catalog-postgres": healthy, "catalog-migrate": done}
    assert conditions("payments-migrate") == {"payments-postgres": healthy}
    assert conditions("payments") == {"payments-postgres": healthy, "payments-migrate": done}
    # The stage is set once the databases are ready and both services answer.
    assert conditions("stage") == {"migrate": done, "catalog": healthy, "payments": healthy}
    assert conditions("monolith") == {"postgres": healthy, "stage": done}
    assert conditions("relay") == {"postgres": healthy, "stage": done}
    # nginx resolves every upstream's name when it starts.
    assert conditions("nginx") == {"monolith": healthy, "catalog": healthy, "payments": healthy}


@pytest.mark.parametrize(
    "name, commands",
    [
        ("migrate", ["manage.py migrate", "manage.py seed_shop"]),
        ("catalog-migrate", ["manage.py migrate", "manage.py seed_catalog"]),
        ("payments-migrate", ["manage.py migrate", "manage.py seed_payments"]),
        ("stage", ["manage.py set_stage 0 --catalog-url http://catalog:8002 --payments-url http://payments:8003"]),
    ],
)
def test_one_offs_run_their_commands_and_exit(services, name, commands):
    service = services[name]
    command = " ".join(service["command"])
    for expected in commands:
        assert expected in command
    assert service.get("restart", "no") == "no"
    assert "healthcheck" not in service


def test_shop_stage_chooses_the_stage(services, stage_1_services, stage_2_services):
    def others(services):
        return {name: service for name, service in services.items() if name not in ("stage", "nginx")}

    for stage, staged in enumerate([services, stage_1_services, stage_2_services]):
        assert staged["stage"]["command"][3] == str(stage)
        assert staged["nginx"]["environment"]["SHOP_STAGE"] == str(stage)
        # Nothing else depends on the stage.
        assert others(staged) == others(services)


def test_the_stage_is_set_against_both_services(services):
    catalog_url = f"http://catalog:{services['catalog']['environment']['PORT']}"
    payments_url = f"http://payments:{services['payments']['environment']['PORT']}"
    assert services["stage"]["command"][-4:] == ["--catalog-url", catalog_url, "--payments-url", payments_url]
    assert services["monolith"]["environment"]["CATALOG_SERVICE_URL"] == catalog_url
    assert services["monolith"]["environment"]["PAYMENTS_SERVICE_URL"] == payments_url


@pytest.mark.parametrize(
    "one_offs, service, context",
    [
        (["migrate", "stage"], "monolith", ROOT),
        (["catalog-migrate"], "catalog", ROOT / "extracted" / "catalog"),
        (["payments-migrate"], "payments", ROOT / "extracted" / "payments"),
    ],
)
def test_one_offs_run_their_service_s_image(services, one_offs, service, context):
    assert Path(services[service]["build"]["context"]) == context
    for name in one_offs:
        assert services[name]["image"] == services[service]["image"]
        assert services[name]["environment"] == services[service]["environment"]


def test_the_relay_runs_in_the_monolith_s_image_with_its_environment_and_database(services):
    # As `shop up` runs it (shopctl/stack.py): `manage.py payments_relay` with the monolith's
    # environment, its DATABASE_URL and PAYMENTS_SERVICE_URL included. It listens on no port.
    relay, monolith = services["relay"], services["monolith"]
    assert relay["command"] == ["python", "manage.py", "payments_relay"]
    assert relay["image"] == monolith["image"]
    assert Path(relay["build"]["context"]) == ROOT
    assert relay["environment"] == monolith["environment"]
    assert relay["restart"] == "unless-stopped"
    assert not relay.get("ports") and not relay.get("expose")


def test_nginx_publishes_8080_grafana_and_jaeger_their_uis_and_nothing_else_publishes_a_port(services):
    ports = services["nginx"]["ports"]
    assert len(ports) == 1
    host_ip, published, target = parse_port(ports[0])
    assert (published, target) == (8080, 8080)
    assert host_ip in ("127.0.0.1", "")
    # Grafana's page, on this machine only; Prometheus, the exporter and the services' /metrics stay inside.
    assert [parse_port(port) for port in services["grafana"]["ports"]] == [("127.0.0.1", 3000, 3000)]
    (jaeger_ui,) = services["jaeger"]["ports"]
    assert parse_port(jaeger_ui) == ("127.0.0.1", 16686, 16686)  # on this machine only
    assert sorted(name for name, service in services.items() if service.get("ports")) == ["grafana", "jaeger", "nginx"]


def test_jaeger_is_the_v2_all_in_one_receiving_otlp_over_http(services):
    image, _, tag = services["jaeger"]["image"].partition(":")
    assert image == "jaegertracing/jaeger" and tag.split(".")[0] == "2"
    assert "4318" in services["jaeger"]["expose"]


@pytest.mark.parametrize(
    "name", ["migrate", "catalog-migrate", "payments-migrate", "stage", "monolith", "catalog", "payments", "relay"]
)
def test_every_django_process_sends_its_traces_to_jaeger(services, name):
    environment = services[name]["environment"]
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert environment["OTEL_TRACES_EXPORTER"] == "otlp"  # not files in the container, which nobody reads
    assert 0 < float(environment["TRACE_SAMPLE_RATE"]) <= 1


def test_the_trace_sample_rate_comes_from_the_environment(docker_compose):
    overridden = load_services(docker_compose, TRACE_SAMPLE_RATE="0.1")
    assert {overridden[name]["environment"]["TRACE_SAMPLE_RATE"] for name in ("monolith", "catalog", "payments")} == {
        "0.1"
    }


@pytest.mark.parametrize("name, port", [("monolith", 8001), ("catalog", 8002), ("payments", 8003)])
def test_services_listen_on_the_contract_s_ports(services, name, port):
    # CONTRACT.md's defaults, inside the compose network.
    assert services[name]["environment"]["PORT"] == str(port)
    assert services[name]["expose"] == [str(port)]
    assert f"{name}:{port}" in services["nginx"]["environment"].values()


@pytest.mark.parametrize(
    "name, database",
    [
        ("monolith", "postgres"),
        ("catalog", "catalog-postgres"),
        ("payments", "payments-postgres"),
    ],
)
def test_each_service_has_its_own_postgres(services, name, database):
    url = urlsplit(services[name]["environment"]["DATABASE_URL"])
    postgres = services[database]["environment"]
    assert url.scheme in ("postgres", "postgresql")
    assert url.hostname == database and (url.port or 5432) == 5432
    assert (url.username, url.password, url.path.lstrip("/")) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )


def test_the_databases_are_separate(services):
    urls = [urlsplit(services[name]["environment"]["DATABASE_URL"]) for name in ("monolith", "catalog", "payments")]
    assert len({url.hostname for url in urls}) == 3 and len({url.path for url in urls}) == 3
    volumes = [
        volume_mount(services[name]["volumes"][0])[0] for name in ("postgres", "catalog-postgres", "payments-postgres")
    ]
    assert len(set(volumes)) == 3


@pytest.mark.parametrize(
    "name, settings",
    [
        ("monolith", "monolith.settings.local"),
        ("catalog", "catalog_service.settings.local"),
        ("payments", "payments_service.settings.local"),
    ],
)
def test_services_run_the_local_settings_that_seed_the_demo_users(services, name, settings):
    # CONTRACT.md: the local run has admin/admin (and demo/demo); production settings never do.
    assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == settings


@pytest.mark.parametrize(
    "service, variable",
    [
        ("catalog", "CATALOG_SERVICE_TOKEN"),
        ("payments", "PAYMENTS_SERVICE_TOKEN"),
    ],
)
def test_the_monolith_sends_the_token_the_service_expects(services, service, variable):
    token = services["monolith"]["environment"][variable]
    assert token == SECRETS[variable]
    assert services[service]["environment"]["SERVICE_TOKENS"].startswith(f"monolith={token}")
    # A token of its own for each service: the other service does not know this one.
    other = {"catalog": "payments", "payments": "catalog"}[service]
    assert token not in services[other]["environment"]["SERVICE_TOKENS"]


@pytest.mark.parametrize("name", ["monolith", "catalog", "payments"])
def test_each_project_has_a_secret_key_of_its_own_from_the_environment(services, name):
    assert services[name]["environment"]["SECRET_KEY"] == SECRETS[f"{name.upper()}_SECRET_KEY"]


@pytest.mark.parametrize("missing", run_secrets.NAMES)
def test_compose_refuses_to_start_without_a_generated_secret(docker_compose, missing):
    # No working default in the file: without .env (`python -m shopctl.secrets .env`) nothing starts.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        **{name: value for name, value in SECRETS.items() if name != missing},
    }
    result = subprocess.run(
        [
            docker_compose,
            "--project-directory",
            str(ROOT),
            "--env-file",
            str(NO_ENV_FILE),
            "-f",
            str(COMPOSE_FILE),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert result.returncode != 0
    assert missing in result.stderr and "shopctl.secrets" in result.stderr


def test_nginx_renders_the_facade_template_over_nginx_conf(services):
    nginx = services["nginx"]
    assert nginx["environment"]["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    mounts = {target: source for source, target in (volume_mount(v) for v in nginx["volumes"])}
    assert Path(mounts["/etc/nginx/templates/nginx.conf.template"]) == ROOT / "proxy" / "nginx.conf"


def test_nginx_mounts_the_route_files_beside_the_config_it_renders(services):
    # nginx.conf includes routes/stage-${SHOP_STAGE}.conf, relative to /etc/nginx/nginx.conf.
    mounts = {Path(source): target for source, target in (volume_mount(v) for v in services["nginx"]["volumes"])}
    assert mounts[nginx.ROUTES] == "/etc/nginx/routes"
    assert "include routes/stage-${SHOP_STAGE}.conf;" in (ROOT / "proxy" / "nginx.conf").read_text()


def test_nginx_defines_every_placeholder_of_the_template(services):
    # The image's envsubst fills only variables that are defined; one left out would reach
    # nginx as a literal ${NAME} and stop it from starting.
    defined = set(services["nginx"]["environment"])
    missing = template_placeholders() - defined
    assert not missing, f"nginx's environment in docker-compose.yml lacks {sorted(missing)}"


def test_nginx_s_settings_default_to_shopctl_s_and_follow_the_shell(docker_compose, services):
    environment = services["nginx"]["environment"]
    assert {name: environment[name] for name in nginx.SETTING_DEFAULTS} == nginx.SETTING_DEFAULTS
    overridden = load_services(docker_compose, FACADE_LOGIN_PER_MINUTE="5")
    assert overridden["nginx"]["environment"]["FACADE_LOGIN_PER_MINUTE"] == "5"


def test_the_facade_addresses(services):
    environment = services["nginx"]["environment"]
    assert environment["MONOLITH_ADDR"] == f"monolith:{services['monolith']['environment']['PORT']}"
    assert environment["CATALOG_ADDR"] == f"catalog:{services['catalog']['environment']['PORT']}"
    assert environment["PAYMENTS_ADDR"] == f"payments:{services['payments']['environment']['PORT']}"
    assert environment["FACADE_ADDR"] in ("8080", "0.0.0.0:8080")


# The template as the image fills it, here: envsubst with every defined variable, as
# 20-envsubst-on-templates.sh does. The upstreams are local addresses: `nginx -t` resolves their
# names, and `monolith`, `catalog` and `payments` exist only in Docker's network.
LOCAL_ADDRESSES = {
    "facade": "127.0.0.1:8080",
    "monolith": "127.0.0.1:8001",
    "catalog": "127.0.0.1:8002",
    "payments": "127.0.0.1:8003",
}
IMAGE_ENVSUBST = r"""
defined_envs=$(printf '${%s} ' $(awk "END { for (name in ENVIRON) { print name } }" < /dev/null))
envsubst "$defined_envs" < "$0"
"""


def image_config(tmp_path, stage):
    """/etc/nginx as the image makes it for SHOP_STAGE=stage: the filled template, the route files beside it.
    The facade's status listens where shopctl would put it (a unix socket beside the config), so that
    the two renderings can be compared."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SHOP_STAGE": stage,
        "FACADE_STATUS_LISTEN": f"unix:{nginx.status_socket(tmp_path / 'shopctl')}",
        **{f"{name.upper()}_ADDR": address for name, address in LOCAL_ADDRESSES.items()},
        **nginx.SETTING_DEFAULTS,  # as docker-compose.yml sets them (a test above checks)
    }
    result = subprocess.run(
        ["sh", "-c", IMAGE_ENVSUBST, str(ROOT / "proxy" / "nginx.conf")],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    prefix = tmp_path / "image"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(result.stdout)
    shutil.copytree(nginx.ROUTES, prefix / "routes")  # the mount
    return prefix


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_the_image_renders_what_shopctl_renders_and_nginx_accepts(tmp_path, stage):
    prefix = image_config(tmp_path, str(stage))

    expected = nginx.render(tmp_path / "shopctl", stage, LOCAL_ADDRESSES, nginx.SETTING_DEFAULTS).read_text()
    assert (prefix / "nginx.conf").read_text() == expected
    nginx.check(prefix)  # `nginx -t`, ShopError with nginx's complaint


@pytest.mark.parametrize("stage", ["3", "one"])
def test_nginx_refuses_a_stage_that_has_no_route_file(tmp_path, stage):
    # The `stage` one-off refuses it first (set_stage), so nginx never starts; and if it did, it would not.
    with pytest.raises(nginx.ShopError, match=f"stage-{stage}.conf"):
        nginx.check(image_config(tmp_path, stage))


def test_the_dockerfile_copies_what_exists_and_runs_the_shared_gunicorn_config():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which is not in the repository"
    assert (ROOT / "shopctl" / "gunicorn_config.py").exists()
    assert '"python:shopctl.gunicorn_config"' in dockerfile
    assert re.search(r"^USER (?!root\b)\S+", dockerfile, re.MULTILINE), "the image must not run as root"
    assert re.search(r"^HEALTHCHECK .*/healthz", dockerfile, re.MULTILINE | re.DOTALL)


def template_placeholders():
    """The ${UPPER_CASE} names in proxy/nginx.conf outside its comments."""
    lines = (ROOT / "proxy" / "nginx.conf").read_text().splitlines()
    code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", code))


def parse_port(port):
    """(host_ip, published, target) from the short or the long syntax."""
    if isinstance(port, dict):
        return port.get("host_ip", ""), int(port["published"]), int(port["target"])
    spec = str(port).split("/")[0]
    *host, published, target = spec.rsplit(":", 2) if spec.count(":") >= 2 else ["", *spec.split(":")]
    return (host[0] if host else ""), int(published), int(target)


def volume_mount(volume):
    """(source, target) from the short or the long syntax."""
    if isinstance(volume, dict):
        return volume["source"], volume["target"]
    source, target, *_ = volume.split(":")
    return source, target


OBSERVABILITY = ROOT / "deploy" / "observability"


def test_prometheus_scrapes_every_process_at_its_own_address(services):
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: [target for static in job["static_configs"] for target in static["targets"]]
        for job in config["scrape_configs"]
    }
    exporter_port = services["nginx-exporter"]["expose"][0]
    assert targets == {
        "facade": [f"nginx-exporter:{exporter_port}"],
        **{name: [f"{name}:{services[name]['environment']['PORT']}"] for name in ("monolith", "catalog", "payments")},
    }
    mounts = {Path(source): target for source, target in (volume_mount(v) for v in services["prometheus"]["volumes"])}
    assert mounts[OBSERVABILITY / "prometheus.yml"] in " ".join(services["prometheus"]["command"])


def test_the_scraped_names_are_allowed_hosts_and_the_workers_add_up(services):
    for name in ("monolith", "catalog", "payments"):
        environment = services[name]["environment"]
        assert name in environment["ALLOWED_HOSTS"].split(","), name
        assert environment["PROMETHEUS_MULTIPROC_DIR"], name


def test_the_facade_status_is_where_the_exporter_and_the_monolith_read_it(services):
    listen = services["nginx"]["environment"]["FACADE_STATUS_LISTEN"]
    assert f"--nginx.scrape-uri=http://nginx:{listen}/status" in services["nginx-exporter"]["command"]
    assert services["monolith"]["environment"]["FACADE_STATUS_URL"] == f"http://nginx:{listen}/status"
    assert listen not in {str(parse_port(port)[1]) for port in services["nginx"]["ports"]}


def test_grafana_provisions_the_prometheus_source_and_a_dashboard_that_uses_it(services):
    mounts = {Path(source): target for source, target in (volume_mount(v) for v in services["grafana"]["volumes"])}
    provisioning, dashboards = OBSERVABILITY / "grafana" / "provisioning", OBSERVABILITY / "grafana" / "dashboards"
    assert mounts[provisioning] == "/etc/grafana/provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert source["url"] == f"http://prometheus:{services['prometheus']['expose'][0]}"
    provider = yaml.safe_load((provisioning / "dashboards" / "shop.yml").read_text())["providers"][0]
    assert mounts[dashboards] == provider["options"]["path"]

    dashboard = json.loads((dashboards / "migration.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert all(panel["datasource"]["uid"] == source["uid"] for panel in dashboard["panels"])
    # The staff page's figures: requests (the facade's and the Django processes'), 5xx, p50 and p95.
    for metric in (
        "nginx_http_requests_total",
        "django_http_responses_before_middlewares_total",
        "django_http_responses_total_by_status_total",
        "django_http_requests_latency_including_middlewares_seconds_bucket",
    ):
        assert any(metric in expression for expression in expressions), metric
    assert any("histogram_quantile(0.95" in expression for expression in expressions)
