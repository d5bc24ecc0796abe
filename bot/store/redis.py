"""The Redis session store: one turn costs at most two Redis commands, each atomic.

URL forms accepted by `RedisSessionStore.from_url`:

- ``redis://[[user]:[password]@]host[:port][/db]``: one server over TCP.
- ``rediss://…``: the same over TLS (certificates verified; ``?ssl_cert_reqs=none`` to relax).
- ``unix://[[user]:[password]@]/path/to/redis.sock[?db=0]``: a local socket.
- ``redis+cluster://[[user]:[password]@]host:port`` (or ``rediss+cluster://`` for TLS): any node of a
  Redis Cluster; the others are discovered. db must be 0.
- ``redis+sentinel://[[user]:[password]@]host:port[,host2:port2…]/service_name[/db]``: Sentinels
  (port 26379 when omitted) asked for the master of ``service_name``; the credentials are the master's
  (pass ``sentinel_kwargs={"password": …}`` when the Sentinels need their own).

Values: the session key holds the string ``"<version>|<json>"`` (see `codec`) rather than a hash
``{v, d}``: one ``SET … PX`` writes value, version and TTL together, one ``GET`` reads them, and a
short string costs less memory than a hash's header and field names. Lua reads the version with
``string.match``; the body is never parsed on the server.

Dedupe: per user, a sorted set of event ids scored by the event's time (the platform's timestamp, else
server time), trimmed to the window and capped at `dedupe_limit` members so it stays a small listpack; a
floor (the newest evicted time) refuses whatever the cap let go, so the cap never reopens a replay. It
expires a window after the last save. Server time (``TIME`` in the scripts) is used for "now", so that
replicas whose clocks drift agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster, Sentinel
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from bot.core.session import Session, SessionKey
from bot.store import codec
from bot.store.base import Loaded, SaveOutcome, StoreUnavailable
from bot.store.keys import KeyBuilder
from bot.store.memory import DEFAULT_DEDUPE_LIMIT, DEFAULT_DEDUPE_SECONDS
from bot.store.ratelimit import RateLimiter, Verdict
from bot.store.redis_ratelimit import TAKE_TOKEN, RedisRateLimiter

DEFAULT_KEYS = KeyBuilder()

# Dedupe, shared by every script. The user's `seen` sorted set holds processed event ids scored by the
# event's own time (ms; the platform's timestamp when it gives one, else server time), plus one member ""
# whose score is the *floor*: the newest time of any id evicted by the cap. An event is refused as seen when
# its id is in the set or, when the platform gave its time, when it is older than the window or not newer
# than the floor — so evicting
# old ids to keep the set small (a listpack) never lets a replay of an evicted event through.
# Event ids are never empty (the channels derive one from the event when the platform sends none).
_SEEN = """
local function event_time(arg, now)
  local at = tonumber(arg) or 0
  if at <= 0 or at > now then return now end
  return at
end
local function seen_before(seen, event, at, since, timed)
  if timed then
    if at <= since then return true end
    local floor = redis.call('ZSCORE', seen, '')
    if floor and at <= tonumber(floor) then return true end
  end
  local score = redis.call('ZSCORE', seen, event)
  return score and tonumber(score) > since
end
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# KEYS: session, seen. ARGV: event id, dedupe window (ms), event time (ms, 0: unknown).
# Returns {duplicate 0/1, value or nil}.
_LOAD = (
    _SEEN
    + """
local now = server_now()
local at = event_time(ARGV[3], now)
local duplicate = 0
if seen_before(KEYS[2], ARGV[1], at, now - tonumber(ARGV[2]), (tonumber(ARGV[3]) or 0) > 0) then duplicate = 1 end
return {duplicate, redis.call('GET', KEYS[1])}
"""
)

