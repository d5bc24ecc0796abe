"""`python -m tests.bench.console`: what the operators' console (/admin) costs, on a real Redis.

1. a turn's extra CPU for the console's observer (the same scripted turns with and without it);
2. one flush of 1,000 users' moves, and the report (/admin/api/usage) at 1,000 users;
3. the report and the Redis memory at 100,000 users (their group entries written directly, as flushes
   would have written them): the report is one ZCOUNT per group, so it must not grow with the users.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bot.conversation import Conversation, UserMessage
from bot.core.dialogue.engine import Engine
from bot.core.library.load import load_library
from bot.core.messages import StartInput, TextInput
from bot.core.session import SessionKey
from bot.language import analyze_text
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from bot.telemetry.usage import Batch, Usage
from bot.telemetry.usage_store import RedisUsage

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SCRIPT = ["ランサーズ", "もう使わない", "はい", "受注者", "ある"]


async def turns(conversation: Conversation, users: int, tag: str) -> float:
    """Seconds per turn (greeting + the script) for `users` users."""
    started, count = time.perf_counter(), 0
    for n in range(users):
        key = SessionKey("line", "bench", f"{tag}{n}")
        await conversation.handle(UserMessage(key, StartInput()))
        for text in SCRIPT:
            await conversation.handle(UserMessage(key, TextInput(text)))
        count += 1 + len(SCRIPT)
    return (time.perf_counter() - started) / count


async def timed_report(usage: Usage) -> dict[str, Any]:
    """The report 20 times; its median time printed, the last report returned."""
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        report = await usage.report()
        samples.append(time.perf_counter() - started)
    print(f"report at {report['users']:,} users: {statistics.median(samples) * 1e3:.1f} ms (median of 20)")
    return report


async def main() -> None:
    library = load_library(Path("flows"))
    engine = Engine(library, analyzer=analyze_text)
    prefix = f"taikai-bench-console-{uuid.uuid4().hex[:8]}"
    keys = KeyBuilder(prefix)
    store = RedisSessionStore.from_url(URL, 3600, keys=keys)
    raw = aioredis.Redis.from_url(URL)
    usage = Usage(library, RedisUsage(raw, prefix), 30 * 86400)
    try:
        plain = Conversation(engine, store)
        watched = Conversation(engine, store, observers=(usage,), sessions=(usage,))
        await turns(plain, 50, "warm")
        without, with_ = [], []
        for round_ in range(3):  # alternating, so a slow spell of the machine hits both alike
            without.append(await turns(plain, 200, f"a{round_}-"))
            with_.append(await turns(watched, 200, f"b{round_}-"))
            await usage.flush()
        a, b = statistics.median(without), statistics.median(with_)
        print(f"turn without the console: {a * 1e6:.0f} µs; with it: {b * 1e6:.0f} µs (+{(b - a) * 1e6:.0f} µs)")

        await turns(watched, 1000, "k")
        started = time.perf_counter()
        await usage.flush()
        print(f"flush of 1,000 users' moves: {(time.perf_counter() - started) * 1e3:.1f} ms")
        report = await timed_report(usage)

        now = time.time()
        place, kind = usage.places, usage.kinds
        for chunk in range(100):
            batch = Batch()
            for n in range(1000):
                user = f"{chunk:03d}{n:04d}bench"
                groups = frozenset(
                    {place[(chunk * 7 + n) % len(place)], kind[n % len(kind)], kind[(n * 3) % len(kind)]}
                )
                batch.moves[user] = (frozenset(), groups, now)
            await usage.backend.apply(batch, ())
        report = await timed_report(usage)
        memory = 0
        async for name in raw.scan_iter(match=f"{prefix}:usage:*", count=1000):
            memory += int(await raw.memory_usage(name) or 0)
        print(
            f"Redis memory of the console's keys at {report['users']:,} users: {memory / 1e6:.1f} MB "
            f"({memory / report['users']:.0f} B per user)"
        )
    finally:
        found = [k async for k in raw.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(found), 1000):
            await raw.delete(*found[start : start + 1000])
        await raw.aclose()
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
