"""deploy/compose.yaml and deploy/nginx.conf: two bots behind nginx, one Redis with AOF on a volume."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.store.health import SAFE_POLICY
from tests.deploy import (
    COMPOSE,
    DEPLOY,
    DOCKERFILE,
    NGINX_CONF,
    ROOT,
    dockerfile_env,
    dockerfile_instructions,
    duration_seconds,
    final_stage,
    load_yaml,
    setting_names,
    shutdown_budget_seconds,
)

COMPOSE_DOC: dict[str, Any] = load_yaml(COMPOSE)
SERVICES: dict[str, Any] = COMPOSE_DOC["services"]
NGINX = NGINX_CONF.read_text(encoding="utf-8")


def _bot_services() -> dict[str, Any]:
    """Services built from deploy/Dockerfile (one service with replicas, or bot-1/bot-2)."""
    return {
        name: svc
        for name, svc in SERVICES.items()
        if isinstance(svc.get("build"), dict) and svc["build"].get("dockerfile", "").endswith("Dockerfile")
    }


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _replicas(service: dict[str, Any]) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def _published(service: dict[str, Any]) -> list[tuple[int, int]]:
    """(host port, container port) pairs of a service's `ports`."""
    pairs = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            pairs.append((int(entry["published"]), int(entry["target"])))
        else:
            *_, host, container = str(entry).split(":")
            pairs.append((int(host), int(container.split("/")[0])))
    return pairs


_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[?-])([^}]*))?\}")


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation of `${VAR}`, `${VAR:?error}`, `${VAR:-default}` and `$$` (a literal `$`)."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, operator, argument = match[1], match[2], match[3]
        found = env.get(name)
        empty = found is None or (found == "" and operator and operator.startswith(":"))
        if operator and operator.endswith("?") and empty:
            raise ValueError(f"required variable {name} is missing a value: {argument}")
        if operator and operator.endswith("-") and empty:
            return argument
        return found or ""

    return _VARIABLE.sub(replace, value)


def _redis_argv() -> list[str]:
    """redis-server's arguments, also when a shell starts it (`sh -c "exec … redis-server …"`)."""
    command = SERVICES["redis"]["command"]
    argv = command if isinstance(command, list) else shlex.split(command)
    if argv[:2] == ["sh", "-c"]:
        argv = shlex.split(_interpolate(argv[2], {}))  # compose turns `$$` into `$` before the shell runs
    return argv[argv.index("redis-server") :]


def test_interpolation() -> None:
    env = {"A": "x", "EMPTY": ""}
    assert _interpolate("${A}-${A:?no}-${B:-d}-$$A", env) == "x-x-d-$A"
    with pytest.raises(ValueError, match="set B"):
        _interpolate("${B:?set B}", env)
    with pytest.raises(ValueError):
        _interpolate("${EMPTY:?}", env)


def test_services() -> None:
    assert {"redis", "proxy"} <= set(SERVICES)
    assert _bot_services(), "no service is built from deploy/Dockerfile"


def test_two_bots() -> None:
    bots = _bot_services()
    assert sum(_replicas(svc) for svc in bots.values()) == 2
    for name, svc in bots.items():
        if _replicas(svc) > 1:  # Docker names the replicas: a fixed container_name would clash
            assert "container_name" not in svc, name


