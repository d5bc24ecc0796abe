"""deploy/k8s: structure, cross-references between manifests, and agreement with the app and the image."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.routing import Route

from bot.config import Settings
from bot.core.library.load import load_library
from bot.wiring import create_app
from tests.deploy import (
    K8S,
    ROOT,
    dockerfile_env,
    dockerfile_instructions,
    dockerfile_user,
    final_stage,
    load_yaml,
    load_yaml_all,
    secret_setting_names,
    setting_names,
    shutdown_budget_seconds,
)

KUSTOMIZATION = load_yaml(K8S / "kustomization.yaml")
MANIFEST_FILES = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
DOCS: list[tuple[Path, dict[str, Any]]] = [(path, doc) for path in MANIFEST_FILES for doc in load_yaml_all(path)]
IMAGE = final_stage(dockerfile_instructions())


def _one(kind: str) -> dict[str, Any]:
    found = [doc for _, doc in DOCS if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


DEPLOYMENT = _one("Deployment")
POD = DEPLOYMENT["spec"]["template"]
POD_LABELS: dict[str, str] = POD["metadata"]["labels"]
(CONTAINER,) = POD["spec"]["containers"]
SERVICE = _one("Service")
INGRESS = _one("Ingress")
CONFIGMAP = _one("ConfigMap")
SECRET = _one("Secret")


def _matches_pod(selector: dict[str, str]) -> bool:
    return bool(selector) and all(POD_LABELS.get(k) == v for k, v in selector.items())


def _container_port(ref: int | str) -> int:
    for port in CONTAINER["ports"]:
        if ref in (port["containerPort"], port.get("name")):
            return int(port["containerPort"])
    raise AssertionError(f"no container port {ref!r}")


def _clean_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)


def _app_paths(monkeypatch: pytest.MonkeyPatch, **env: str) -> set[str]:
    """Route paths of the real app. No REDIS_URL: it is built on the in-memory store, without Redis."""
    app = create_app(_clean_settings(monkeypatch, **env), load_library(ROOT / "flows"))
    return {route.path for route in app.routes if isinstance(route, Route)}


# ------------------------------------------------------------------------------------------- structure


def test_every_document_has_the_basics() -> None:
    for path, doc in DOCS:
        assert isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str), path.name
        assert doc.get("metadata", {}).get("name"), f"{path.name}: metadata.name"
        assert "namespace" not in doc["metadata"], f"{path.name}: leave the namespace to kubectl/kustomize"


def test_expected_kinds_and_api_versions() -> None:
    versions = {doc["kind"]: doc["apiVersion"] for _, doc in DOCS}
    assert versions == {
        "Deployment": "apps/v1",
        "Service": "v1",
        "Ingress": "networking.k8s.io/v1",
        "HorizontalPodAutoscaler": "autoscaling/v2",
        "PodDisruptionBudget": "policy/v1",
        "ConfigMap": "v1",
        "Secret": "v1",
    }


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    assert KUSTOMIZATION["kind"] == "Kustomization"
    resources = KUSTOMIZATION["resources"]
    for resource in resources:
        assert (K8S / resource).is_file(), resource
    expected = {p.name for p in MANIFEST_FILES} - {"secret.example.yaml"}
    assert set(resources) == expected
    # applying the placeholders would overwrite an operator's real Secret
    assert "secret.example.yaml" not in resources


def test_kustomization_image_is_the_deployments() -> None:
    image_names = {entry["name"] for entry in KUSTOMIZATION.get("images", [])}
    assert CONTAINER["image"].rsplit(":", 1)[0] in image_names


# ------------------------------------------------------------------------------------------- Deployment


def test_deployment_replicas_and_selector() -> None:
    assert DEPLOYMENT["spec"]["replicas"] >= 2
    assert _matches_pod(DEPLOYMENT["spec"]["selector"]["matchLabels"])
    assert DEPLOYMENT["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_probes() -> None:
    readiness, liveness = CONTAINER["readinessProbe"], CONTAINER["livenessProbe"]
    assert readiness["httpGet"]["path"] == "/readyz?store=optional", "a Redis outage must not empty the Service"
    assert liveness["httpGet"]["path"] == "/healthz", "liveness must not depend on Redis"
    if "startupProbe" in CONTAINER:
        assert CONTAINER["startupProbe"]["httpGet"]["path"] == "/healthz"
    for probe in (readiness, liveness, CONTAINER.get("startupProbe")):
        if probe:
            assert _container_port(probe["httpGet"]["port"]) == 8000


async def test_probe_paths_exist_in_the_app_and_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _clean_settings(monkeypatch)
    app = create_app(settings, load_library(ROOT / "flows"))
    paths = {route.path for route in app.routes if isinstance(route, Route)}
    probes = {CONTAINER[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe", "startupProbe")}
    probe_paths = {probe.partition("?")[0] for probe in probes}
    assert probe_paths <= paths
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        for path in sorted(probes):
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text)


def test_graceful_termination() -> None:
    spec = POD["spec"]
    command = CONTAINER["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep", "preStop sleep: load balancers stop sending before SIGTERM"
    pre_stop = int(command[1])
    assert pre_stop >= 5
    grace = spec["terminationGracePeriodSeconds"]
    assert grace >= 35
    assert grace >= pre_stop + shutdown_budget_seconds(), "preStop + open requests + background turns must fit"


def test_resources() -> None:
    resources = CONTAINER["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), kind


def test_security_context() -> None:
    pod_sc, sc = POD["spec"]["securityContext"], CONTAINER["securityContext"]
    assert pod_sc["runAsNonRoot"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"]["drop"] == ["ALL"]
    user = dockerfile_user(IMAGE)
    assert user is not None
    assert str(pod_sc["runAsUser"]) == user.split(":")[0], "runAsUser is the Dockerfile's uid"
    assert POD["spec"]["automountServiceAccountToken"] is False
    # a writable /tmp, since the root filesystem is read-only
    mounts = {m["mountPath"]: m["name"] for m in CONTAINER.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in POD["spec"].get("volumes", [])}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_spread_over_nodes() -> None:
    spec = POD["spec"]
    constraints = spec.get("topologySpreadConstraints", [])
    anti = spec.get("affinity", {}).get("podAntiAffinity")
    assert constraints or anti
    for constraint in constraints:
        assert _matches_pod(constraint["labelSelector"]["matchLabels"])
    assert any(c["topologyKey"] == "kubernetes.io/hostname" for c in constraints) or anti


def test_prometheus_annotations() -> None:
    annotations = POD["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert _container_port(int(annotations["prometheus.io/port"])) == 8000
    assert annotations["prometheus.io/path"] == "/metrics"


def test_metrics_route_exists_where_prometheus_scrapes(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _app_paths(monkeypatch)
    assert "/metrics" in paths
    assert POD["metadata"]["annotations"]["prometheus.io/path"] in paths


def test_container_port_agrees_with_the_image_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    image_env = dockerfile_env(IMAGE)
    pod_env = {e["name"]: e["value"] for e in CONTAINER.get("env", []) if "value" in e}
    port = int(pod_env.get("PORT", image_env["PORT"]))
    assert _container_port("http") == port
    exposed = {args.split("/")[0] for keyword, args in IMAGE if keyword == "EXPOSE"}
    assert str(port) in exposed
    settings = _clean_settings(monkeypatch, **pod_env)
    assert settings.port == port and settings.host == "0.0.0.0"


def test_environment_names_are_settings() -> None:
    names = {e["name"] for e in CONTAINER.get("env", [])}
    names |= set(CONFIGMAP["data"]) | set(SECRET["stringData"])
    unknown = names - setting_names()
    assert not unknown, f"names that Settings does not read (extra='ignore' would drop them silently): {unknown}"


def test_env_from_the_configmap_and_the_secret() -> None:
    refs = CONTAINER["envFrom"]
    config_refs = [r["configMapRef"]["name"] for r in refs if "configMapRef" in r]
    secret_refs = [r["secretRef"]["name"] for r in refs if "secretRef" in r]
    assert config_refs == [CONFIGMAP["metadata"]["name"]]
    assert secret_refs == [SECRET["metadata"]["name"]]


# ------------------------------------------------------------------------------------------- ConfigMap, Secret


def test_configmap_holds_no_secrets_and_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    data = CONFIGMAP["data"]
    assert not set(data) & secret_setting_names(), "credentials belong in the Secret"
    assert all(isinstance(v, str) for v in data.values()), "ConfigMap values must be strings (quote them)"
    settings = _clean_settings(monkeypatch, **data)
    assert settings.log_message_text is False


def test_secret_example_has_placeholders_only() -> None:
    assert SECRET["type"] == "Opaque"
    data = SECRET["stringData"]
    assert {"REDIS_URL", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SLACK_SIGNING_SECRET"} <= set(data)
    assert set(data) <= secret_setting_names() | {"SLACK_CLIENT_ID"}
    for key, value in data.items():
        assert "CHANGE_ME" in value, f"{key}: placeholders only in the example"


# ------------------------------------------------------------------------------------------- Service, Ingress


def test_service_selects_the_pods_and_targets_the_container_port() -> None:
    assert _matches_pod(SERVICE["spec"]["selector"])
    for port in SERVICE["spec"]["ports"]:
        assert _container_port(port["targetPort"]) == 8000


def _service_port(ref: dict[str, Any]) -> dict[str, Any]:
    for port in SERVICE["spec"]["ports"]:
        if ref.get("name") == port.get("name") or ref.get("number") == port["port"]:
            return dict(port)
    raise AssertionError(f"the Service has no port {ref}")


def _ingress_paths() -> list[dict[str, Any]]:
    return [path for rule in INGRESS["spec"]["rules"] for path in rule["http"]["paths"]]


def test_ingress_backends_are_the_service() -> None:
    for path in _ingress_paths():
        backend = path["backend"]["service"]
        assert backend["name"] == SERVICE["metadata"]["name"]
        _service_port(backend["port"])
        assert path["pathType"] in {"Exact", "Prefix"}


def test_ingress_tls() -> None:
    (tls,) = INGRESS["spec"]["tls"]
    assert tls["secretName"]
    assert set(tls["hosts"]) == {rule["host"] for rule in INGRESS["spec"]["rules"]}


def _exposed(route: str) -> bool:
    for path in _ingress_paths():
        prefix = path["path"].rstrip("/")
        if route == path["path"] or (path["pathType"] == "Prefix" and route.startswith(prefix + "/")):
            return True
    return False


def test_ingress_exposes_the_webhooks_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the app with every channel on (fake credentials, no network) and compare its routes."""
    paths = _app_paths(
        monkeypatch,
        LINE_CHANNEL_SECRET="x",
        LINE_CHANNEL_ACCESS_TOKEN="x",
        SLACK_SIGNING_SECRET="x",
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="x",
    )
    assert {"/line/webhook", "/slack/events"} <= paths
    internal = {"/healthz", "/readyz", "/metrics"}
    for route in sorted(paths - internal):
        assert _exposed(route), f"{route} is not reachable through the Ingress"
    for route in sorted(internal):
        assert not _exposed(route), f"{route} should stay inside the cluster"