# The same, and the rate limit in the same round trip. KEYS: session, seen, rate (one slot).
# ARGV: event id, dedupe window (ms), event time (ms, 0: unknown), burst, tokens per ms, bucket expiry (ms).
# Returns {duplicate 0/1, value or nil, verdict or nil}: a duplicate takes no token.
_LOAD_AND_TAKE = (
    TAKE_TOKEN
    + _SEEN
    + """
local now = server_now()
local at = event_time(ARGV[3], now)
if seen_before(KEYS[2], ARGV[1], at, now - tonumber(ARGV[2]), (tonumber(ARGV[3]) or 0) > 0) then
  return {1, redis.call('GET', KEYS[1]), false}
end
local verdict = take_token(KEYS[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], now)
return {0, redis.call('GET', KEYS[1]), verdict}
"""
)

# KEYS: session, seen (one slot).
# ARGV: op ('set' | 'del'), expected version, body, ttl (ms), dedupe window (ms), dedupe limit, [event id,
# event time (ms, 0: unknown)].
# 'del' (削除) deletes the session and the dedupe set and records nothing: no key naming the user is left but
# the rate-limit bucket, which is not touched (erasing must not refill it) and expires once refilled.
_SAVE = (
    _SEEN
    + """
local now = server_now()
local since = now - tonumber(ARGV[5])
local event = ARGV[7]
local at = event_time(ARGV[8], now)
if event and seen_before(KEYS[2], event, at, since, (tonumber(ARGV[8]) or 0) > 0) then return 'duplicate' end
local version = 0
local current = redis.call('GET', KEYS[1])
if current then
  local digits = string.match(current, '^(%d+)|')
  if digits and #digits <= 15 then version = tonumber(digits) end
end
if version ~= tonumber(ARGV[2]) then return 'conflict' end
if ARGV[1] == 'del' then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 'saved'
end
redis.call('SET', KEYS[1], string.format('%d|', version + 1) .. ARGV[3], 'PX', ARGV[4])
if event then
  -- Trim first, then add: a sorted set that ever holds more than zset-max-listpack-entries (128) members
  -- becomes a skiplist for good, ~17 KB instead of ~5 KB for the same 128 ids (docs/benchmark.md).
  -- Ids beyond the cap go oldest first, and the floor rises to the newest of them.
  local floor = tonumber(redis.call('ZSCORE', KEYS[2], '') or '0')
  redis.call('ZREM', KEYS[2], '')
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', since)
  local excess = redis.call('ZCARD', KEYS[2]) - (tonumber(ARGV[6]) - 2)
  if excess > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[2], excess)
    local newest = tonumber(popped[#popped])
    if newest > floor then floor = newest end
  end
  redis.call('ZADD', KEYS[2], at, event)
  if floor > since then redis.call('ZADD', KEYS[2], floor, '') end
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return 'saved'
"""
)

# Connection settings, each overridable through `from_url(**opts)`:
# A Redis on the same network connects in milliseconds; giving up after 1 s leaves room for a retry
# while the user is still waiting for the answer.
_CONNECT_TIMEOUT = 1.0
# Every command here is O(1) or a short script: a reply slower than 1 s means a stuck server or a
# partition, and waiting longer only delays the error.
_READ_TIMEOUT = 1.0
# A command holds a connection until its reply is read, and under a burst the event loop reads late: with
# 32, a benchmark saturating one process (128 turns in flight) had turns wait over 2 s for a connection and
# answer "busy", and the waiting cost CPU (docs/benchmark.md). 128 are opened only as a burst needs them,
# and (replicas × 128) stays below Redis's default maxclients of 10 000 up to 78 replicas.
_POOL_SIZE = 128
# When all are busy, wait briefly for one (BlockingConnectionPool) instead of failing the turn at once.
_POOL_WAIT = 2.0
# PING a connection idle for 30 s before reusing it: load balancers and NAT drop idle TCP silently and a
# failover leaves dead sockets; finding out before the real command saves a failed turn.
_HEALTH_CHECK_INTERVAL = 30
# 3 attempts, 0.1 s then 0.2 s apart: rides out a reconnect or a failover blip, and more would only delay
# an answer. A save retried after its reply was lost never overwrites blindly: with an event id (every
# LINE/Slack turn) it answers DUPLICATE, the state being already saved; without one it answers CONFLICT.
_RETRIES = 2


