"""deploy/k8s: structure, cross-references between manifests, and agreement with the app and the image."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.routing import Route

from bot.config import Settings
from bot.core.library.load import load_library
from bot.store.health import SAFE_POLICY
from bot.store.memory import MemorySessionStore
from bot.store.redis_url import connect
from bot.wiring import create_app
from tests.deploy import (
    COMPOSE,
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
# The overlay for a Redis outside the cluster (beside deploy/k8s: kustomize refuses an overlay inside its base).
EXTERNAL = K8S.parent / "k8s-external-redis"
EXTERNAL_KUSTOMIZATION = load_yaml(EXTERNAL / "kustomization.yaml")
EXTERNAL_DOCS: list[tuple[Path, dict[str, Any]]] = [
    (path, doc)
    for path in sorted(p for p in EXTERNAL.glob("*.yaml") if p.name != "kustomization.yaml")
    for doc in load_yaml_all(path)
]
# Peak RSS of one `serve` process at saturation (the LINE path of `make bench`, 2 CPUs, 2026-12-07): 249 MiB;
# ~180 MiB right after start.
MEASURED_RSS_MIB = 249


def _one(kind: str) -> dict[str, Any]:
    found = [doc for _, doc in DOCS if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _named(kind: str, name: str) -> dict[str, Any]:
    found = [doc for _, doc in DOCS if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


DEPLOYMENT = _one("Deployment")
POD = DEPLOYMENT["spec"]["template"]
POD_LABELS: dict[str, str] = POD["metadata"]["labels"]
(CONTAINER,) = POD["spec"]["containers"]
SERVICE = _named("Service", DEPLOYMENT["metadata"]["name"])
INGRESS = _one("Ingress")
CONFIGMAP = _one("ConfigMap")
SECRET = _one("Secret")
REDIS = _one("StatefulSet")
REDIS_POD = REDIS["spec"]["template"]
REDIS_POD_LABELS: dict[str, str] = REDIS_POD["metadata"]["labels"]
(REDIS_CONTAINER,) = REDIS_POD["spec"]["containers"]
REDIS_SERVICE = _named("Service", REDIS["spec"]["serviceName"])


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _matches_pod(selector: dict[str, str]) -> bool:
    return _selects(selector, POD_LABELS)


def _matches_redis_pod(selector: dict[str, str]) -> bool:
    return _selects(selector, REDIS_POD_LABELS)


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
        "StatefulSet": "apps/v1",
        "NetworkPolicy": "networking.k8s.io/v1",
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
    assert readiness["httpGet"]["path"] == "/readyz", "a pod that cannot reach Redis must not be Ready"
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


class _UnreachableStore(MemorySessionStore):
    """What the app sees while Redis is down (as tests/service/test_web.py's DownStore)."""

    async def ping(self) -> bool:
        return False


async def test_only_readiness_fails_while_the_store_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis down: the pod leaves the Service (readiness 503) but is not restarted (startup, liveness 200)."""
    app = create_app(_clean_settings(monkeypatch), load_library(ROOT / "flows"), _UnreachableStore(60))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        ready = await client.get(CONTAINER["readinessProbe"]["httpGet"]["path"])
        assert ready.status_code == 503 and ready.json()["store"] == "unreachable"
        for probe in ("livenessProbe", "startupProbe"):
            assert (await client.get(CONTAINER[probe]["httpGet"]["path"])).status_code == 200, probe


def test_graceful_termination() -> None:
    spec = POD["spec"]
    command = CONTAINER["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep", "preStop sleep: load balancers stop sending before SIGTERM"
    pre_stop = int(command[1])
    assert pre_stop >= 5
    grace = spec["terminationGracePeriodSeconds"]
    assert grace >= 35
    assert grace >= pre_stop + shutdown_budget_seconds(), "preStop + open requests + background turns must fit"


def _mebibytes(quantity: str) -> float:
    """A Kubernetes memory quantity ("320Mi", "1Gi", "500M", "2G") in MiB."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?", quantity)
    assert match, f"not a memory quantity: {quantity!r}"
    factor = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "k": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    return float(match[1]) * factor.get(match[2] or "", 1 / 2**20)


