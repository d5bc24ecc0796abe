"""Monitoring: deploy/prometheus (scrape config, alerts and their promtool tests), deploy/grafana (dashboard,
provisioning), deploy/compose.monitoring.yaml and deploy/k8s/monitoring (ServiceMonitor, PrometheusRule).

Every expression is checked against what the app really exports (a real app is built and scraped), every
cross-reference between the files is followed, and promtool checks the syntax and runs the alert tests
when installed (under CI=true it must be: Debian's `prometheus` package ships it).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.core.library.load import load_library
from bot.core.messages import StartInput
from bot.core.session import SessionKey
from bot.web.services import Services
from bot.wiring import create_app
from tests.deploy import COMPOSE, DEPLOY, K8S, ROOT, load_yaml, setting_names
from tests.deploy.promql import Selector, selectors

PROMETHEUS = DEPLOY / "prometheus"
ALERTS_FILE = PROMETHEUS / "alerts.yml"
ALERTS: dict[str, Any] = load_yaml(ALERTS_FILE)
RULES: list[dict[str, Any]] = [rule for group in ALERTS["groups"] for rule in group["rules"]]
RULES_TEST: dict[str, Any] = load_yaml(PROMETHEUS / "alerts.test.yml")
SCRAPE: dict[str, Any] = load_yaml(PROMETHEUS / "prometheus.yml")
GRAFANA = DEPLOY / "grafana"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCES: list[dict[str, Any]] = load_yaml(GRAFANA / "provisioning/datasources/prometheus.yaml")["datasources"]
PROVIDERS: list[dict[str, Any]] = load_yaml(GRAFANA / "provisioning/dashboards/taikai-bot.yaml")["providers"]
OVERRIDE: dict[str, Any] = load_yaml(DEPLOY / "compose.monitoring.yaml")
BASE: dict[str, Any] = load_yaml(COMPOSE)
MONITORING = K8S / "monitoring"
SERVICE: dict[str, Any] = load_yaml(K8S / "service.yaml")
DEPLOYMENT: dict[str, Any] = load_yaml(K8S / "deployment.yaml")
SERVICE_MONITOR: dict[str, Any] = load_yaml(MONITORING / "servicemonitor.yaml")
PROMETHEUS_RULE: dict[str, Any] = load_yaml(MONITORING / "prometheusrule.yaml")
DOC = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")

JOB = SERVICE["metadata"]["name"]  # the job label on Kubernetes (ServiceMonitor without jobLabel) and compose
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series
PROMETHEUS_SERIES = {"up": set[str]()}  # made by Prometheus itself, per target
# Grafana's variables, replaced by values they can take so the expressions are plain PromQL
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "6h", "$__interval": "15s", "$job": JOB, "$instance": ".*"}
SEVERITIES = {"critical", "warning", "info"}


def _promtool() -> str:
    """promtool's path; under CI=true its absence fails, elsewhere it skips (loudly, with the fix)."""
    found = shutil.which("promtool")
    if found is None:
        message = "promtool not installed (apt-get install --no-install-recommends prometheus)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


# ------------------------------------------------------------------------------------------- what the app exports


async def _scrape_after_one_turn(services: Services, transport: httpx.ASGITransport) -> str:
    await services.conversation.turn(SessionKey("line", "-", "U1"), StartInput(), event_id="e1")
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    """Sample name → label names, from a real app's /metrics after one turn, plus Prometheus's own `up`.

    A labelled family with no sample yet (no reminder without Redis, …) is still listed by the scrape; its
    label names come from the metric objects (prometheus_client's `_labelnames`), and a counter's samples
    are `_total`, a histogram's `_bucket` (with `le`), `_sum` and `_count`."""
    with pytest.MonkeyPatch.context() as patch:
        for name in setting_names():
            patch.delenv(name, raising=False)
        app = create_app(Settings(_env_file=None), load_library(ROOT / "flows"))  # in-memory store
        services: Services = app.state.services
        text = asyncio.run(_scrape_after_one_turn(services, httpx.ASGITransport(app=app)))
    declared = {
        value._name: set(value._labelnames)
        for value in vars(services.metrics).values()
        if isinstance(value, MetricWrapperBase)
    }
    names: dict[str, set[str]] = dict(PROMETHEUS_SERIES)
    for family in text_string_to_metric_families(text):
        labels = declared.get(family.name, set())
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        for suffix in suffixes:
            names.setdefault(family.name + suffix, set()).update(labels | ({"le"} if suffix == "_bucket" else set()))
    return names


