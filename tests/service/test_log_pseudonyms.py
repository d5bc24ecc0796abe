"""User pseudonyms in logs are never keyed by a value anyone could know (issue 17): LOG_HASH_KEY, else a
random key made once per deployment and kept in Redis, else random per process."""

from __future__ import annotations

import uuid

import pytest

from bot.store.keys import KeyBuilder
from bot.store.memory import MemorySessionStore
from bot.store.redis import RedisSessionStore
from bot.telemetry import context
from bot.wiring import use_shared_hash_key
from tests.redis_support import delete_prefix


def another_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a fresh process starts with: a random key of its own."""
    monkeypatch.setattr(context, "_hash_key", context.secrets.token_bytes(32))


async def test_replicas_of_one_deployment_share_a_random_key(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix, other = f"taikai-test-h{uuid.uuid4().hex[:6]}", f"taikai-test-h{uuid.uuid4().hex[:6]}"
    stores = [RedisSessionStore.from_url(redis_url, 60, keys=KeyBuilder(p)) for p in (prefix, prefix, other)]
    try:
        seen = []
        for store in stores:
            another_process(monkeypatch)
            await use_shared_hash_key(store)
            seen.append(context.user_hash("line", "U1"))
        assert seen[0] == seen[1], "two replicas of one deployment: one pseudonym per user"
        assert seen[2] != seen[0], "another deployment has its own key"
        stored = await stores[0].client.get(KeyBuilder(prefix).log_hash_key)
        assert stored is not None and len(stored) == 64
    finally:
        for store in stores:
            await store.close()
        await delete_prefix(redis_url, prefix)
        await delete_prefix(redis_url, other)


async def test_without_redis_the_key_is_random_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    pseudonyms = set()
    for _ in range(2):
        another_process(monkeypatch)
        await use_shared_hash_key(MemorySessionStore(60))
        pseudonyms.add(context.user_hash("line", "U1"))
    assert len(pseudonyms) == 2


def test_no_fixed_default_key() -> None:
    """The old default (a constant in the code) let anyone with the logs test a guessed user id."""
    import hashlib
    import hmac

    guessed = hmac.new(b"taikai-bot user pseudonym", b"line\x00U1", hashlib.sha256).hexdigest()[:16]
    assert context.user_hash("line", "U1") != guessed
