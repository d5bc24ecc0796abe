"""Fixtures shared by every test package: the real flows (compiled once) and a real Redis."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.core.dialogue.engine import Engine
from bot.core.library.load import load_library
from bot.core.library.model import Library
from bot.language import analyze_text
from tests.fakes.slack_api import FakeSlackApi
from tests.redis_support import DEFAULT_URL, answers, no_redis, notices, redis_server

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(FLOWS_DIR)


@pytest.fixture(scope="session")
def engine(library: Library) -> Engine:
    return Engine(library, analyzer=analyze_text)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Mark by need rather than by file: the memory half of the contract tests runs without Redis.
    for item in items:
        if {"redis_url", "cluster_url", "sentinel_url", "unix_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.redis)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for notice in notices:
        terminalreporter.write_sep("!", notice, yellow=True, bold=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis the tests may write to (under `PREFIX` only)."""
    explicit = os.environ.get("REDIS_URL")
    if answers(explicit or DEFAULT_URL):
        yield explicit or DEFAULT_URL
        return
    problem = ""
    if not explicit:  # an explicit REDIS_URL that does not answer is a misconfiguration: no fallback
        try:
            with redis_server() as port:
                yield f"redis://127.0.0.1:{port}/0"
                return
        except (OSError, RuntimeError) as exc:
            problem = f", and a throwaway server failed: {exc}"
    no_redis(f"no Redis server: tried {explicit or DEFAULT_URL}{problem}", required=True)


@pytest.fixture(autouse=True)
def generous_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripted journeys send dozens of messages a second: lift the per-user limit unless a test sets it."""
    monkeypatch.setenv("RATE_LIMIT_BURST", "100000")


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    """A local fake of the Slack Web API (the SDK clients point at it; no real Slack is ever called)."""
    api = FakeSlackApi()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