def test_bot_build_uses_the_repository_root_and_the_dockerfile() -> None:
    for svc in _bot_services().values():
        context = (DEPLOY / svc["build"]["context"]).resolve()
        assert context == ROOT
        assert (context / svc["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_bots_are_reached_through_the_proxy_only() -> None:
    port = int(dockerfile_env(final_stage(dockerfile_instructions()))["PORT"])
    for name, svc in _bot_services().items():
        assert not svc.get("ports"), f"{name}: publish the proxy, not each replica (ports would clash)"
        assert int(_environment(svc).get("PORT", port)) == port
        assert str(port) in [str(p) for p in svc.get("expose", [])]
    published = _published(SERVICES["proxy"])
    assert len(published) == 1, "one published port for the whole bot"
    host_port, container_port = published[0]
    assert host_port == 8080
    assert re.search(rf"^\s*listen\s+{container_port}\s*;", NGINX, re.M), "nginx must listen on the mapped port"
    for name in _bot_services():
        assert re.search(rf"^\s*server\s+{re.escape(name)}:{port}\b", NGINX, re.M), f"nginx upstream lacks {name}"


def test_nginx_config_structure() -> None:
    code = re.sub(r"#[^\n]*", "", NGINX)
    assert code.count("{") == code.count("}"), "unbalanced braces in nginx.conf"
    assert re.search(r"^\s*events\s*\{", code, re.M) and re.search(r"^\s*http\s*\{", code, re.M)
    (upstream,) = re.findall(r"upstream\s+(\w+)\s*\{", code)
    assert re.search(rf"proxy_pass\s+http://{upstream}\s*;", code)
    # with one `bot` service and several replicas, nginx must re-resolve the name through Docker's DNS
    if any(_replicas(svc) > 1 for svc in _bot_services().values()):
        assert re.search(r"resolver\s+127\.0\.0\.11\b", code)
        assert re.search(r"server\s+\S+\s+resolve\b", code) and re.search(r"^\s*zone\s+\w+", code, re.M)
        image = SERVICES["proxy"]["image"]
        version = re.match(r"nginx:(\d+)\.(\d+)", image)
        assert version and (int(version[1]), int(version[2])) >= (1, 27), "upstream `resolve` needs nginx 1.27.3+"
    assert "X-Forwarded-For" in code and "X-Forwarded-Proto" in code
    mounts = SERVICES["proxy"]["volumes"]
    assert any(str(m).startswith("./nginx.conf:/etc/nginx/nginx.conf") for m in mounts)


def test_redis_aof_and_volume() -> None:
    redis = SERVICES["redis"]
    assert str(redis["image"]).startswith("redis:7")
    argv = _redis_argv()
    assert "--appendonly" in argv and argv[argv.index("--appendonly") + 1] == "yes"
    # the bots' /readyz fails on any other policy (bot/store/health.py): Redis would delete sessions silently
    assert "--maxmemory-policy" not in argv or argv[argv.index("--maxmemory-policy") + 1] == SAFE_POLICY
    volumes = [str(v) for v in redis["volumes"]]
    data = [v for v in volumes if v.split(":")[1] == "/data"]
    assert data, "Redis keeps its AOF in /data: mount a volume there"
    volume_name = data[0].split(":")[0]
    assert not volume_name.startswith((".", "/")), "a named volume, not a bind mount"
    assert volume_name in (COMPOSE_DOC.get("volumes") or {})
    assert not redis.get("ports"), "Redis is for the bots only: do not publish it"


def test_redis_healthcheck_and_bots_wait_for_it() -> None:
    test = SERVICES["redis"]["healthcheck"]["test"]
    assert "redis-cli" in test and "ping" in test
    # -e: an error reply (NOAUTH, LOADING) fails the check; plain redis-cli exits 0 on it
    assert "-e" in test
    # redis-cli authenticates with REDISCLI_AUTH: never -a PASSWORD on a command line
    assert "REDISCLI_AUTH" in _environment(SERVICES["redis"]) and not {"-a", "--pass"} & set(test)
    for name, svc in _bot_services().items():
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy", name
    assert set(SERVICES["proxy"]["depends_on"]) >= set(_bot_services())


def test_bot_environment_names_are_settings() -> None:
    for name, svc in _bot_services().items():
        unknown = set(_environment(svc)) - setting_names()
        assert not unknown, f"{name}: environment names that Settings does not read: {unknown}"


def test_bot_environment_values_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    dotenv = {"REDIS_PASSWORD": "from .env"}  # what `--env-file .env` gives compose
    for svc in _bot_services().values():
        env = _environment(svc)
        for key, value in env.items():
            monkeypatch.setenv(key, _interpolate(value, dotenv))
        try:
            settings = Settings(_env_file=None)
        except ValidationError as exc:
            pytest.fail(f"compose environment does not parse as Settings: {exc}")
        assert settings.redis_dsn == "redis://redis:6379/0", "the password goes apart, in REDIS_PASSWORD"
        assert settings.redis_secret == "from .env"
        assert settings.host == "0.0.0.0"


def test_redis_requires_the_password_from_dotenv_and_the_bots_send_it() -> None:
    """One variable, REDIS_PASSWORD from .env: compose refuses to start without it; Redis requires it and the
    bots send it. No password is written in the file."""
    server_env = _environment(SERVICES["redis"])
    argv = _redis_argv()
    assert argv[argv.index("--requirepass") + 1] == "$REDISCLI_AUTH", "expanded by the container's shell"
    assert re.fullmatch(r"\$\{REDIS_PASSWORD:\?[^}]+\}", server_env["REDISCLI_AUTH"]), "required, from .env"
    for name, svc in _bot_services().items():
        assert _environment(svc)["REDIS_PASSWORD"] == server_env["REDISCLI_AUTH"], name
        assert "@" not in _environment(svc)["REDIS_URL"], f"{name}: the password is REDIS_PASSWORD, not in the URL"
    with pytest.raises(ValueError, match="REDIS_PASSWORD"):
        _interpolate(server_env["REDISCLI_AUTH"], {})  # `docker compose up` without it: refused
    assert not re.search(r'requirepass\s+(?!"?\$)\S', COMPOSE.read_text(encoding="utf-8")), "a literal password"


def test_redis_url_points_at_the_redis_service() -> None:
    for svc in _bot_services().values():
        url = _environment(svc)["REDIS_URL"]
        host = re.match(r"rediss?://(?:[^@/]*@)?([^:/]+)", url)
        assert host and host[1] in SERVICES, url


def test_env_file_is_the_repository_root_dotenv() -> None:
    for name, svc in _bot_services().items():
        files = svc["env_file"] if isinstance(svc["env_file"], list) else [svc["env_file"]]
        paths = [f["path"] if isinstance(f, dict) else f for f in files]
        assert [(DEPLOY / p).resolve() for p in paths] == [ROOT / ".env"], name
    assert (ROOT / ".env.example").is_file(), "the file to copy to .env"


def test_graceful_stop() -> None:
    for name, svc in _bot_services().items():
        grace = duration_seconds(svc["stop_grace_period"])
        assert grace >= 30
        assert grace >= shutdown_budget_seconds(), f"{name}: a shutdown may take {shutdown_budget_seconds()}s"
        assert svc.get("stop_signal", "SIGTERM") == "SIGTERM"


def test_healthchecks_probe_healthz() -> None:
    for svc in _bot_services().values():
        if "healthcheck" in svc:  # otherwise the image's HEALTHCHECK applies
            assert "/healthz" in " ".join(svc["healthcheck"]["test"])


def test_duration_parser() -> None:
    assert duration_seconds("40s") == 40
    assert duration_seconds("1m30s") == 90
    with pytest.raises(ValueError):
        duration_seconds("forever")


def test_compose_spec_schema() -> None:
    """Full Compose Specification check, when the `compose-spec` package (offline, Rust-backed) is installed."""
    compose_spec = pytest.importorskip("compose_spec")
    parsed = compose_spec.PyCompose.from_yaml(COMPOSE.read_text(encoding="utf-8"))  # raises on an invalid file
    parsed.validate()
    assert set(parsed.service_names()) == set(SERVICES)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_nginx_syntax(tmp_path: Path) -> None:
    """`nginx -t` on the proxy config, with the compose-only parts made local: `bot` resolves only on the
    compose network, and a distribution's nginx may predate the upstream `resolve` parameter (1.27.3)."""
    local = re.sub(r"server\s+[\w.-]+:(\d+)\s+resolve\b", r"server 127.0.0.1:\1", NGINX)
    conf = tmp_path / "nginx.conf"
    conf.write_text(local, encoding="utf-8")
    result = subprocess.run(
        ["nginx", "-t", "-q", "-p", str(tmp_path), "-e", "/dev/stderr", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
