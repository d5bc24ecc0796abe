"""Static checks of the deployment artefacts (deploy/, .env.example, .dockerignore).

Docker and a cluster are not available on the build machines, so these tests parse the files and check
them against the code: setting names against `bot.config.Settings`, probe paths against the app's
routes, ports and labels across files. Optional validators (compose-spec, kubernetes-validate,
hadolint, kubectl kustomize) run when installed and are skipped otherwise.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
NGINX_CONF = DEPLOY / "nginx.conf"
ENV_EXAMPLE = ROOT / ".env.example"


def shutdown_budget_seconds() -> float:
    """The longest a SIGTERM'd bot may take to exit, read from the code so the files follow it.

    uvicorn first waits for open requests (`timeout_graceful_shutdown` in bot/web/server.py), then the
    lifespan drains background turns (`TaskTracker.drain`'s grace period).
    """
    from bot.web.tasks import TaskTracker

    server = (ROOT / "bot" / "web" / "server.py").read_text(encoding="utf-8")
    match = re.search(r"timeout_graceful_shutdown\s*=\s*(\d+(?:\.\d+)?)", server)
    assert match, "bot/web/server.py no longer sets uvicorn's timeout_graceful_shutdown"
    drain = inspect.signature(TaskTracker.drain).parameters["grace_seconds"].default
    return float(match[1]) + float(drain)


def setting_names() -> set[str]:
    """Every environment variable Settings reads (pydantic-settings: field name in upper case)."""
    return {name.upper() for name in Settings.model_fields}


def secret_setting_names() -> set[str]:
    """Settings fields typed SecretStr (or SecretStr | None): credentials, never in a ConfigMap or an image."""
    return {name.upper() for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)}


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_yaml_all(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc is not None]


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(value: str | int | float) -> float:
    """A compose duration ("40s", "1m30s", "500ms") in seconds."""
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a compose duration: {value!r}")
    return sum(float(n) * _UNIT[u] for n, u in parts)


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, backslash continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions of the last stage (from its FROM on): what ends up in the image."""
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def dockerfile_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    """ENV of a stage, in both the `KEY=value …` and the legacy `KEY value` forms."""
    env: dict[str, str] = {}
    for keyword, args in stage:
        if keyword != "ENV":
            continue
        if "=" not in args.split(" ", 1)[0]:
            key, _, value = args.partition(" ")
            env[key] = value.strip()
            continue
        for pair in re.findall(r"""(\w+)=("[^"]*"|'[^']*'|\S+)""", args):
            env[pair[0]] = pair[1].strip("\"'")
    return env


def dockerfile_user(stage: list[tuple[str, str]]) -> str | None:
    users = [args for keyword, args in stage if keyword == "USER"]
    return users[-1] if users else None