def _retry() -> Retry:
    # The asyncio Retry: the sync `redis.retry.Retry` is accepted by asyncio clients but never awaits the
    # call, so it silently disables retries (redis-py issue #4262).
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), _RETRIES)


def _connection_defaults() -> dict[str, Any]:
    return {
        "socket_connect_timeout": _CONNECT_TIMEOUT,
        "socket_timeout": _READ_TIMEOUT,
        "retry": _retry(),
        "health_check_interval": _HEALTH_CHECK_INTERVAL,
        "client_name": "taikai-bot",  # visible in CLIENT LIST when tracking connections down
        "decode_responses": False,  # values are UTF-8 JSON handled by `codec`
    }


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
    ) -> None:
        self._ttl_ms = int(ttl_seconds * 1000)
        self._dedupe_ms = int(dedupe_seconds * 1000)
        if self._ttl_ms <= 0 or self._dedupe_ms <= 0 or dedupe_limit <= 0:
            raise ValueError("ttl_seconds, dedupe_seconds and dedupe_limit must be positive")
        if client.get_encoder().decode_responses:
            raise ValueError("the Redis client must be created with decode_responses=False")
        self._client = client
        self._keys = keys
        self._dedupe_limit = dedupe_limit
        self._sentinel: Sentinel | None = None  # owned when built by `from_url`, closed with the client
        # Registered once: each call is an EVALSHA (the script is loaded on NOSCRIPT, e.g. after a
        # restart or on a new cluster node, and the call is repeated).
        self._load_script = client.register_script(_LOAD)
        self._load_and_take_script = client.register_script(_LOAD_AND_TAKE)
        self._save_script = client.register_script(_SAVE)

    @classmethod
    def from_url(
        cls,
        url: str,
        ttl_seconds: float,
        *,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
        keys: KeyBuilder = DEFAULT_KEYS,
        dedupe_limit: int = DEFAULT_DEDUPE_LIMIT,
        **opts: Any,
    ) -> RedisSessionStore:
        """A store with its own client for `url` (forms in the module docstring); `opts` go to redis-py."""
        scheme, _, rest = url.partition("://")
        if scheme in ("redis+cluster", "rediss+cluster"):
            options = {**_connection_defaults(), "max_connections": _POOL_SIZE, **opts}  # per node
            cluster = RedisCluster.from_url(f"{scheme.removesuffix('+cluster')}://{rest}", **options)
            return cls(cluster, ttl_seconds, dedupe_seconds, keys, dedupe_limit=dedupe_limit)
        if scheme == "redis+sentinel":
            master, sentinel = _sentinel_master(url, opts)
            store = cls(master, ttl_seconds, dedupe_seconds, keys, dedupe_limit=dedupe_limit)
            store._sentinel = sentinel
            return store
        if scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"unsupported Redis URL scheme {scheme!r}")
        options = {**_connection_defaults(), "max_connections": _POOL_SIZE, "timeout": _POOL_WAIT, **opts}
        pool = BlockingConnectionPool.from_url(url, **options)
        client = Redis.from_pool(pool)  # the client owns the pool: closing it closes the pool
        return cls(client, ttl_seconds, dedupe_seconds, keys, dedupe_limit=dedupe_limit)

    async def load(
        self,
        key: SessionKey,
        event_id: str | None = None,
        limiter: RateLimiter | None = None,
        event_at: int | None = None,
    ) -> Loaded:
        """One GET, or with `event_id` one EVALSHA that also reports whether the event was processed
        (or is older than the window or the floor: `event_at` is the event's own time in ms, if known).

        With a `RedisRateLimiter` on this client and these keys, that EVALSHA also takes the user's token
        (unless the event is a duplicate): a turn costs two round trips, not three.
        """
        duplicate, verdict = False, None
        _check_event(event_id)
        with _unavailable("load"):
            if event_id is None:
                value = await self._client.get(self._keys.session(key))
            elif isinstance(limiter, RedisRateLimiter) and self._holds_buckets_of(limiter):
                reply = await self._load_and_take_script(
                    keys=[self._keys.session(key), self._keys.seen(key), self._keys.rate(key)],
                    args=[event_id, self._dedupe_ms, event_at or 0, *limiter.bucket_args()],
                )
                duplicate, value = bool(reply[0]), reply[1]
                verdict = None if reply[2] is None else Verdict(cast(bytes, reply[2]).decode())
            else:
                reply = await self._load_script(
                    keys=[self._keys.session(key), self._keys.seen(key)],
                    args=[event_id, self._dedupe_ms, event_at or 0],
                )
                duplicate, value = bool(reply[0]), reply[1]
        if value is None:
            return Loaded(None, 0, duplicate, verdict)
        version, session = codec.unpack(cast(bytes, value))
        return Loaded(session, version, duplicate, verdict)

    def _holds_buckets_of(self, limiter: RedisRateLimiter) -> bool:
        """Whether `limiter` keeps its buckets in this store's Redis, under this store's keys."""
        return limiter.client is self._client and limiter.keys == self._keys

    async def save(
        self,
        key: SessionKey,
        session: Session | None,
        version: int,
        event_id: str | None = None,
        event_at: int | None = None,
    ) -> SaveOutcome:
        """One EVALSHA: DUPLICATE, CONFLICT, or write + record the event id (or erase), then SAVED."""
        _check_event(event_id)
        op, body = ("del", b"") if session is None else ("set", codec.encode(session))
        args: list[str | int | bytes] = [op, version, body, self._ttl_ms, self._dedupe_ms, self._dedupe_limit]
        if event_id is not None:
            args.extend((event_id, event_at or 0))
        with _unavailable("save"):
            reply = await self._save_script(keys=[self._keys.session(key), self._keys.seen(key)], args=args)
        return SaveOutcome(cast(bytes, reply).decode())

    async def erase(self, key: SessionKey) -> None:
        """One DEL of the user's session and dedupe set (one hash slot, so this holds on Cluster too).

        The rate-limit bucket stays until it has refilled and expires by itself: an unfollow/follow or
        削除 loop must not hand a flooding user a fresh allowance."""
        with _unavailable("erase"):
            await self._client.delete(self._keys.session(key), self._keys.seen(key))

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
                tag = name[name.index(b"{") : name.index(b"}") + 1]
                users.setdefault(tag, []).append(name)
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


