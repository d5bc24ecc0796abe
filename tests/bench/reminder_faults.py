"""Reminders fault benchmark (issue 17): N users' reminders fall due in the same second and go out through
the product — two `serve` apps (each with its embedded worker) on one Redis, the LINE channel, pushes to
the fake LINE API that enforces retry keys (409 on a repeat) and fails on demand: a 429 spell, every k-th
push answered 500 without being processed, every m-th processed and then answered 500 (the answer lost).
Prints what the users received: lost (no push accepted) and duplicates (more than one) must both be 0.

    python -m tests.bench.reminder_faults [--count 10000] [--spell 3] [--refuse-every 70] [--lose-every 50]

Every user's reminder has the same id (flow, kind, due second), as when they all asked in the same second:
LINE's retry keys are per channel, so they must be per user too (issue 17, item 1). Uses the Redis at
REDIS_URL (default 127.0.0.1:6379) under a throwaway prefix it deletes afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bot.conversation import Conversation
from bot.core.dates import JST
from bot.core.dialogue.engine import Engine
from bot.core.library.load import load_library
from bot.core.library.model import Library
from bot.core.messages import ScheduleReminder, TextInput
from bot.core.session import SessionKey
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from bot.wiring import create_app
from tests.channels.line import webhooks
from tests.channels.line.conftest import line_settings
from tests.fakes.line_api import FakeLineApi
from tests.fakes.server import serve
from tests.flows.journeys import TO_PAYOUT_WAITING

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST).timestamp()
PUSH = "/v2/bot/message/push"


FLOWS = Path(__file__).resolve().parents[2] / "flows"


async def run(
    library: Library, count: int, spell: float, refuse_every: int, lose_every: int, url: str
) -> dict[str, Any]:
    prefix = f"taikai-bench-faults-{uuid.uuid4().hex[:8]}"
    keys = KeyBuilder(prefix)
    fake = FakeLineApi(webhooks.TOKEN)
    await fake.start()
    raw = Redis.from_url(url)
    stores = [RedisSessionStore.from_url(url, 86_400, keys=keys) for _ in range(2)]
    try:
        # one user's way to a payout reminder, then the same session for every user
        first = SessionKey("line", webhooks.DESTINATION, "Ubench0")
        conversation = Conversation(Engine(library), stores[0])
        for text in [*TO_PAYOUT_WAITING, "明日"]:
            await conversation.turn(first, TextInput(text))
        session = (await stores[0].load(first)).session
        assert session is not None and len(session.reminders) == 1
        reminder = session.reminders[0]
        users = [SessionKey("line", webhooks.DESTINATION, f"Ubench{i}") for i in range(count)]
        for start in range(0, count, 500):
            batch = users[start : start + 500]
            await asyncio.gather(*(stores[0].save(k, session, 0 if k != first else 19) for k in batch))
        apps = [create_app(line_settings(fake.url, redis_url=url), library, store) for store in stores]
        for app in apps:
            worker = app.state.reminders
            assert worker is not None
            worker.clock = lambda: NOON  # daytime in Japan: nothing is held for the morning
            worker.concurrency = 50
        async with contextlib.AsyncExitStack() as stack:
            for app in apps:
                await stack.enter_async_context(serve(app))
            queue = apps[0].state.reminders.queue
            due = int(time.time())
            scheduled_at = time.perf_counter()
            for start in range(0, count, 500):
                await asyncio.gather(*(
                    queue.schedule(k, ScheduleReminder(reminder.id, reminder.kind, due))
                    for k in users[start : start + 500]
                ))  # fmt: skip
            scheduling = time.perf_counter() - scheduled_at
            fake.spells[PUSH] = (time.monotonic() + spell, 429)
            fake.every[PUSH] = [(n, status) for n, status in ((refuse_every, 500), (lose_every, -500)) if n]
            started = time.perf_counter()
            metrics = [app.state.services.metrics for app in apps]

            def settled() -> float:
                return sum(
                    m.reminders.labels(reminder.kind, outcome)._value.get()
                    for m in metrics
                    for outcome in ("delivered", "lost", "dropped", "over_limit")  # once per reminder
                )

            most = None  # when 99 % were settled: the tail is jobs saq's sweep took back (docs/reminders.md)
            while settled() < count and time.perf_counter() - started < 900:
                if most is None and settled() >= 0.99 * count:
                    most = time.perf_counter() - started
                await asyncio.sleep(0.1)
            seconds = time.perf_counter() - started
            await asyncio.sleep(2)  # anything sent twice would show up now
        accepted: collections.Counter[str] = collections.Counter()
        statuses: collections.Counter[int] = collections.Counter()
        for call in fake.pushes:
            statuses[call.status] += 1
            if call.accepted:
                accepted[json.loads(call.body)["to"]] += 1
        outcomes: collections.Counter[str] = collections.Counter()
        for m in metrics:
            for outcome in ("delivered", "retried", "lost", "dropped", "duplicate", "over_limit"):
                outcomes[outcome] += int(m.reminders.labels(reminder.kind, outcome)._value.get())
        batches = min(accepted.values(), default=0)  # every user's reminder is the same: this many pushes each
        figures = {
            "reminders": count,
            "scheduled_in_s": round(scheduling, 2),
            "99_percent_in_s": round(most if most is not None else seconds, 2),
            "delivered_in_s": round(seconds, 2),
            "users_reached": len(accepted),
            "lost_users": count - len(accepted),
            "duplicate_users": sum(1 for v in accepted.values() if v > batches),
            "pushes_per_user": sorted(set(accepted.values())),
            "push_statuses": dict(sorted(statuses.items())),
            "worker_outcomes": dict(outcomes),
            "spell_s": spell,
        }
        return figures
    finally:
        await fake.stop()
        for store in stores:
            await store.close()
        found = [k async for k in raw.scan_iter(match=f"*{prefix}*", count=5000)]
        for i in range(0, len(found), 1000):
            await raw.delete(*found[i : i + 1000])
        await raw.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--spell", type=float, default=3.0, help="seconds of 429 at the start")
    parser.add_argument("--refuse-every", type=int, default=70, help="every k-th push answered 500, not processed")
    parser.add_argument("--lose-every", type=int, default=50, help="every m-th push processed, then answered 500")
    args = parser.parse_args()
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    library = load_library(FLOWS)
    figures = asyncio.run(run(library, args.count, args.spell, args.refuse_every, args.lose_every, url))
    for name, value in figures.items():
        print(f"{name:<20} {value}")


if __name__ == "__main__":
    main()
