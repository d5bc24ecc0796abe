"""Fixtures for the store tests: a real Redis (found or started), a per-run key prefix, fake clocks.

Redis comes from REDIS_URL, else 127.0.0.1:6379, else a throwaway `redis-server` started for the session.
When none can be had the Redis tests fail under CI=true and are skipped (loudly) elsewhere. Keys live
under a prefix unique to the run and are deleted after each test; the server is never flushed, since
other things may use it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from bot.core.session import Session, SessionKey, Step
from bot.store.base import SessionStore
from bot.store.keys import KeyBuilder
from bot.store.memory import MemorySessionStore
from bot.store.redis import RedisSessionStore
from tests.fakes.clock import FakeClock
from tests.redis_support import PREFIX, delete_prefix, no_redis, notices, redis_server

TTL = 3600.0


@pytest.fixture(scope="session")
def cluster_url() -> Iterator[str]:
    """A one-node Redis Cluster holding all 16384 slots: enough to reject any CROSSSLOT access."""
    try:
        with redis_server(config="cluster-enabled yes\ncluster-config-file nodes.conf\n") as port:
            client: Any = redis.Redis(port=port)  # execute_command is unannotated
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + 10
            while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the one-node cluster did not become ready")
                time.sleep(0.05)
            client.close()
            yield f"redis+cluster://127.0.0.1:{port}"
    except (OSError, RuntimeError, redis.RedisError) as exc:
        no_redis(f"no throwaway Redis Cluster: {exc}", required=False)


@pytest.fixture(scope="session")
def unix_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway server listening on a Unix socket, as a unix:// URL."""
    sock = tmp_path_factory.mktemp("sock") / "redis.sock"
    try:
        with redis_server(config=f"unixsocket {sock}\nunixsocketperm 700\n"):
            yield f"unix://{sock}?db=0"
    except (OSError, RuntimeError) as exc:
        no_redis(f"no throwaway Redis on a Unix socket: {exc}", required=False)


@pytest.fixture(scope="session")
def sentinel_url() -> Iterator[str]:
    """A throwaway master watched by a throwaway Sentinel, as a redis+sentinel URL."""
    try:
        with (
            redis_server() as master,
            redis_server(config=f"sentinel monitor taikai 127.0.0.1 {master} 1\n", sentinel=True) as port,
        ):
            yield f"redis+sentinel://127.0.0.1:{port}/taikai/0"
    except (OSError, RuntimeError) as exc:
        no_redis(f"no throwaway Redis Sentinel: {exc}", required=False)


@pytest.fixture
def keys() -> KeyBuilder:
    return KeyBuilder(PREFIX)


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client for looking at what the store wrote; this run's keys are deleted afterwards."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()
        await delete_prefix(redis_url)


@pytest.fixture
async def redis_store(redis_url: str, raw: aioredis.Redis, keys: KeyBuilder) -> AsyncIterator[RedisSessionStore]:
    store = RedisSessionStore.from_url(redis_url, TTL, keys=keys)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, keys: KeyBuilder) -> AsyncIterator[SessionStore]:
    """Each contract test runs against the embedded store and against Redis."""
    if request.param == "memory":
        yield MemorySessionStore(TTL)
        return
    url = request.getfixturevalue("redis_url")
    redis_store = RedisSessionStore.from_url(url, TTL, keys=keys)
    try:
        yield redis_store
    finally:
        await redis_store.close()
        await delete_prefix(url)


@pytest.fixture
def report() -> list[str]:
    """Lines to print in the terminal summary (figures worth seeing even when the tests pass)."""
    return notices


@pytest.fixture
def user() -> SessionKey:
    return SessionKey("line", "1234567890", "U" + uuid.uuid4().hex)


_ANSWER_KEYS = (
    "reason", "contract", "unpaid", "active_jobs", "withdraw", "points",
    "identity", "plan", "messages", "reviews", "profile", "confirm",
)  # fmt: skip
_LANCERS = ("price", "yes", "no", "0", "done", "none", "verified", "free", "read", "keep", "delete", "yes")
_CROWDWORKS = ("fee", "no", "yes", "2", "pending", "used", "none", "pro", "unread", "delete", "keep", "no")


def realistic_session() -> Session:
    """Two flows of 12 answers, 8 steps of history and three fill-ins: a user deep into the 「両方」 path."""
    return Session(
        flow="crowdworks",
        state="template_client_notice",
        answers={
            "lancers": dict(zip(_ANSWER_KEYS, _LANCERS, strict=True)),
            "crowdworks": dict(zip(_ANSWER_KEYS, _CROWDWORKS, strict=True)),
        },
        fields={"client_name": "山田 太郎", "my_name": "佐藤 花子", "job_title": "Webサイトのデザイン"},
        queue=("crowdworks",),
        history=tuple(Step("crowdworks", f"ask_{key}", ((key, None),)) for key in _ANSWER_KEYS[:8]),
        updated=1_764_000_000,
    )


@pytest.fixture
def realistic() -> Session:
    return realistic_session()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
