"""Write deploy/k8s/monitoring/prometheusrule.yaml from deploy/prometheus/alerts.yml:
`python tools/prometheus_rule.py` (`--check` only says whether the file is up to date).

One set of alerts for compose and Kubernetes: the Prometheus Operator wants them wrapped in a
PrometheusRule, which kustomize cannot build from a plain rules file. tests/deploy/test_monitoring.py
fails when the two disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE = ROOT / "deploy" / "k8s" / "monitoring" / "prometheusrule.yaml"
LABELS = {"app.kubernetes.io/name": "taikai-bot", "app.kubernetes.io/component": "webhook"}
HEADER = """\
# GENERATED from deploy/prometheus/alerts.yml by tools/prometheus_rule.py: edit alerts.yml, then run
#   .venv/bin/python tools/prometheus_rule.py
# The Prometheus Operator loads it when its Prometheus's ruleSelector matches these labels (kube-prometheus-stack
# selects `release: <its release name>` by default: add that label here, see docs/monitoring.md).
"""


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the longer expressions) as literal blocks, as alerts.yml writes them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def prometheus_rule(alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "taikai-bot", "labels": dict(LABELS)},
        "spec": {"groups": alerts["groups"]},
    }


def render() -> str:
    alerts = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    body = yaml.dump(prometheus_rule(alerts), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=200)
    return HEADER + body


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = RULE.read_text(encoding="utf-8") if RULE.exists() else ""
        if current != text:
            print(f"{RULE.relative_to(ROOT)} is out of date: run python tools/prometheus_rule.py", file=sys.stderr)
            return 1
        return 0
    RULE.write_text(text, encoding="utf-8")
    print(f"wrote {RULE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
