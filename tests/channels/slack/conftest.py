"""Fixtures for the Slack channel tests: the fake Slack Web API, and a Redis store under a test prefix.

`library` and `redis_url` come from tests/conftest.py (the real flows; a real Redis, which fails rather
than skips under CI=true).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from tests.redis_support import PREFIX, delete_prefix


@pytest.fixture(autouse=True)
def no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Bolt reads SLACK_* variables behind the settings' back: the tests must not depend on the shell's."""
    for name in list(os.environ):
        if name.startswith("SLACK_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def redis_prefix() -> str:
    """A prefix unique to the test (within the run's prefix, so a crashed run is still cleaned up)."""
    return f"{PREFIX}-slack-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def redis_store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisSessionStore]:
    store = RedisSessionStore.from_url(redis_url, 3600, keys=KeyBuilder(redis_prefix))
    try:
        yield store
    finally:
        await store.close()  # the app's lifespan closes it too; closing twice is harmless
        await delete_prefix(redis_url, redis_prefix)