# ------------------------------------------------------------------------------------------- HPA, PDB


def test_hpa_targets_the_deployment_on_cpu() -> None:
    hpa = _one("HorizontalPodAutoscaler")["spec"]
    target = hpa["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        DEPLOYMENT["apiVersion"],
        "Deployment",
        DEPLOYMENT["metadata"]["name"],
    )
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] >= hpa["minReplicas"]
    assert DEPLOYMENT["spec"]["replicas"] >= hpa["minReplicas"]
    cpu = [m for m in hpa["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
    assert cpu and cpu[0]["resource"]["target"]["type"] == "Utilization"
    assert "cpu" in CONTAINER["resources"]["requests"], "CPU utilisation is relative to the request"


def test_pdb() -> None:
    pdb = _one("PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] == 1
    assert pdb["minAvailable"] < DEPLOYMENT["spec"]["replicas"], "otherwise a node drain would block"
    assert _matches_pod(pdb["selector"]["matchLabels"])


# ------------------------------------------------------------------------------------------- optional tools


def test_schemas() -> None:
    """Every manifest against the Kubernetes OpenAPI schemas (strict: unknown fields fail), when installed."""
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for version in ("1.29.0", kubernetes_validate.latest_version()):
        for path, doc in DOCS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{path.name} ({doc['kind']}) against {version}: {exc.message}")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_builds() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    kinds = {doc["kind"] for doc in built}
    assert kinds == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap"}
