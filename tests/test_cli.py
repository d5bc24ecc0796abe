"""`taikai-bot chat` as a user runs it: piped input, one message per line, replies on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import redis

from bot.core.library.templates import TemplateBook
from tests.channels.lexicon import LIBRARY, said, text
from tests.conftest import FLOWS_DIR
from tests.redis_support import PREFIX


def chat(lines: list[str], *args: str, env: dict[str, str] | None = None) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "LINE_", "SLACK_"))}
    environment.update({"FLOWS_DIR": str(FLOWS_DIR), **(env or {})})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_piped_chat_greets_answers_and_writes_a_template() -> None:
    out = chat(["1", "もう使わない", "はい", "受注者", "ある", "キャンセルをお願いする", "作る", "山田", "LP", "佐藤"])
    assert out.startswith(said("common:menu"))
    template = TemplateBook(LIBRARY.templates).render("cancel_ongoing", {"client_name": "山田", "user_name": "佐藤"})
    assert template.title in out and template.body.splitlines()[0] in out
    assert "Traceback" not in out


def test_piped_chat_never_echoes_a_password() -> None:
    out = chat(["1", "MyPassw0rd!"])
    assert "MyPassw0rd!" not in out
    assert text("secret").splitlines()[0] in out


@pytest.mark.redis
def test_user_session_continues_across_runs_with_redis(redis_url: str) -> None:
    env = {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": PREFIX}
    user = f"cli-{uuid.uuid4().hex[:8]}"
    try:
        chat(["1", "もう使わない", "はい", "受注者"], "--user", user, env=env)
        out = chat([], "--user", user, env=env)
        where = text("resume", where="\0").split("\0")[0]  # the resume line up to the place
        assert out.splitlines()[0].startswith(where) and LIBRARY.flows["lancers"].title in out.splitlines()[0]
    finally:
        client = redis.Redis.from_url(redis_url)
        client.delete(*client.keys(f"{PREFIX}:*{user}*"))
        client.close()


def test_without_redis_each_run_starts_fresh() -> None:
    chat(["1"], "--user", "someone")
    out = chat([], "--user", "someone")
    assert out.startswith(said("common:menu"))


def test_version_is_the_project_s(capsys: pytest.CaptureFixture[str]) -> None:
    import tomllib
    from pathlib import Path

    from bot.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert capsys.readouterr().out.strip() == f"taikai-bot {project['version']}"
    assert project["license"] == "MIT" and (Path(__file__).resolve().parents[1] / "LICENSE").is_file()


def test_understand_eval_without_its_corpus_says_where_it_lives(capsys: pytest.CaptureFixture[str]) -> None:
    """In the image there is no tests/ folder: a clear line and exit 2, not a traceback."""
    from bot.__main__ import main

    assert main(["understand", "eval", "/nonexistent/corpus.yaml"]) == 2
    err = capsys.readouterr().err
    assert "/nonexistent/corpus.yaml" in err and "tests/understanding/" in err