def _sentinel_master(url: str, opts: dict[str, Any]) -> tuple[Redis, Sentinel]:
    """The master's client for a redis+sentinel URL, and the Sentinel that finds it (both to close)."""
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("redis+sentinel URLs take no query; pass options as keyword arguments")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not hosts or not 1 <= len(path) <= 2:
        raise ValueError("expected redis+sentinel://host:port[,host:port]/service_name[/db]")
    sentinels = [_host_port(item) for item in hosts.split(",")]
    sentinel_kwargs = opts.pop("sentinel_kwargs", None)
    if sentinel_kwargs is None:
        sentinel_kwargs = {"socket_connect_timeout": _CONNECT_TIMEOUT, "socket_timeout": _READ_TIMEOUT}
    options = {**_connection_defaults(), "max_connections": _POOL_SIZE, **opts}
    if username:
        options.setdefault("username", unquote(username))
    if password:
        options.setdefault("password", unquote(password))
    if len(path) == 2:
        options["db"] = int(path[1])
    # redis-py's asyncio Sentinel has no annotations on __init__.
    sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs, **options)  # type: ignore[no-untyped-call]
    return cast(Redis, sentinel.master_for(path[0], redis_class=Redis)), sentinel


def _host_port(item: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[ipv6]`` or ``[ipv6]:port``; the Sentinel port 26379 by default."""
    item = item.strip()
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = item.partition(":")
    return unquote(host), int(port or 26379)


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
