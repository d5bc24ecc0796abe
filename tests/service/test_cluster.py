"""A real three-node Redis Cluster on loopback: a whole conversation, dedupe, concurrency, erase.

Every key of one user carries the same hash tag, so the Lua scripts (session + dedupe + rate keys)
run on one node; users spread over all three nodes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import pytest
import redis

from bot.conversation import Conversation
from bot.core.dialogue.engine import Engine
from bot.core.messages import StartInput, Template, TextInput
from bot.core.session import SessionKey
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import RateLimit, Verdict
from bot.store.redis import RedisSessionStore
from bot.store.redis_ratelimit import RedisRateLimiter
from tests.flows.journeys import JOURNEYS
from tests.redis_support import PREFIX, no_redis, redis_server

pytestmark = pytest.mark.redis
SLOTS = 16384


@pytest.fixture(scope="module")
def cluster_ports() -> Iterator[list[int]]:
    config = "cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-node-timeout 5000\n"
    try:
        with ExitStack() as stack:
            ports = [stack.enter_context(redis_server(config=config)) for _ in range(3)]
            clients = [redis.Redis(port=p) for p in ports]
            third = SLOTS // 3
            ranges = [(0, third - 1), (third, 2 * third - 1), (2 * third, SLOTS - 1)]
            for client, (low, high) in zip(clients, ranges, strict=True):
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
            for port in ports[1:]:
                clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port)
            deadline = time.monotonic() + 20
            while not all(b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO") for c in clients):
                if time.monotonic() > deadline:
                    raise RuntimeError("the three-node cluster did not become ready")
                time.sleep(0.1)
            for client in clients:
                client.close()
            yield ports
    except (OSError, RuntimeError, redis.RedisError) as exc:
        no_redis(f"no throwaway three-node Redis Cluster: {exc}", required=True)


@pytest.fixture
async def store(cluster_ports: list[int]) -> AsyncIterator[RedisSessionStore]:
    cluster = RedisSessionStore.from_url(f"redis+cluster://127.0.0.1:{cluster_ports[1]}", 3600, keys=KeyBuilder(PREFIX))
    try:
        yield cluster
    finally:
        await cluster.close()


def user(name: str = "") -> SessionKey:
    return SessionKey("line", "-", f"{name}{uuid.uuid4().hex}")


async def test_users_spread_over_all_nodes(store: RedisSessionStore, engine: Engine, cluster_ports: list[int]) -> None:
    conversation = Conversation(engine, store)
    for _ in range(30):
        await conversation.turn(user(), StartInput())
    counts = [redis.Redis(port=p).dbsize() for p in cluster_ports]
    assert all(count > 0 for count in counts), counts


async def test_a_whole_journey_on_the_cluster(store: RedisSessionStore, engine: Engine) -> None:
    conversation = Conversation(engine, store)
    key = user()
    await conversation.turn(key, StartInput(), event_id="start")
    templates: list[str] = []
    for i, text in enumerate(JOURNEYS["lancers_worker"]):
        result = await conversation.turn(key, TextInput(text), event_id=f"e{i}")
        templates += [r.name for r in result.replies if isinstance(r, Template)]
    assert templates == ["cancel_ongoing", "cancel_proposal"]
    session = (await store.load(key)).session
    assert session is not None and session.state == "procedure"


async def test_dedupe_and_concurrency_on_the_cluster(store: RedisSessionStore, engine: Engine) -> None:
    conversation = Conversation(engine, store)  # the production default of attempts
    key = user()
    await conversation.turn(key, StartInput())
    results = await asyncio.gather(*(conversation.turn(key, TextInput("1"), event_id=f"c{i}") for i in range(20)))
    assert not any(r.duplicate for r in results)
    assert (await store.load(key)).version == 21
    # untimed ids (no platform time): the last ones are remembered (the cap), the turns ran in arrival order
    again = await asyncio.gather(*(conversation.turn(key, TextInput("1"), event_id="c19") for _ in range(5)))
    assert all(r.duplicate for r in again)
    assert (await store.load(key)).version == 21


async def test_rate_limit_and_erase_on_the_cluster(store: RedisSessionStore, engine: Engine) -> None:
    limiter = RedisRateLimiter(store.client, RateLimit(burst=2, per_minute=0.001), store.keys)
    key = user()
    assert [await limiter.hit(key) for _ in range(4)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTICE, Verdict.DROP]
    await Conversation(engine, store).turn(key, StartInput(), event_id="x")
    await store.erase(key)
    assert (await store.load(key, "x")).session is None
    assert not await store.client.exists(store.keys.session(key), store.keys.seen(key))
    assert await limiter.hit(key) is Verdict.DROP, "erasing does not refill the rate bucket"


async def test_erase_workspace_scans_every_node(store: RedisSessionStore, engine: Engine) -> None:
    conversation = Conversation(engine, store)
    team = [SessionKey("slack", "T1", f"U{i}") for i in range(12)]
    for key in team:
        await conversation.turn(key, StartInput())
    await conversation.turn(SessionKey("slack", "T2", "U1"), StartInput())
    assert await store.erase_workspace("slack", "T1") == 12
    assert (await store.load(SessionKey("slack", "T2", "U1"))).session is not None
    await store.erase(SessionKey("slack", "T2", "U1"))


async def test_the_load_takes_the_rate_token_on_every_node(store: RedisSessionStore, engine: Engine) -> None:
    """The load script reads the session, the dedupe set and the rate bucket of one user: one slot, any node."""
    limiter = RedisRateLimiter(store.client, RateLimit(burst=1, per_minute=0.001), store.keys)
    conversation = Conversation(engine, store, limiter=limiter)
    for key in [user() for _ in range(9)]:  # users spread over the three nodes
        assert not (await conversation.turn(key, StartInput(), event_id="a")).limited
        assert (await conversation.turn(key, StartInput(), event_id="a")).duplicate, "no token for a redelivery"
        assert (await conversation.turn(key, TextInput("1"), event_id="b")).limited
