"""Connecting to Redis from a URL: standalone, TLS, a Unix socket, Cluster or Sentinel, with deliberate
timeouts, retries and pool sizes. Only `connect` is used outside this module.

URL forms accepted by `connect` (and so by `RedisSessionStore.from_url` and ``REDIS_URL``):

- ``redis://[[user]:[password]@]host[:port][/db]``: one server over TCP.
- ``rediss://…``: the same over TLS (certificates verified; ``?ssl_cert_reqs=none`` to relax).
- ``unix://[[user]:[password]@]/path/to/redis.sock[?db=0]``: a local socket.
- ``redis+cluster://[[user]:[password]@]host:port`` (or ``rediss+cluster://`` for TLS): any node of a
  Redis Cluster; the others are discovered. db must be 0.
- ``redis+sentinel://[[user]:[password]@]host:port[,host2:port2…]/service_name[/db]``: Sentinels
  (port 26379 when omitted) asked for the master of ``service_name``; the credentials are the master's
  (pass ``sentinel_kwargs={"password": …}`` when the Sentinels need their own).

The password may instead come apart from the URL (``connect(url, password=…)``, REDIS_PASSWORD): then it
needs no percent-encoding, and the URL must carry none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster, Sentinel
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

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


@dataclass(frozen=True, slots=True)
class Connection:
    """A client for the URL, and the Sentinel that finds its master (to close with it), if any."""

    client: Redis | RedisCluster
    sentinel: Sentinel | None = None


def connect(url: str, *, password: str | None = None, **opts: Any) -> Connection:
    """A client with its own pool for `url` (forms in the module docstring); `opts` go to redis-py.

    `password` (REDIS_PASSWORD) is given to redis-py as is, so it needs no percent-encoding; the URL's user
    name, if any, still applies. A URL that carries a password of its own is refused: one of the two would
    be ignored silently (the message shows neither)."""
    if password:
        if _has_password(url):
            raise ValueError("the Redis URL carries a password and REDIS_PASSWORD is set too: keep only one")
        opts["password"] = password
    scheme, _, rest = url.partition("://")
    if scheme in ("redis+cluster", "rediss+cluster"):
        options = {**_connection_defaults(), "max_connections": _POOL_SIZE, **opts}  # per node
        return Connection(RedisCluster.from_url(f"{scheme.removesuffix('+cluster')}://{rest}", **options))
    if scheme == "redis+sentinel":
        master, sentinel = _sentinel_master(url, opts)
        return Connection(master, sentinel)
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"unsupported Redis URL scheme {scheme!r}")
    options = {**_connection_defaults(), "max_connections": _POOL_SIZE, "timeout": _POOL_WAIT, **opts}
    pool = BlockingConnectionPool.from_url(url, **options)
    return Connection(Redis.from_pool(pool))  # the client owns the pool: closing it closes the pool


def _has_password(url: str) -> bool:
    """Whether `url` carries a (non-empty) password: ``scheme://[user]:password@…``."""
    netloc = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]  # several hosts for Sentinel
    userinfo, at, _ = netloc.rpartition("@")
    return bool(at) and bool(userinfo.partition(":")[2])


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
    sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs, **options)  # type: ignore[no-untyped-call,unused-ignore]
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