@pytest.fixture(scope="module")
def quoted_in_code() -> str:
    """The app's source: a label value in a matcher must be a string the app writes (catches typos)."""
    return "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "bot").rglob("*.py"))


def _check_selector(where: str, selector: Selector, exported: dict[str, set[str]], code: str) -> list[str]:
    if selector.name is None:
        return [f"{where}: a selector without a metric name"]
    if selector.name not in exported:
        return [f"{where}: {selector.name} is not exported by the app"]
    problems = []
    for label, op, value in selector.matchers:
        if label not in exported[selector.name] | TARGET_LABELS:
            problems.append(f"{where}: {selector.name} has no label {label!r}")
        elif label == "job" and not re.fullmatch(value, JOB):
            problems.append(f"{where}: job {value!r} is not {JOB!r}")
        elif label not in TARGET_LABELS and op in ("=", "=~"):
            for word in value.split("|") if op == "=~" else [value]:
                if re.fullmatch(r"[\w.-]+", word) and f'"{word}"' not in code:
                    problems.append(f"{where}: the app never writes {label}={word!r}")
    return problems


def _grafana_plain(expr: str) -> str:
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(variable, value)
    assert "$" not in expr.replace('"$1"', ""), f"an unknown Grafana variable in {expr!r}"
    return expr


# ------------------------------------------------------------------------------------------- alerts.yml


def test_alerts_structure() -> None:
    assert [group["name"] for group in ALERTS["groups"]] == ["taikai-bot"]
    names = [rule["alert"] for rule in RULES]
    assert len(names) == len(set(names)), "alert names are unique"
    for rule in RULES:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"Taikai[A-Z]\w+", rule["alert"])
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", "0m"))), rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


def test_the_alerts_cover_what_operators_asked_for() -> None:
    """Replies failing or lost, reminders lost, Redis unreachable, replicas down."""
    used = {s.name for rule in RULES for s in selectors(rule["expr"])}
    assert {
        "up",
        "taikai_platform_api_errors_total",
        "taikai_replies_later_total",
        "taikai_reminders_total",
        "taikai_store_errors_total",
    } <= used


def test_alert_expressions_use_only_exported_series(exported: dict[str, set[str]], quoted_in_code: str) -> None:
    problems = []
    for rule in RULES:
        for selector in selectors(rule["expr"]):
            problems += _check_selector(rule["alert"], selector, exported, quoted_in_code)
            if selector.name != "up":
                assert ("job", "=", JOB) in selector.matchers, f"{rule['alert']}: {selector.name} without job"
    assert not problems, "\n".join(problems)


def test_each_alert_has_its_section_in_the_docs() -> None:
    headings = {line[4:].strip() for line in DOC.splitlines() if line.startswith("### ")}
    for rule in RULES:
        assert rule["alert"] in headings, f"docs/monitoring.md has no '### {rule['alert']}'"
        assert rule["annotations"]["runbook"] == f"docs/monitoring.md#{rule['alert'].lower()}"


def test_memory_alert_is_just_below_the_kubernetes_limit() -> None:
    (rule,) = [r for r in RULES if r["alert"] == "TaikaiMemoryHigh"]
    factors = re.search(r">\s*(\d+(?:\s*\*\s*\d+)*)$", rule["expr"].strip())
    assert factors, rule["expr"]
    threshold = 1
    for factor in factors[1].split("*"):
        threshold *= int(factor)
    (container,) = DEPLOYMENT["spec"]["template"]["spec"]["containers"]
    limit = container["resources"]["limits"]["memory"]
    mib = int(limit.removesuffix("Mi")) if limit.endswith("Mi") else int(limit.removesuffix("Gi")) * 1024
    assert 0.75 * mib * 2**20 <= threshold < 0.95 * mib * 2**20, "warn before the pod is killed, not all the time"
    assert f"({mib} MiB)" in rule["annotations"]["description"], "the description names the current limit"


def test_every_alert_fires_in_the_rules_tests() -> None:
    assert RULES_TEST["rule_files"] == [ALERTS_FILE.name]
    fired = {
        case["alertname"] for test in RULES_TEST["tests"] for case in test["alert_rule_test"] if case["exp_alerts"]
    }
    quiet = {
        case["alertname"] for test in RULES_TEST["tests"] for case in test["alert_rule_test"] if not case["exp_alerts"]
    }
    names = {rule["alert"] for rule in RULES}
    assert names <= fired, f"alerts never expected to fire: {names - fired}"
    assert names - quiet <= {"TaikaiBotAllDown", "TaikaiBotRestarting", "TaikaiWebhooksRefused"}


