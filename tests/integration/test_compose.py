"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

docker-compose (Debian's package, 1.29) parses and validates the file against the compose
schema it ships, resolves interpolation and the YAML merge keys, and checks that every
depends_on names a service: `config -q` is what `up` would refuse. The tests then read the
normalised file it prints. A file that 1.29 accepts is accepted by Compose v2 too.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
INSTALL_HINT = "apt-get install -y docker-compose"


@pytest.fixture(scope="module")
def docker_compose():
    binary = shutil.which("docker-compose")
    if binary is None:
        message = f"docker-compose is not installed: `{INSTALL_HINT}` (Debian's package, no Docker engine needed)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def run_compose(binary, *args):
    # A clean environment: a developer's FACADE_PORT or MONOLITH_SECRET_KEY must not change
    # what is checked, and no DOCKER_HOST is needed for `config`.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), *args],
        capture_output=True, text=True, env=env, timeout=60,
    )


@pytest.fixture(scope="module")
def config(docker_compose):
    result = run_compose(docker_compose, "config")
    assert result.returncode == 0, f"docker-compose rejects {COMPOSE_FILE.name}:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def services(config):
    return config["services"]


def test_docker_compose_accepts_the_file(docker_compose):
    result = run_compose(docker_compose, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_stage_0_has_postgres_migrate_monolith_and_nginx(services):
    assert set(services) == {"postgres", "migrate", "monolith", "nginx"}


@pytest.mark.parametrize("name", ["postgres", "monolith", "nginx"])
def test_long_running_services_have_a_healthcheck(services, name):
    test = services[name].get("healthcheck", {}).get("test")
    assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"


def test_postgres_is_healthy_when_pg_isready_says_so(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_monolith_is_healthy_when_ready(services):
    # /readyz reaches the database; /healthz would call a monolith without one healthy.
    test = " ".join(services["monolith"]["healthcheck"]["test"])
    assert "/readyz" in test
    assert f":{services['monolith']['environment']['PORT']}/" in test


def test_nginx_is_healthy_when_it_serves_through_the_facade(services):
    assert "http://127.0.0.1:8080/" in " ".join(services["nginx"]["healthcheck"]["test"])


def test_start_order(services):
    def conditions(name):
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    assert conditions("migrate") == {"postgres": "service_healthy"}
    assert conditions("monolith") == {"postgres": "service_healthy", "migrate": "service_completed_successfully"}
    assert conditions("nginx") == {"monolith": "service_healthy"}


def test_migrate_is_a_one_off_that_migrates_and_seeds(services):
    migrate = services["migrate"]
    command = " ".join(migrate["command"])
    assert "manage.py migrate" in command and "manage.py seed_shop" in command
    assert migrate.get("restart", "no") == "no"
    assert "healthcheck" not in migrate


def test_migrate_and_monolith_run_the_same_image(services):
    migrate, monolith = services["migrate"], services["monolith"]
    assert migrate["image"] == monolith["image"]
    assert Path(monolith["build"]["context"]) == ROOT
    assert migrate["environment"] == monolith["environment"]


def test_nginx_publishes_8080_and_nothing_else_does(services):
    ports = services["nginx"]["ports"]
    assert len(ports) == 1
    host_ip, published, target = parse_port(ports[0])
    assert (published, target) == (8080, 8080)
    assert host_ip in ("127.0.0.1", "")
    assert [name for name, service in services.items() if service.get("ports")] == ["nginx"]


def test_the_monolith_database_is_the_postgres_service(services):
    url = urlsplit(services["monolith"]["environment"]["DATABASE_URL"])
    postgres = services["postgres"]["environment"]
    assert url.scheme in ("postgres", "postgresql")
    assert url.hostname == "postgres" and (url.port or 5432) == 5432
    assert (url.username, url.password, url.path.lstrip("/")) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"]
    )


def test_the_monolith_runs_the_local_settings_that_seed_the_demo_users(services):
    # CONTRACT.md: the local run has admin/admin and demo/demo; production settings never do.
    assert services["monolith"]["environment"]["DJANGO_SETTINGS_MODULE"] == "monolith.settings.local"


def test_nginx_renders_the_facade_template_over_nginx_conf(services):
    nginx = services["nginx"]
    assert nginx["environment"]["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    mounts = {target: source for source, target in (volume_mount(v) for v in nginx["volumes"])}
    assert Path(mounts["/etc/nginx/templates/nginx.conf.template"]) == ROOT / "proxy" / "nginx.conf"


def test_nginx_defines_every_placeholder_of_the_template(services):
    # The image's envsubst fills only variables that are defined; one left out would reach
    # nginx as a literal ${NAME} and stop it from starting.
    environment = services["nginx"]["environment"]
    missing = template_placeholders() - set(environment)
    assert not missing, f"nginx's environment in docker-compose.yml lacks {sorted(missing)}"


def test_the_facade_routes_everything_to_the_monolith_at_stage_0(services):
    environment = services["nginx"]["environment"]
    assert environment["MONOLITH_ADDR"] == f"monolith:{services['monolith']['environment']['PORT']}"
    assert environment["STAGE_UPSTREAMS"] == "" and environment["STAGE_ROUTES"] == ""
    assert environment["FACADE_ADDR"] in ("8080", "0.0.0.0:8080")


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
