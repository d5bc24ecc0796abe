"""Redis for the benchmark: REDIS_URL, else 127.0.0.1:6379, else a throwaway `redis-server`.

Every key the run writes is under a prefix unique to the run, deleted at the end (SCAN by prefix: a
server others use is never flushed). Also the Redis figures: `INFO commandstats` deltas, Redis CPU,
and `MEMORY USAGE` of keys.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING

import redis

from bot.conversation import Conversation
from tests.redis_support import _free_port, answers

if TYPE_CHECKING:
    from bot.core.library.model import Library
    from tests.bench.workload import Step

DEFAULT_URL = "redis://127.0.0.1:6379/0"
# Commands a client sends as one round trip that runs others inside (those are counted separately).
SCRIPT_COMMANDS = frozenset({"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})
# What the bench itself sends to read the figures; never counted against the bot.
BENCH_COMMANDS = frozenset({"info", "memory|usage", "scan", "ping", "client|setname", "hello", "del", "dbsize"})


@dataclass
class RedisEnv:
    url: str
    prefix: str
    pid: int | None  # the server's pid when this run started it (so its CPU can be placed), else None
    started: bool

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=10)


@contextmanager
def redis_env() -> Iterator[RedisEnv]:
    """A Redis to use and a fresh key prefix; deletes the prefix's keys (and stops a server it started)."""
    prefix = f"taikai-bench-{uuid.uuid4().hex[:10]}"
    explicit = os.environ.get("REDIS_URL")
    if explicit or answers(DEFAULT_URL):
        url = explicit or DEFAULT_URL
        if not answers(url):
            raise RuntimeError(f"REDIS_URL={url} does not answer")
        env = RedisEnv(url, prefix, None, started=False)
        try:
            yield env
        finally:
            delete_prefix(env)
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("no Redis at 127.0.0.1:6379, REDIS_URL unset, and redis-server is not installed")
    with tempfile.TemporaryDirectory(prefix="taikai-bench-redis-") as workdir:
        port = _free_port()
        args = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            workdir,
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"redis://127.0.0.1:{port}/0"
            deadline = time.monotonic() + 10
            while not answers(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield RedisEnv(url, prefix, server.pid, started=True)
        finally:
            server.terminate()
            server.wait(timeout=10)
            Path(workdir, "dump.rdb").unlink(missing_ok=True)


def delete_prefix(env: RedisEnv) -> int:
    client = env.client()
    try:
        deleted = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{env.prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(client.delete(*batch))
                batch.clear()
        if batch:
            deleted += int(client.delete(*batch))
        return deleted
    finally:
        client.close()


def commandstats(client: redis.Redis) -> dict[str, int]:
    """Calls per command since the server started (`INFO commandstats`)."""
    info = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in info.items()}


def redis_cpu(client: redis.Redis) -> float:
    """CPU seconds the Redis server has used (user + system, main thread and the others)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


@dataclass(frozen=True)
class CommandCost:
    round_trips: float  # commands sent per turn (a script call counts once)
    inside_scripts: float  # commands run by those scripts per turn
    by_command: dict[str, float]  # everything the bot sent or ran, per turn


def command_cost(before: dict[str, int], after: dict[str, int], turns: int) -> CommandCost:
    """Per-turn command counts from two `commandstats` snapshots.

    Redis counts the commands a Lua script runs in `commandstats` too. The bot's turn path sends only
    script calls, so everything else it causes ran inside a script; a plain command the bot sent
    outside a script (a GET, a SET) would be counted as a round trip here only if no script ran it,
    which `by_command` makes visible.
    """
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    delta = {k: v for k, v in delta.items() if v > 0 and k not in BENCH_COMMANDS}
    turns = max(turns, 1)
    scripts = sum(v for k, v in delta.items() if k in SCRIPT_COMMANDS)
    others = sum(v for k, v in delta.items() if k not in SCRIPT_COMMANDS)
    if scripts == 0:  # no scripts ran: every command was a round trip
        return CommandCost(others / turns, 0.0, {k: v / turns for k, v in sorted(delta.items())})
    return CommandCost(scripts / turns, others / turns, {k: v / turns for k, v in sorted(delta.items())})


def memory_usage(client: redis.Redis, key: str) -> int:
    found = client.memory_usage(key, samples=0)
    return int(found or 0)


@dataclass(frozen=True)
class SessionMemory:
    turns: int
    users: int
    session_bytes: float  # MEMORY USAGE of the session key (mean over users)
    session_max: int
    value_bytes: float  # the stored value itself (STRLEN: version + JSON or deflated JSON)
    seen_bytes: float  # the user's dedupe set of event ids
    rate_bytes: float  # the user's rate-limit bucket
    reminder_bytes: float  # what a delivered reminder leaves for the week: its "sent" mark and the week's count

    @property
    def user_bytes(self) -> float:
        """The whole per-user footprint: session, dedupe set, rate bucket and reminder marks."""
        return self.session_bytes + self.seen_bytes + self.rate_bytes + self.reminder_bytes


async def session_memory(
    env: RedisEnv, library: Library, paths: list[list[Step]], turns: int, users: int
) -> SessionMemory:
    """Drive `users` conversations of `turns` turns through the product (Conversation on the Redis store,
    with the Redis rate limiter and an event id per turn, as the LINE channel does), then MEMORY USAGE."""
    from bot.core.dialogue.engine import Engine
    from bot.core.session import SessionKey
    from bot.reminders.worker import MARKS_SECONDS
    from bot.store.keys import KeyBuilder
    from bot.store.ratelimit import RateLimit
    from bot.store.redis import RedisSessionStore
    from bot.store.redis_ratelimit import RedisRateLimiter
    from tests.bench.workload import journey
    from tests.channels.line import webhooks

    keys = KeyBuilder(f"{env.prefix}:mem{turns}")
    store = RedisSessionStore.from_url(env.url, ttl_seconds=3600.0, keys=keys)
    limiter = RedisRateLimiter(store.client, RateLimit(burst=1_000_000, per_minute=1_000_000.0), keys)
    engine = Engine(library)
    conversation = Conversation(engine, store, limiter=limiter)
    rng = random.Random(turns)
    client = env.client()
    try:
        sizes: list[int] = []
        values: list[int] = []
        seen: list[int] = []
        rate: list[int] = []
        marks: list[int] = []
        for index in range(users):
            path = paths[index % len(paths)]
            if len(path) < turns:
                path = journey(engine, turns, rng)
            key = SessionKey("line", webhooks.DESTINATION, webhooks.user_id())
            for step in path[:turns]:
                await conversation.turn(key, step.inbound(), webhooks.event_id())
            sizes.append(memory_usage(client, keys.session(key)))
            values.append(int(client.strlen(keys.session(key))))
            seen.append(memory_usage(client, keys.seen(key)))
            rate.append(memory_usage(client, keys.rate(key)))
            # the marks as `ReminderDelivery` writes them once a reminder was delivered (kept 8 days)
            week = keys.reminder_marks(key, "2026w49")
            client.hset(week, "lancers.payout.6b16c893", 1)
            client.hincrby(week, "n", 1)
            client.expire(week, MARKS_SECONDS)
            marks.append(memory_usage(client, week))
            client.delete(week)
        return SessionMemory(turns, users, mean(sizes), max(sizes), mean(values), mean(seen), mean(rate), mean(marks))
    finally:
        client.close()
        await store.close()
