"""YAML loading for flow files: safe, and without YAML 1.1's bare yes/no/on/off booleans.

In a Japanese flow file `means: yes` or `set: {ongoing: no}` must stay the strings "yes" and "no";
PyYAML's default resolver would turn them into booleans. Only `true`/`false` are booleans here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class FlowYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans."""


FlowYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
FlowYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=FlowYamlLoader)