def test_promtool_checks_the_rules_and_the_config() -> None:
    promtool = _promtool()
    for args in (("check", "rules", str(ALERTS_FILE)), ("check", "config", str(PROMETHEUS / "prometheus.yml"))):
        result = _run(promtool, *args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_runs_the_alert_tests() -> None:
    """Series fed minute by minute; each alert fires when it should, with its labels and annotations."""
    result = _run(_promtool(), "test", "rules", str(PROMETHEUS / "alerts.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# ------------------------------------------------------------------------------------------- prometheus.yml


def test_scrape_config_finds_the_compose_replicas() -> None:
    (job,) = SCRAPE["scrape_configs"]
    assert job["job_name"] == JOB, "the alerts and the dashboard expect the Kubernetes Service's name"
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (discovery,) = job["dns_sd_configs"]
    bot = BASE["services"]["bot"]
    assert discovery["names"] == ["bot"] and discovery["type"] == "A"
    assert str(discovery["port"]) in {str(port) for port in bot["expose"]}
    assert int(bot["deploy"]["replicas"]) > 1, "one A record per replica"
    assert SCRAPE["rule_files"] == [ALERTS_FILE.name]


# ------------------------------------------------------------------------------------------- the dashboard


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # collapsed rows hold their panels
    return found


def _dashboards() -> list[tuple[str, dict[str, Any]]]:
    assert DASHBOARD_FILES, "no dashboard in deploy/grafana/dashboards"
    return [(path.name, json.loads(path.read_text(encoding="utf-8"))) for path in DASHBOARD_FILES]


def _expressions(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and query variable, Grafana variables replaced."""
    found = []
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            found.append((f"panel {panel['id']} {panel['title']!r}", _grafana_plain(target["expr"])))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query)
            assert match, f"variable {variable['name']}: {query}"
            found.append((f"variable {variable['name']}", _grafana_plain(match[1])))
    return found


def test_dashboard_model() -> None:
    for name, dashboard in _dashboards():
        assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36, name
        ids = [panel["id"] for panel in _panels(dashboard)]
        assert len(ids) == len(set(ids)), f"{name}: panel ids are unique"
        cells: set[tuple[int, int]] = set()
        for panel in _panels(dashboard):
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{name}: panel {panel['id']} is wider than the grid"
            area = {(grid["x"] + i, grid["y"] + j) for i in range(grid["w"]) for j in range(grid["h"])}
            assert not area & cells, f"{name}: panel {panel['id']} overlaps another"
            cells |= area
            refs = [target["refId"] for target in panel.get("targets", [])]
            assert len(refs) == len(set(refs)), f"{name}: panel {panel['id']} repeats a refId"


def test_dashboard_expressions_use_only_exported_series(exported: dict[str, set[str]], quoted_in_code: str) -> None:
    problems = []
    for name, dashboard in _dashboards():
        for where, expr in _expressions(dashboard):
            found = selectors(expr)
            assert found, f"{name} {where}: no series in {expr!r}"
            for selector in found:
                problems += _check_selector(f"{name} {where}", selector, exported, quoted_in_code)
    assert not problems, "\n".join(problems)


def test_dashboard_shows_every_metric_of_the_app(exported: dict[str, set[str]]) -> None:
    """A new taikai_* metric needs a panel; so do the process and build metrics operators asked for."""
    used = {s.name for _, dashboard in _dashboards() for _, expr in _expressions(dashboard) for s in selectors(expr)}
    families = {name for name in exported if name.startswith("taikai_") and not name.endswith(("_sum", "_count"))}
    wanted = families | {"process_cpu_seconds_total", "process_resident_memory_bytes", "taikai_build_info"}
    assert wanted <= used, f"not on the dashboard: {sorted(wanted - used)}"


def test_dashboard_expressions_parse() -> None:
    """promtool reads each expression as a recording rule (the same parser as Prometheus)."""
    promtool = _promtool()
    rules = [
        {"record": f"dashboard:expr_{index}", "expr": expr}
        for index, (_, expr) in enumerate(e for _, d in _dashboards() for e in _expressions(d))
    ]
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"taikai-dashboard-rules-{os.getpid()}.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    try:
        result = _run(promtool, "check", "rules", str(path))
    finally:
        path.unlink()
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_datasources_match_the_provisioning() -> None:
    (source,) = DATASOURCES
    assert source["type"] == "prometheus" and source["isDefault"] is True
    for name, dashboard in _dashboards():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        chooser = variables["datasource"]
        assert chooser["type"] == "datasource" and chooser["query"] == source["type"]
        assert chooser["current"]["value"] == source["uid"], f"{name}: the default is the provisioned source"
        expected = {"type": source["type"], "uid": "${datasource}"}
        for panel in _panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == expected, f"{name}: panel {panel['id']}"
            for target in panel["targets"]:
                assert target.get("datasource", expected) == expected, f"{name}: panel {panel['id']}"
        for variable in variables.values():
            if variable["type"] == "query":
                assert variable["datasource"] == expected, f"{name}: variable {variable['name']}"


# ------------------------------------------------------------------------------------------- compose override


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Container path → (source, read-only) of a service's short-syntax volumes."""
    found = {}
    for entry in service.get("volumes", []):
        source, target, *mode = str(entry).split(":")
        found[target] = (source, bool(mode) and "ro" in mode[0].split(","))
    return found


def _bind_source(source: str) -> Path:
    return (DEPLOY / source).resolve()


def test_override_only_adds_services() -> None:
    """Merged as a plain union, so compose.yaml stays the single definition of the bots."""
    assert set(OVERRIDE) <= {"services", "volumes"}
    assert set(OVERRIDE["services"]) == {"prometheus", "grafana"}
    assert not set(OVERRIDE["services"]) & set(BASE["services"])
    assert not set(OVERRIDE.get("volumes", {})) & set(BASE.get("volumes", {}))
    for service in OVERRIDE["services"].values():
        for source, _ in _mounts(service).values():
            assert source.startswith("./") or source in OVERRIDE["volumes"], source


def test_override_images_are_pinned() -> None:
    for name, service in OVERRIDE["services"].items():
        tag = service["image"].partition(":")[2]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: pin a release, not {tag or 'latest'!r}"


def test_override_ports_are_local_only() -> None:
    for name, service in OVERRIDE["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port} would be reachable from the network"


def test_override_mounts_configuration_read_only() -> None:
    for name, service in OVERRIDE["services"].items():
        for target, (source, read_only) in _mounts(service).items():
            if source.startswith("./"):
                assert read_only, f"{name}: {source} → {target} should be :ro"
                assert _bind_source(source).exists(), f"{name}: {source} does not exist"
            else:
                assert not read_only, f"{name}: the data volume {source} must be writable"


def test_grafana_admin_password_comes_from_the_environment() -> None:
    env = OVERRIDE["services"]["grafana"]["environment"]
    password = env["GF_SECURITY_ADMIN_PASSWORD"]
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}", password), "required, with no default"
    for key, value in env.items():
        if re.search(r"PASSWORD|SECRET|TOKEN|KEY", key):
            assert str(value).startswith("${") and ":-" not in str(value), f"{key}: no secret in the file"
    assert str(env["GF_AUTH_ANONYMOUS_ENABLED"]) == "false" and str(env["GF_USERS_ALLOW_SIGN_UP"]) == "false"


def test_prometheus_service_reads_this_config() -> None:
    service = OVERRIDE["services"]["prometheus"]
    config = next(arg.split("=", 1)[1] for arg in service["command"] if arg.startswith("--config.file="))
    mounts = _mounts(service)
    folder = str(Path(config).parent)
    assert folder in mounts, f"{config} is not in a mounted folder"
    source = _bind_source(mounts[folder][0])
    assert (source / Path(config).name).resolve() == (PROMETHEUS / "prometheus.yml").resolve()
    for rule_file in SCRAPE["rule_files"]:
        assert (source / rule_file).is_file(), rule_file
    storage = next(arg.split("=", 1)[1] for arg in service["command"] if arg.startswith("--storage.tsdb.path="))
    assert storage in mounts and not mounts[storage][1], "the TSDB lives on a writable volume"


def test_grafana_provisioning_is_mounted_where_grafana_reads_it() -> None:
    service = OVERRIDE["services"]["grafana"]
    mounts = _mounts(service)
    assert _bind_source(mounts["/etc/grafana/provisioning"][0]) == (GRAFANA / "provisioning").resolve()
    (provider,) = PROVIDERS
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    assert _bind_source(mounts[path][0]) == (GRAFANA / "dashboards").resolve()
    home = service["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert str(Path(home).parent) == path and (GRAFANA / "dashboards" / Path(home).name).is_file()


def test_grafana_datasource_is_the_prometheus_service() -> None:
    (source,) = DATASOURCES
    url = httpx.URL(source["url"])
    assert url.host in OVERRIDE["services"], f"{url.host} is not a compose service"
    published = [str(port).rsplit(":", 1)[-1] for port in OVERRIDE["services"][url.host]["ports"]]
    assert str(url.port) in published
    assert source["jsonData"]["timeInterval"] == SCRAPE["global"]["scrape_interval"], "$__rate_interval"


def test_merged_compose_file_against_the_spec() -> None:
    """The override merged into compose.yaml (a plain union, see above), against the Compose Specification."""
    compose_spec = pytest.importorskip("compose_spec")
    merged = {
        **BASE,
        "services": {**BASE["services"], **OVERRIDE["services"]},
        "volumes": {**BASE.get("volumes", {}), **OVERRIDE["volumes"]},
    }
    parsed = compose_spec.PyCompose.from_yaml(yaml.safe_dump(merged, allow_unicode=True))
    parsed.validate()
    assert set(parsed.service_names()) == set(BASE["services"]) | {"prometheus", "grafana"}


def _docker_compose() -> bool:
    return shutil.which("docker") is not None and _run("docker", "compose", "version").returncode == 0


@pytest.mark.skipif(not _docker_compose(), reason="the docker compose plugin is not installed")
def test_docker_compose_accepts_the_pair(tmp_path: Path) -> None:
    """`docker compose config` merges and interpolates the pair as it would for `up` (placeholders only)."""
    env_file = tmp_path / "env"
    env_file.write_text("REDIS_PASSWORD=only-for-this-check\n", encoding="utf-8")
    if not (ROOT / ".env").exists():
        pytest.skip("compose.yaml's env_file is ../.env: cp .env.example .env first")
    env = {**os.environ, "GRAFANA_ADMIN_PASSWORD": "only-for-this-check"}
    files = ["-f", str(COMPOSE), "-f", str(DEPLOY / "compose.monitoring.yaml")]
    args = ["docker", "compose", "--env-file", str(env_file), *files, "config"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert {"bot", "prometheus", "grafana"} <= set(yaml.safe_load(result.stdout)["services"])


# ------------------------------------------------------------------------------------------- Kubernetes


def test_service_monitor_selects_the_service_and_names_its_port() -> None:
    assert SERVICE_MONITOR["apiVersion"] == "monitoring.coreos.com/v1"
    assert SERVICE_MONITOR["kind"] == "ServiceMonitor"
    assert "namespace" not in SERVICE_MONITOR["metadata"], "leave the namespace to kubectl/kustomize"
    spec = SERVICE_MONITOR["spec"]
    selector = spec["selector"]["matchLabels"]
    labels = SERVICE["metadata"]["labels"]
    assert selector and all(labels.get(key) == value for key, value in selector.items())
    assert "jobLabel" not in spec, f"the job label must stay the Service's name ({JOB}), as the alerts expect"
    port_names = {port["name"] for port in SERVICE["spec"]["ports"]}
    for endpoint in spec["endpoints"]:
        assert endpoint["port"] in port_names, f"the Service has no port named {endpoint['port']!r}"
        assert endpoint.get("path", "/metrics") == "/metrics"
        assert endpoint["interval"] == SCRAPE["global"]["scrape_interval"], "as in compose (and $__rate_interval)"


def test_prometheus_rule_carries_alerts_yml() -> None:
    assert PROMETHEUS_RULE["apiVersion"] == "monitoring.coreos.com/v1"
    assert PROMETHEUS_RULE["kind"] == "PrometheusRule"
    assert "namespace" not in PROMETHEUS_RULE["metadata"]
    assert PROMETHEUS_RULE["spec"]["groups"] == ALERTS["groups"], "run: python tools/prometheus_rule.py"


def test_prometheus_rule_is_what_the_tool_writes() -> None:
    result = _run(sys.executable, str(ROOT / "tools" / "prometheus_rule.py"), "--check")
    assert result.returncode == 0, result.stderr


def test_monitoring_kustomization_is_separate_from_the_base() -> None:
    """`kubectl apply -k deploy/k8s` must keep working on clusters without the Operator's CRDs."""
    kustomization = load_yaml(MONITORING / "kustomization.yaml")
    assert kustomization["resources"] == ["servicemonitor.yaml", "prometheusrule.yaml"]
    base = load_yaml(K8S / "kustomization.yaml")
    assert not [r for r in base.get("resources", []) + base.get("components", []) if "monitoring" in r]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_monitoring_kustomize_builds() -> None:
    result = _run("kubectl", "kustomize", str(MONITORING))
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert {doc["kind"] for doc in built} == {"ServiceMonitor", "PrometheusRule"}
    for doc in built:
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "taikai-bot"


# ------------------------------------------------------------------------------------------- docs


def test_docs_list_every_metric(exported: dict[str, set[str]]) -> None:
    for name in exported:
        if name.startswith("taikai_") and not name.endswith(("_sum", "_count")):
            assert f"`{name}`" in DOC, f"docs/monitoring.md does not list {name}"