def test_resources() -> None:
    resources = CONTAINER["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), kind
    request, limit = _mebibytes(resources["requests"]["memory"]), _mebibytes(resources["limits"]["memory"])
    # the scheduler must reserve what a bot really uses, or nodes are overcommitted and bots get evicted
    assert request >= MEASURED_RSS_MIB >= 200
    assert limit >= 1.5 * MEASURED_RSS_MIB and limit >= request, "headroom over the measured peak"


def test_memory_quantity_parser() -> None:
    assert _mebibytes("320Mi") == 320 and _mebibytes("1Gi") == 1024 and round(_mebibytes("500M")) == 477


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
    # REDIS_URL (a secret setting, since a URL may carry a password) is here without credentials
    assert not (set(data) - {"REDIS_URL"}) & secret_setting_names(), "credentials belong in the Secret"
    assert "@" not in data.get("REDIS_URL", ""), "the password is REDIS_PASSWORD, in the Secret"
    assert all(isinstance(v, str) for v in data.values()), "ConfigMap values must be strings (quote them)"
    settings = _clean_settings(monkeypatch, **data)
    assert settings.log_message_text is False


def test_secret_example_has_placeholders_only() -> None:
    assert SECRET["type"] == "Opaque"
    data = SECRET["stringData"]
    assert {"REDIS_PASSWORD", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SLACK_SIGNING_SECRET"} <= set(data)
    # envFrom: the Secret comes after the ConfigMap, so a REDIS_URL here would replace the in-cluster one
    assert "REDIS_URL" not in data, "REDIS_URL belongs in the Secret only with deploy/k8s-external-redis"
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
    # a bot's memory barely follows its load and is seldom handed back: a memory target would never scale down
    assert all(m.get("resource", {}).get("name") != "memory" for m in hpa["metrics"])


def test_pdb() -> None:
    pdb = _one("PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] == 1
    assert pdb["minAvailable"] < DEPLOYMENT["spec"]["replicas"], "otherwise a node drain would block"
    assert _matches_pod(pdb["selector"]["matchLabels"])
    # readiness follows Redis: while it is down no bot is Ready, and a drain must still be able to evict them
    assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


# ------------------------------------------------------------------------------------------- Redis


def _redis_args() -> dict[str, str]:
    """redis-server's `--option value` arguments, by option."""
    argv = [*REDIS_CONTAINER.get("command", []), *REDIS_CONTAINER["args"]]
    assert argv[0] == "redis-server", argv
    options = argv[1:]
    assert all(o.startswith("--") for o in options[::2]) and len(options) % 2 == 0, options
    return dict(zip((o[2:] for o in options[::2]), options[1::2], strict=True))


def _redis_env() -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in REDIS_CONTAINER.get("env", [])}


def _redis_password_ref() -> dict[str, str]:
    """The secretKeyRef of the variable requirepass is expanded from: `$(NAME)` in the args."""
    reference = re.fullmatch(r"\$\((\w+)\)", _redis_args()["requirepass"])
    assert reference, "requirepass must be a $(VAR) from the Secret, never a literal"
    return dict(_redis_env()[reference[1]]["valueFrom"]["secretKeyRef"])


def test_redis_is_a_statefulset_with_a_persistent_volume() -> None:
    spec = REDIS["spec"]
    assert spec["replicas"] == 1, "one server: Redis replicas do not share a data directory"
    assert _matches_redis_pod(spec["selector"]["matchLabels"])
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert _mebibytes(claim["spec"]["resources"]["requests"]["storage"]) >= 1024
    mounts = {m["mountPath"]: m["name"] for m in REDIS_CONTAINER["volumeMounts"]}
    assert mounts["/data"] == claim["metadata"]["name"], "the AOF must live on the claim"
    assert _redis_args()["dir"] == "/data"
    assert spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain", "deleting must not lose data"


def test_redis_persists_and_never_evicts() -> None:
    args = _redis_args()
    assert args["appendonly"] == "yes" and args["appendfsync"] == "everysec"
    # any other policy makes the bots' /readyz fail (bot/store/health.py), and Redis delete sessions silently
    assert args["maxmemory-policy"] == SAFE_POLICY
    # Redis must say "out of memory" (refused writes) before the kernel kills it at the container limit
    maxmemory = re.fullmatch(r"(\d+)mb", args["maxmemory"])
    assert maxmemory, args["maxmemory"]
    assert int(maxmemory[1]) <= 0.7 * _mebibytes(REDIS_CONTAINER["resources"]["limits"]["memory"])


def test_redis_image_is_the_one_compose_runs() -> None:
    assert REDIS_CONTAINER["image"] == load_yaml(COMPOSE)["services"]["redis"]["image"]


def test_redis_password_comes_from_the_bots_secret() -> None:
    ref = _redis_password_ref()
    assert ref["name"] == SECRET["metadata"]["name"]
    assert [r["secretRef"]["name"] for r in CONTAINER["envFrom"] if "secretRef" in r] == [ref["name"]]
    assert ref["key"] == "REDIS_PASSWORD" and ref["key"] in SECRET["stringData"], "the bots read the same key"
    assert "optional" not in ref or ref["optional"] is False, "no Secret, no Redis: never one without a password"


def test_redis_probes_ping_with_the_password() -> None:
    # redis-cli reads REDISCLI_AUTH (so the password is on no command line): the variable requirepass uses.
    # -e: an error reply (NOAUTH, LOADING) fails the probe, where plain redis-cli would exit 0.
    assert _redis_args()["requirepass"] == "$(REDISCLI_AUTH)"
    for name in ("startupProbe", "readinessProbe", "livenessProbe"):
        command = REDIS_CONTAINER[name]["exec"]["command"]
        assert command[0] == "redis-cli" and "-e" in command and command[-1] == "ping", name
        assert not {"-a", "--pass", "--user"} & set(command), f"{name}: the password belongs in REDISCLI_AUTH"


def test_redis_resources_and_security_context() -> None:
    resources = REDIS_CONTAINER["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), kind
    assert resources["requests"]["memory"] == resources["limits"]["memory"], "Redis never uses more than it asked"
    pod_sc, sc = REDIS_POD["spec"]["securityContext"], REDIS_CONTAINER["securityContext"]
    assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] != 0
    assert pod_sc["seccompProfile"]["type"] == "RuntimeDefault"
    assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
    assert sc["readOnlyRootFilesystem"] is True, "Redis writes only to /data"
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert REDIS_POD["spec"]["automountServiceAccountToken"] is False


def test_redis_service_is_headless_and_selects_only_redis() -> None:
    spec = REDIS_SERVICE["spec"]
    assert spec["clusterIP"] == "None"
    assert _matches_redis_pod(spec["selector"]) and not _matches_pod(spec["selector"])
    (port,) = spec["ports"]
    container_ports = {p["name"]: p["containerPort"] for p in REDIS_CONTAINER["ports"]}
    assert port["port"] == 6379 and container_ports[port["targetPort"]] == 6379


def test_bot_and_redis_selectors_stay_apart() -> None:
    """The bots' Service, PDB and spread constraints must never pick a Redis pod, nor the reverse."""
    selectors = [SERVICE["spec"]["selector"], _one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"]]
    selectors += [c["labelSelector"]["matchLabels"] for c in POD["spec"].get("topologySpreadConstraints", [])]
    for selector in selectors:
        assert _matches_pod(selector) and not _matches_redis_pod(selector)
    assert not _matches_pod(REDIS["spec"]["selector"]["matchLabels"])


def test_bots_reach_the_in_cluster_redis_with_the_secrets_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pod's environment (ConfigMap, then Secret) gives a URL naming the Redis Service and its port, and
    the password apart, which the store passes to redis-py."""
    env = {**CONFIGMAP["data"], **SECRET["stringData"]}
    settings = _clean_settings(monkeypatch, **env)
    url = settings.redis_dsn
    assert url is not None
    host = re.fullmatch(r"redis://([\w.-]+):(\d+)/\d+", url)
    assert host, url
    assert host[1] == REDIS_SERVICE["metadata"]["name"] and int(host[2]) == REDIS_SERVICE["spec"]["ports"][0]["port"]
    assert settings.redis_secret == SECRET["stringData"]["REDIS_PASSWORD"]
    connection = connect(url, password=settings.redis_secret)  # no conflict: the URL carries none
    assert connection.client.connection_pool.connection_kwargs["password"] == "CHANGE_ME"  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------- NetworkPolicy


def _policy_for(matches: Callable[[dict[str, str]], bool]) -> dict[str, Any]:
    """The one NetworkPolicy whose podSelector `matches` (`_matches_pod` or `_matches_redis_pod`)."""
    found = [d for _, d in DOCS if d["kind"] == "NetworkPolicy" and matches(d["spec"]["podSelector"]["matchLabels"])]
    assert len(found) == 1, f"expected one NetworkPolicy, found {len(found)}"
    return found[0]


def _ports(rule: dict[str, Any], container_port: Callable[[int | str], int]) -> set[tuple[int, str]]:
    """(port, protocol) of a rule, named ports resolved by `container_port`."""
    return {(container_port(p["port"]), p["protocol"]) for p in rule["ports"]}


def _redis_container_port(ref: int | str) -> int:
    """A port number, or the number of the Redis container's port of that name."""
    for port in REDIS_CONTAINER["ports"]:
        if ref in (port["containerPort"], port.get("name")):
            return int(port["containerPort"])
    assert isinstance(ref, int), f"the Redis container has no port named {ref!r}"
    return ref


def test_every_pod_is_selected_by_a_policy() -> None:
    """A pod no policy selects is open to everything."""
    _policy_for(_matches_pod)
    _policy_for(_matches_redis_pod)


def test_bot_policy_lets_in_the_http_port_only() -> None:
    policy = _policy_for(_matches_pod)["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (rule,) = policy["ingress"]
    # from any source (the ingress controller, a load balancer in IP mode, Prometheus, the kubelet's probes)
    assert "from" not in rule
    assert _ports(rule, _container_port) == {(8000, "TCP")}


def test_bot_policy_lets_out_redis_dns_and_https_only() -> None:
    egress = _policy_for(_matches_pod)["spec"]["egress"]
    allowed = set().union(*(_ports(rule, _redis_container_port) for rule in egress))
    assert allowed == {(6379, "TCP"), (53, "UDP"), (53, "TCP"), (443, "TCP")}
    (to_redis,) = [rule for rule in egress if (6379, "TCP") in _ports(rule, _redis_container_port)]
    assert _ports(to_redis, _redis_container_port) == {(6379, "TCP")}
    (peer,) = to_redis["to"]
    assert set(peer) == {"podSelector"} and _matches_redis_pod(peer["podSelector"]["matchLabels"])


def test_redis_policy_lets_in_the_bots_only_and_nothing_out() -> None:
    policy = _policy_for(_matches_redis_pod)["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (rule,) = policy["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}, "bot pods of this namespace, not every namespace"
    bots = peer["podSelector"]["matchLabels"]
    assert _matches_pod(bots) and not _matches_redis_pod(bots)
    assert _ports(rule, _redis_container_port) == {(6379, "TCP")}
    assert policy["egress"] == []


# ------------------------------------------------------------------------------------------- external Redis


def _delete_patches() -> set[tuple[str, str]]:
    deleted = set()
    for entry in EXTERNAL_KUSTOMIZATION["patches"]:
        patch = yaml.safe_load(entry["patch"])
        if isinstance(patch, dict) and patch.get("$patch") == "delete":
            deleted.add((patch["kind"], patch["metadata"]["name"]))
    return deleted


def test_external_redis_overlay_removes_the_in_cluster_redis() -> None:
    assert "../k8s" in EXTERNAL_KUSTOMIZATION["resources"]
    redis_parts = {(d["kind"], d["metadata"]["name"]) for d in (REDIS, REDIS_SERVICE, _policy_for(_matches_redis_pod))}
    assert _delete_patches() == redis_parts
    # and the ConfigMap's in-cluster REDIS_URL, so that the Secret's is the only one
    removals = [
        (entry["target"], op)
        for entry in EXTERNAL_KUSTOMIZATION["patches"]
        if "target" in entry
        for op in yaml.safe_load(entry["patch"])
    ]
    assert [(t["kind"], t["name"], op["op"], op["path"]) for t, op in removals] == [
        ("ConfigMap", CONFIGMAP["metadata"]["name"], "remove", "/data/REDIS_URL")
    ]


def test_external_redis_overlay_lets_the_bots_reach_redis_ports() -> None:
    (policy,) = [doc["spec"] for _, doc in EXTERNAL_DOCS if doc["kind"] == "NetworkPolicy"]
    assert _matches_pod(policy["podSelector"]["matchLabels"]) and policy["policyTypes"] == ["Egress"]
    ports = set().union(*(_ports(rule, _redis_container_port) for rule in policy["egress"]))
    assert ports == {(6379, "TCP"), (6378, "TCP"), (6380, "TCP"), (26379, "TCP")}  # docs/deploy.md's endpoints


# ------------------------------------------------------------------------------------------- optional tools


def test_schemas() -> None:
    """Every manifest against the Kubernetes OpenAPI schemas (strict: unknown fields fail), when installed."""
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for version in ("1.29.0", kubernetes_validate.latest_version()):
        for path, doc in DOCS + EXTERNAL_DOCS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{path.name} ({doc['kind']}) against {version}: {exc.message}")


def _kustomize(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_builds() -> None:
    built = _kustomize(K8S)
    kinds = {doc["kind"] for doc in built}
    assert kinds == {
        "Deployment",
        "StatefulSet",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
        "NetworkPolicy",
    }


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_builds_the_external_redis_overlay() -> None:
    built = _kustomize(EXTERNAL)
    names = {(doc["kind"], doc["metadata"]["name"]) for doc in built}
    assert not any(kind == "StatefulSet" for kind, _ in names)
    assert ("Service", REDIS_SERVICE["metadata"]["name"]) not in names
    assert {("Deployment", DEPLOYMENT["metadata"]["name"]), ("Service", SERVICE["metadata"]["name"])} <= names
    (configmap,) = [doc for doc in built if doc["kind"] == "ConfigMap"]
    assert "REDIS_URL" not in configmap["data"]
    policies = [doc for doc in built if doc["kind"] == "NetworkPolicy"]
    assert policies and all(_matches_pod(p["spec"]["podSelector"]["matchLabels"]) for p in policies)
