"""The Redis session store: one turn costs at most two Redis commands, each atomic.

Connecting (URL forms, timeouts, pools, Sentinel) is `redis_url`; the scripts are `redis_scripts`.

Values: the session key holds the string ``"<version>|<json>"`` (see `codec`) rather than a hash
``{v, d}``: one ``SET … PX`` writes value, version and TTL together, one ``GET`` reads them, and a
short string costs less memory than a hash's header and field names. Lua reads the version with
``string.match``; the body is never parsed on the server.

Dedupe: per user, a sorted set of event ids (8-byte digests of them) scored by the event's time (the
platform's timestamp, else server time), trimmed to the window and capped at `dedupe_limit` members so it
stays a small listpack; a floor (the newest evicted time) refuses whatever the cap let go, so the cap never
reopens a replay. It expires a window after the last save. Server time (``TIME`` in the scripts) is used
for "now", so that replicas whose clocks drift agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from redis.asyncio import Redis, RedisCluster, Sentinel
from redis.exceptions import RedisError

from bot.config import DEFAULT_DEDUPE_SECONDS
from bot.core.session import Session, SessionKey
from bot.store import codec
from bot.store.base import DEFAULT_DEDUPE_LIMIT, Loaded, SaveOutcome, SharedRedis, StoreUnavailable
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import RateLimit, Verdict
from bot.store.redis_scripts import LOAD, LOAD_AND_TAKE, RELEASE, SAVE
from bot.store.redis_url import connect

DEFAULT_KEYS = KeyBuilder()
TAKEOVER_MS = 3000  # a turn that has not ended after this long (its replica died) no longer holds up the next


class RedisSessionStore:
    """A `SessionStore` on Redis (standalone, Sentinel or Cluster). The client must return bytes."""

    def __init__(
        self,
        client: Redis | RedisCluster,
        ttl_seconds: float,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
        keys: KeyBuilder = DEFAULT_KEYS,
        *,
        dedupe_limit: int = DEFAULT_DEDUPE_LIMIT,
        rate_limit: RateLimit | None = None,
        sentinel: Sentinel | None = None,
    ) -> None:
        """`rate_limit`: this store keeps the users' rate-limit buckets (under `keys`, in this Redis), so a
        `load(..., take_token=True)` takes the token in the load script itself. Wire a `RedisRateLimiter` on
        the same client, keys and limit for the loads that carry no event id (`bot.wiring.build_limiter`)."""
        self._ttl_ms = int(ttl_seconds * 1000)
        self._dedupe_ms = int(dedupe_seconds * 1000)
        if self._ttl_ms <= 0 or self._dedupe_ms <= 0 or dedupe_limit <= 0:
            raise ValueError("ttl_seconds, dedupe_seconds and dedupe_limit must be positive")
        if client.get_encoder().decode_responses:
            raise ValueError("the Redis client must be created with decode_responses=False")
        self._client = client
        self._keys = keys
        self._dedupe_limit = dedupe_limit
        self._rate_limit = rate_limit
        self._sentinel = sentinel  # owned when built by `from_url`, closed with the client
        # Registered once: each call is an EVALSHA (the script is loaded on NOSCRIPT, e.g. after a
        # restart or on a new cluster node, and the call is repeated).
        self._load_script = client.register_script(LOAD)
        self._load_and_take_script = client.register_script(LOAD_AND_TAKE)
        self._save_script = client.register_script(SAVE)
        self._release_script = client.register_script(RELEASE)

    @classmethod
    def from_url(
        cls,
        url: str,
        ttl_seconds: float,
        *,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
        keys: KeyBuilder = DEFAULT_KEYS,
        dedupe_limit: int = DEFAULT_DEDUPE_LIMIT,
        rate_limit: RateLimit | None = None,
        **opts: Any,
    ) -> RedisSessionStore:
        """A store with its own client for `url` (forms in `bot.store.redis_url`); `opts` go to redis-py."""
        connection = connect(url, **opts)
        return cls(
            connection.client,
            ttl_seconds,
            dedupe_seconds,
            keys,
            dedupe_limit=dedupe_limit,
            rate_limit=rate_limit,
            sentinel=connection.sentinel,
        )

    async def load(
        self,
        key: SessionKey,
        event_id: str | None = None,
        event_at: int | None = None,
        *,
        take_token: bool = False,
        ticket: int = 0,
    ) -> Loaded:
        """One GET, or with `event_id` one EVALSHA that also reports whether the event was processed
        (or is older than the window or the floor: `event_at` is the event's own time in ms, if known).

        With `take_token` on a store built with a `rate_limit`, that EVALSHA also takes the user's token
        (unless the event is a duplicate): a turn costs two round trips, not three.
        """
        _check_event(event_id)
        verdict, taken, ready = None, 0, True
        with _unavailable("load"):
            if event_id is None:
                value = await self._client.get(self._keys.session(key))
                duplicate = False
            else:
                keys = [self._keys.session(key), self._keys.seen(key), self._keys.order(key)]
                args: list[bytes | str | int | float] = [
                    event_member(event_id),
                    self._dedupe_ms,
                    event_at or 0,
                    event_id,
                    ticket,
                    TAKEOVER_MS,
                ]
                if take_token and self._rate_limit is not None and not ticket:
                    keys.append(self._keys.rate(key))
                    reply = await self._load_and_take_script(keys=keys, args=[*args, *self._rate_limit.bucket_args()])
                    verdict = None if reply[4] is None else Verdict(cast(bytes, reply[4]).decode())
                else:
                    reply = await self._load_script(keys=keys, args=args)
                duplicate, value, taken, ready = bool(reply[0]), reply[1], int(reply[2]), bool(reply[3])
        if value is None:
            return Loaded(None, 0, duplicate, verdict, taken, ready)
        version, session = codec.unpack(cast(bytes, value))
        return Loaded(session, version, duplicate, verdict, taken, ready)

    async def save(
        self,
        key: SessionKey,
        session: Session | None,
        version: int,
        event_id: str | None = None,
        event_at: int | None = None,
        ticket: int = 0,
    ) -> SaveOutcome:
        """One EVALSHA: DUPLICATE, CONFLICT, or write + record the event id (or erase), then SAVED."""
        _check_event(event_id)
        op, body = ("del", b"") if session is None else ("set", codec.encode(session))
        args: list[str | int | bytes] = [op, version, body, self._ttl_ms, self._dedupe_ms, self._dedupe_limit, ticket]
        if event_id is not None:
            args.extend((event_member(event_id), event_at or 0, event_id))
        keys = [self._keys.session(key), self._keys.seen(key), self._keys.order(key)]
        with _unavailable("save"):
            reply = await self._save_script(keys=keys, args=args)
        return SaveOutcome(cast(bytes, reply).decode())

    async def release(self, key: SessionKey, ticket: int) -> None:
        """One EVALSHA, for a turn that ends unsaved: the ticket back, so the user's later turns run."""
        if ticket:
            with _unavailable("release"):
                await self._release_script(keys=[self._keys.order(key)], args=[ticket])

    async def erase(self, key: SessionKey) -> None:
        """One DEL of the user's session, dedupe set and web-chat inbox (one hash slot, so this holds on Cluster too).

        The rate-limit bucket stays until it has refilled and expires by itself: an unfollow/follow or
        削除 loop must not hand a flooding user a fresh allowance."""
        with _unavailable("erase"):
            await self._client.delete(
                self._keys.session(key), self._keys.seen(key), self._keys.order(key), self._keys.inbox(key)
            )

    async def erase_workspace(self, channel: str, workspace: str) -> int:
        """SCAN the workspace's keys (every primary on a cluster) and delete them user by user.

        Rare (an uninstall) and O(keyspace): acceptable off the hot path. Keys are grouped by their hash
        tag so each DEL stays within one slot.
        """
        users: dict[bytes, list[bytes]] = {}
        pattern = self._keys.workspace_pattern(channel, workspace)
        with _unavailable("erase_workspace"):
            async for raw in self._client.scan_iter(match=pattern, count=500):
                name = raw if isinstance(raw, bytes) else str(raw).encode()
                users.setdefault(self._keys.tag_of(name), []).append(name)
            for names in users.values():
                await self._client.delete(*names)
        return len(users)

    @property
    def client(self) -> Redis | RedisCluster:
        """The shared client (and pool), for other per-user Redis features such as the rate limiter."""
        return self._client

    @property
    def keys(self) -> KeyBuilder:
        return self._keys

    def shared_redis(self) -> SharedRedis:
        return SharedRedis(self._client, self._keys, cluster=isinstance(self._client, RedisCluster))

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        """Close the client and its connection pool (and the Sentinel connections, if any)."""
        await self._client.aclose()
        if self._sentinel is not None:
            await self._sentinel.aclose()


def event_member(event_id: str) -> bytes:
    """What the dedupe set keeps of an event id: an 8-byte digest, a third of a 26-character LINE id. Two ids
    of one user's last `dedupe_limit` events colliding is a chance of about 1 in 10^17."""
    return hashlib.blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def _check_event(event_id: str | None) -> None:
    """A malformed event id is the caller's bug, not a store outage: never sent to Redis, never "unavailable"."""
    if event_id is not None and (not isinstance(event_id, str) or not event_id or len(event_id) > 256):
        raise ValueError("event ids are non-empty strings of at most 256 characters")


@contextmanager
def _unavailable(operation: str) -> Iterator[None]:
    """Turn connection errors and timeouts into StoreUnavailable (a script either ran whole or not at all)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StoreUnavailable(f"Redis {operation} failed: {type(exc).__name__}") from exc
