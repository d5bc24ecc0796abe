"""The session-store contract against both backends, then what only Redis has (TTL, memory, keys, URLs).

Runs against a real Redis server (see conftest.py), under a key prefix unique to the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis import Redis as SyncRedis
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.crc import key_slot
from redis.exceptions import ResponseError

from bot.core.session import Session, SessionKey
from bot.store import codec
from bot.store.base import DEFAULT_DEDUPE_LIMIT, SaveOutcome, SessionStore
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore, event_member
from tests.store.conftest import PREFIX, TTL

SESSION = Session("lancers", "ask_reason", answers={"lancers": {"reason": "price"}}, updated=1)
OTHER = SessionKey("line", "1234567890", "Uother")

# --- the contract, for both backends ---------------------------------------------------------------


async def test_new_user_has_nothing(store: SessionStore, user: SessionKey) -> None:
    loaded = await store.load(user, "e1")
    assert (loaded.session, loaded.version, loaded.duplicate) == (None, 0, False)


async def test_round_trip(store: SessionStore, user: SessionKey, realistic: Session) -> None:
    assert await store.save(user, realistic, 0) is SaveOutcome.SAVED
    loaded = await store.load(user)
    assert (loaded.session, loaded.version, loaded.duplicate) == (realistic, 1, False)
    changed = realistic.with_answers("lancers", {"reason": "other"})
    assert await store.save(user, changed, 1, "e2") is SaveOutcome.SAVED
    loaded = await store.load(user, "e3")
    assert (loaded.session, loaded.version, loaded.duplicate) == (changed, 2, False)


async def test_version_conflict(store: SessionStore, user: SessionKey) -> None:
    await store.save(user, SESSION, 0)
    first, second = await store.load(user), await store.load(user)
    assert await store.save(user, replace(SESSION, state="a"), first.version) is SaveOutcome.SAVED
    assert await store.save(user, replace(SESSION, state="b"), second.version) is SaveOutcome.CONFLICT
    loaded = await store.load(user)
    assert loaded.session == replace(SESSION, state="a") and loaded.version == 2
    assert await store.save(user, SESSION, 0) is SaveOutcome.CONFLICT  # "new user" is a version too


async def test_duplicate_event(store: SessionStore, user: SessionKey) -> None:
    assert await store.save(user, SESSION, 0, event_id="e1") is SaveOutcome.SAVED
    loaded = await store.load(user, "e1")
    assert loaded.duplicate and loaded.version == 1
    assert await store.save(user, replace(SESSION, state="x"), 1, event_id="e1") is SaveOutcome.DUPLICATE
    after = await store.load(user)
    assert (after.session, after.version) == (SESSION, 1)  # nothing written
    assert not (await store.load(user, "e2")).duplicate


async def test_duplicate_wins_over_conflict(store: SessionStore, user: SessionKey) -> None:
    await store.save(user, SESSION, 0, event_id="e1")
    assert await store.save(user, SESSION, 0, event_id="e1") is SaveOutcome.DUPLICATE


async def test_conflict_does_not_record_the_event(store: SessionStore, user: SessionKey) -> None:
    await store.save(user, SESSION, 0)
    assert await store.save(user, SESSION, 0, event_id="e1") is SaveOutcome.CONFLICT
    assert not (await store.load(user, "e1")).duplicate
    assert await store.save(user, SESSION, 1, event_id="e1") is SaveOutcome.SAVED


async def test_dedupe_is_per_user(store: SessionStore, user: SessionKey) -> None:
    await store.save(user, SESSION, 0, event_id="e1")
    assert not (await store.load(OTHER, "e1")).duplicate


async def test_save_none_erases_and_records_nothing(store: SessionStore, user: SessionKey) -> None:
    await store.save(user, SESSION, 0, event_id="e1")
    assert await store.save(user, None, 2) is SaveOutcome.CONFLICT
    assert await store.save(user, None, 1, event_id="e2") is SaveOutcome.SAVED
    loaded = await store.load(user, "e2")
    # 削除 leaves no dedupe set behind (its key would name the user): not even the erasing event's id
    assert (loaded.session, loaded.version, loaded.duplicate) == (None, 0, False)
    assert not (await store.load(user, "e1")).duplicate  # the old dedupe set went with the session
    assert await store.save(user, SESSION, 0) is SaveOutcome.SAVED


async def test_erase_leaves_other_users_alone(store: SessionStore, user: SessionKey) -> None:
    await store.save(user, SESSION, 0, event_id="e1")
    await store.save(OTHER, SESSION, 0, event_id="e1")
    await store.erase(user)
    mine, other = await store.load(user, "e1"), await store.load(OTHER, "e1")
    assert (mine.session, mine.version, mine.duplicate) == (None, 0, False)
    assert (other.session, other.version, other.duplicate) == (SESSION, 1, True)
    await store.erase(user)  # erasing nothing is fine


async def test_erase_workspace_removes_only_that_workspace(store: SessionStore) -> None:
    team_a = [SessionKey("slack", "T_A", f"U{i}") for i in range(3)]
    team_b = SessionKey("slack", "T_B", "U0")
    line_same_id = SessionKey("line", "T_A", "U0")
    for key in (*team_a, team_b, line_same_id):
        await store.save(key, SESSION, 0, event_id="e1")
    assert await store.erase_workspace("slack", "T_A") == 3
    for key in team_a:
        loaded = await store.load(key, "e1")
        assert (loaded.session, loaded.duplicate) == (None, False)
        await store.release(key, loaded.ticket)  # a turn ends with a save or a release: nothing is left
    assert (await store.load(team_b)).session == SESSION
    assert (await store.load(line_same_id)).session == SESSION
    assert await store.erase_workspace("slack", "T_A") == 0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (SessionKey("line", "a:b", "c"), SessionKey("line", "a", "b:c")),
        (SessionKey("line", "-", "U1}:session"), SessionKey("line", "-", "U1")),
        (SessionKey("line", "-", "{U1}"), SessionKey("line", "-", "U1")),
        (SessionKey("line", "-", "%3A"), SessionKey("line", "-", ":")),
    ],
)
async def test_crafted_ids_do_not_collide(store: SessionStore, a: SessionKey, b: SessionKey) -> None:
    await store.save(a, replace(SESSION, state="a"), 0, event_id="e")
    await store.save(b, replace(SESSION, state="b"), 0)
    assert (await store.load(a)).session == replace(SESSION, state="a")
    loaded_b = await store.load(b, "e")
    assert loaded_b.session == replace(SESSION, state="b") and not loaded_b.duplicate
    await store.erase(b)
    assert (await store.load(a)).version == 1


async def test_concurrent_writers_lose_no_update(store: SessionStore, user: SessionKey) -> None:
    conflicts = 0
    # timed, as LINE and Slack events are; as many writers as the dedupe set keeps ids (an event later than that
    # many newer ones is refused as a replay: the floor cannot tell it from one)
    sent = int(time.time() * 1000) - 1000
    writers = DEFAULT_DEDUPE_LIMIT - 1

    async def writer(i: int) -> None:
        nonlocal conflicts
        for _ in range(200):
            loaded = await store.load(user, f"event-{i}", sent + i)
            assert not loaded.duplicate
            current = loaded.session or Session("lancers", "start")
            await asyncio.sleep(0)  # let the other writers interleave, as a real turn would
            updated = replace(current, fields={**current.fields, f"w{i}": "1"})
            outcome = await store.save(user, updated, loaded.version, f"event-{i}", sent + i)
            if outcome is SaveOutcome.SAVED:
                return
            assert outcome is SaveOutcome.CONFLICT
            conflicts += 1
        raise AssertionError(f"writer {i} never saved")

    await asyncio.gather(*(writer(i) for i in range(writers)))
    final = await store.load(user)
    assert final.session is not None
    assert dict(final.session.fields) == {f"w{i}": "1" for i in range(writers)}
    assert final.version == writers
    assert conflicts > 0, "the writers did race"
    assert all([(await store.load(user, f"event-{i}", sent + i)).duplicate for i in range(writers)])


# --- Redis only (marked `redis` by conftest.py, through the redis_url fixture) --------------------


async def test_ttl_is_set_and_refreshed(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    await redis_store.save(user, SESSION, 0, event_id="e1")
    session_key = keys.session(user)
    assert TTL * 1000 - 5000 < await raw.pttl(session_key) <= TTL * 1000
    assert 0 < await raw.pttl(keys.seen(user)) <= 86_400_000
    await raw.pexpire(session_key, 5000)  # as if most of the TTL had passed
    await redis_store.save(user, SESSION, 1)
    assert await raw.pttl(session_key) > TTL * 1000 - 5000


async def test_expired_session_loads_as_none(redis_url: str, raw: Redis, keys: KeyBuilder, user: SessionKey) -> None:
    store = RedisSessionStore.from_url(redis_url, 0.2, keys=keys)
    try:
        await store.save(user, SESSION, 0)
        assert 0 < await raw.pttl(keys.session(user)) <= 200
        assert (await store.load(user)).version == 1
        await asyncio.sleep(0.3)
        loaded = await store.load(user)
        assert (loaded.session, loaded.version) == (None, 0)
        assert await store.save(user, SESSION, 0) is SaveOutcome.SAVED
    finally:
        await store.close()


async def test_dedupe_window_and_cap(redis_url: str, raw: Redis, keys: KeyBuilder, user: SessionKey) -> None:
    store = RedisSessionStore(Redis.from_url(redis_url), TTL, dedupe_seconds=0.3, keys=keys, dedupe_limit=3)
    try:
        for version, event in enumerate(["e1", "e2", "e3", "e4"]):
            assert await store.save(user, SESSION, version, event) is SaveOutcome.SAVED
        assert await raw.zcard(keys.seen(user)) == 3  # capped: the newest 2 ids and the floor
        assert not (await store.load(user, "e1")).duplicate  # no event time: counted from now, after the floor
        assert (await store.load(user, "e4")).duplicate
        assert 0 < await raw.pttl(keys.seen(user)) <= 300
        await asyncio.sleep(0.35)  # past the window: ids count as new again, and the set expired
        assert not (await store.load(user, "e4")).duplicate
        assert await raw.exists(keys.seen(user)) == 0
        assert await store.save(user, SESSION, 4, "e4") is SaveOutcome.SAVED
    finally:
        await store.close()


async def test_stale_ids_are_trimmed(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    await raw.zadd(keys.seen(user), {"ancient": 1, "old": 2})  # scores in ms: 1970
    assert not (await redis_store.load(user, "ancient")).duplicate
    await redis_store.save(user, SESSION, 0, "new")
    assert await raw.zrange(keys.seen(user), 0, -1) == [event_member("new")]


async def test_erase_deletes_every_user_key_but_the_rate_bucket(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    for key in (user, OTHER):
        await redis_store.save(key, SESSION, 0, event_id="e1")
        await raw.set(keys.rate(key), b"3", px=60_000)  # the rate limiter's bucket
    assert await raw.exists(*(keys.session(user), keys.seen(user), keys.rate(user))) == 3
    await redis_store.erase(user)
    tag = keys.tag(user)
    # the bucket stays until it expires (an erase must not refill it); nothing else names the user
    assert [k async for k in raw.scan_iter(match=f"{PREFIX}:{tag}:*")] == [keys.rate(user).encode()]
    assert 0 < await raw.pttl(keys.rate(user)) <= 60_000
    assert await raw.exists(*(keys.session(OTHER), keys.seen(OTHER), keys.rate(OTHER))) == 3


async def test_save_none_deletes_every_user_key_but_the_rate_bucket(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    await redis_store.save(user, SESSION, 0, event_id="e1")
    await raw.set(keys.rate(user), b"3", px=60_000)
    assert await redis_store.save(user, None, 1, event_id="e2") is SaveOutcome.SAVED
    assert await raw.exists(keys.session(user), keys.seen(user)) == 0, "削除 leaves no session and no dedupe set"
    assert await raw.get(keys.rate(user)) == b"3", "nor refills the rate bucket"


async def test_crafted_user_stays_in_its_own_slot(redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder) -> None:
    victim = SessionKey("line", "-", "Uvictim")
    attacker = SessionKey("line", "-", "Uvictim}:session:{x")
    await redis_store.save(victim, SESSION, 0)
    await redis_store.save(attacker, replace(SESSION, state="evil"), 0, event_id="e")
    stored = sorted([k.decode() async for k in raw.scan_iter(match=f"{PREFIX}:*")])
    assert stored == sorted([keys.session(victim), keys.session(attacker), keys.seen(attacker)])
    assert len({key_slot(k.encode()) for k in (keys.session(attacker), keys.seen(attacker), keys.rate(attacker))}) == 1
    assert (await redis_store.load(victim)).session == SESSION


async def test_workspace_scan(redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder) -> None:
    users = [
        SessionKey("slack", "T1", "U1"),
        SessionKey("slack", "T1", "U2:x"),
        SessionKey("slack", "T10", "U1"),
        SessionKey("slack", "*", "U1"),
        SessionKey("line", "T1", "U1"),
    ]
    for key in users:
        await redis_store.save(key, SESSION, 0, event_id="e")
    found = {k.decode() async for k in raw.scan_iter(match=keys.workspace_pattern("slack", "T1"))}
    assert found == {k for key in users[:2] for k in (keys.session(key), keys.seen(key))}


@pytest.mark.parametrize(
    "value",
    [b"garbage", b"\xff\xfe", b"3|{not json", b"3|x\x9c\x00broken", b'3|{"_":2}', b"3|" + b"[" * 10_000],
)
async def test_corrupted_value_loads_as_none(
    redis_store: RedisSessionStore,
    raw: Redis,
    keys: KeyBuilder,
    user: SessionKey,
    value: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await raw.set(keys.session(user), value)
    expected_version = 3 if value.startswith(b"3|") else 0
    for event_id in (None, "e1"):  # the GET path and the script path
        loaded = await redis_store.load(user, event_id)
        assert (loaded.session, loaded.version) == (None, expected_version)
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    # The next turn replaces the unreadable value instead of conflicting forever.
    assert await redis_store.save(user, SESSION, expected_version) is SaveOutcome.SAVED
    assert (await redis_store.load(user)).session == SESSION


async def test_memory_usage_of_a_realistic_session(
    redis_store: RedisSessionStore,
    raw: Redis,
    keys: KeyBuilder,
    user: SessionKey,
    realistic: Session,
    report: list[str],
) -> None:
    await redis_store.save(user, realistic, 0, event_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890")
    usage = await raw.memory_usage(keys.session(user))
    seen = await raw.memory_usage(keys.seen(user))
    plain = json.dumps(realistic.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    report.append(
        f"MEMORY USAGE of a realistic session: {usage} bytes (JSON {len(plain)} B, stored body "
        f"{len(codec.encode(realistic))} B); its dedupe set: {seen} bytes"
    )
    print(report[-1])
    assert usage is not None and usage < 1024


async def test_a_turn_costs_at_most_two_commands(
    redis_store: RedisSessionStore, user: SessionKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    await redis_store.save(user, SESSION, 0, "warm-up")  # loads the scripts once (NOSCRIPT → SCRIPT LOAD)
    await redis_store.load(user, "warm-up")
    client: Any = redis_store._client
    sent: list[str] = []
    original = client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    loaded = await redis_store.load(user, "turn-1")
    assert await redis_store.save(user, SESSION, loaded.version, "turn-1") is SaveOutcome.SAVED
    assert sent == ["EVALSHA", "EVALSHA"]
    sent.clear()
    loaded = await redis_store.load(user)
    await redis_store.save(user, SESSION, loaded.version)
    assert sent == ["GET", "EVALSHA"]
    sent.clear()
    await redis_store.erase(user)
    assert sent == ["DEL"]


async def test_scripts_survive_a_script_flush(redis_store: RedisSessionStore, raw: Redis, user: SessionKey) -> None:
    await redis_store.save(user, SESSION, 0, "e1")
    await raw.script_flush()  # as after a restart or a failover to a fresh replica
    assert await redis_store.save(user, SESSION, 1, "e2") is SaveOutcome.SAVED
    assert (await redis_store.load(user, "e2")).duplicate


async def test_from_url_settings(redis_url: str) -> None:
    store = RedisSessionStore.from_url(redis_url, TTL)
    try:
        assert await store.ping()
        client = store._client
        assert isinstance(client, Redis)
        pool = client.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        assert pool.max_connections == 128 and pool.timeout == 2.0
        kwargs = pool.connection_kwargs
        assert kwargs["socket_connect_timeout"] == 1.0 and kwargs["socket_timeout"] == 1.0
        assert kwargs["health_check_interval"] == 30
        assert isinstance(kwargs["retry"], Retry) and kwargs["retry"].get_retries() == 2
    finally:
        await store.close()
    overridden = RedisSessionStore.from_url(redis_url, TTL, dedupe_limit=5, max_connections=4, socket_timeout=0.5)
    try:
        assert overridden._dedupe_limit == 5
        pool = overridden._client.connection_pool  # type: ignore[union-attr]
        assert pool.max_connections == 4 and pool.connection_kwargs["socket_timeout"] == 0.5
    finally:
        await overridden.close()


async def test_from_url_cluster_and_sentinel_forms() -> None:
    cluster = RedisSessionStore.from_url("redis+cluster://127.0.0.1:7000", TTL)
    assert isinstance(cluster._client, RedisCluster)
    await cluster.close()
    tls_cluster = RedisSessionStore.from_url("rediss+cluster://127.0.0.1:7000", TTL)
    assert isinstance(tls_cluster._client, RedisCluster)
    await tls_cluster.close()

    sentinel = RedisSessionStore.from_url(
        "redis+sentinel://:s3cret@10.0.0.1:26380,[::1],[2001:db8:1:2]:5,h3/mymaster/2", TTL, dedupe_limit=7
    )
    try:
        assert sentinel._sentinel is not None
        hosts = [
            (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
            for s in sentinel._sentinel.sentinels
        ]
        assert hosts == [("10.0.0.1", 26380), ("::1", 26379), ("2001:db8:1:2", 5), ("h3", 26379)]
        assert sentinel._dedupe_limit == 7
        master_kwargs = sentinel._client.connection_pool.connection_kwargs  # type: ignore[union-attr]
        assert master_kwargs["password"] == "s3cret" and master_kwargs["db"] == 2
        assert sentinel._client.connection_pool.service_name == "mymaster"  # type: ignore[union-attr]
    finally:
        await sentinel.close()


@pytest.mark.parametrize(
    "url", ["http://localhost", "redis+sentinel://h:1", "redis+sentinel://h:1/a/0/x", "redis+sentinel://h:1/s?x=1"]
)
def test_from_url_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        RedisSessionStore.from_url(url, TTL)


async def test_unreachable_server_pings_false() -> None:
    store = RedisSessionStore.from_url("redis://127.0.0.1:1", TTL, socket_connect_timeout=0.2)
    try:
        assert not await store.ping()
    finally:
        await store.close()


async def test_client_must_return_bytes(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ValueError):
        RedisSessionStore(client, TTL)
    await client.aclose()


# --- the other deployments: throwaway servers started by conftest.py ------------------------------


async def exercise(store: RedisSessionStore, user: SessionKey) -> None:
    """A short run through the contract: enough to show the scripts and keys work on this deployment."""
    assert await store.ping()
    assert await store.save(user, SESSION, 0, "e1") is SaveOutcome.SAVED
    loaded = await store.load(user, "e1")
    assert (loaded.session, loaded.version, loaded.duplicate) == (SESSION, 1, True)
    assert await store.save(user, SESSION, 0, "e2") is SaveOutcome.CONFLICT
    assert await store.save(user, SESSION, 1, "e1") is SaveOutcome.DUPLICATE
    assert await store.save(user, None, 1, "e2") is SaveOutcome.SAVED
    assert (await store.load(user)).session is None
    assert await store.save(user, SESSION, 0) is SaveOutcome.SAVED
    await store.erase(user)
    loaded = await store.load(user, "e2")
    assert (loaded.session, loaded.version, loaded.duplicate) == (None, 0, False)
    assert loaded.ticket == 1 and loaded.ready, "the first turn in flight for this user"
    await store.release(user, loaded.ticket)


async def test_cluster(cluster_url: str, keys: KeyBuilder) -> None:
    store = RedisSessionStore.from_url(cluster_url, TTL, keys=keys)
    try:
        for user in (SessionKey("slack", "T1", "U1"), SessionKey("line", "-", "Ux}:{y"), SessionKey("a:b", "{", "}")):
            await exercise(store, user)
    finally:
        await store.close()
    # The node does enforce slots: a script given two users' keys is refused.
    port = int(cluster_url.rsplit(":", 1)[1])
    node = SyncRedis(port=port)
    try:
        with pytest.raises(ResponseError, match="same slot"):
            node.eval("return 1", 2, keys.session(SessionKey("line", "-", "U1")), keys.session(OTHER))
    finally:
        node.close()


async def test_sentinel(sentinel_url: str, keys: KeyBuilder, user: SessionKey) -> None:
    store = RedisSessionStore.from_url(sentinel_url, TTL, keys=keys)
    try:
        await exercise(store, user)
    finally:
        await store.close()


async def test_unix_socket(unix_url: str, keys: KeyBuilder, user: SessionKey) -> None:
    store = RedisSessionStore.from_url(unix_url, TTL, keys=keys)
    try:
        await exercise(store, user)
    finally:
        await store.close()
