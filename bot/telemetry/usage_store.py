"""Where the console's counts live (`bot.telemetry.usage`): the shared Redis, or this process's memory.

Redis layout, under the deployment's prefix: ``<prefix>:usage:<group>`` sorted sets (member: a user digest,
score: the time of their last turn) and ``<prefix>:usage:day:<YYYY-MM-DD>`` hashes of counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from bot.telemetry.usage import KEEP_DAYS, Batch

_FORGET_CHUNK = 100


class RedisUsage:
    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def _group(self, group: str) -> str:
        return f"{self.prefix}:usage:{group}"

    def _day(self, day: str) -> str:
        return f"{self.prefix}:usage:day:{day}"

    async def apply(self, batch: Batch, all_groups: Iterable[str]) -> None:
        """One pipeline (not a transaction: each command stands alone) for the whole batch."""
        async with self.client.pipeline(transaction=False) as pipe:
            if batch.forgotten:  # 削除 or unfollow: out of every group (rare; the groups are a few hundred)
                users = list(batch.forgotten)
                for group in all_groups:
                    for start in range(0, len(users), _FORGET_CHUNK):
                        pipe.zrem(self._group(group), *users[start : start + _FORGET_CHUNK])
            for user, (left, joined, at) in batch.moves.items():
                for group in left - joined:
                    pipe.zrem(self._group(group), user)
                for group in joined:
                    pipe.zadd(self._group(group), {user: at})
            for day, counts in batch.counts.items():
                name = self._day(day)
                for counter, value in counts.items():
                    pipe.hincrby(name, counter, value)
                pipe.expire(name, KEEP_DAYS * 86400)
            await pipe.execute()

    async def counts(self, groups: list[str], active_since: float) -> dict[str, int]:
        async with self.client.pipeline(transaction=False) as pipe:
            for group in groups:
                pipe.zcount(self._group(group), active_since, "+inf")
            found = await pipe.execute()
        return {group: int(n) for group, n in zip(groups, found, strict=True) if n}

    async def days(self, days: list[str]) -> dict[str, dict[str, int]]:
        async with self.client.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hgetall(self._day(day))
            found = await pipe.execute()
        return {
            day: {_text(k): int(v) for k, v in values.items()}
            for day, values in zip(days, found, strict=True)
            if values
        }

    async def prune(self, groups: list[str], active_since: float) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for group in groups:
                pipe.zremrangebyscore(self._group(group), "-inf", f"({active_since}")
            await pipe.execute()


class MemoryUsage:
    """The same in this process (the embedded store)."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, float]] = {}
        self.per_day: dict[str, Counter[str]] = {}

    async def apply(self, batch: Batch, all_groups: Iterable[str]) -> None:
        for members in self.groups.values():
            for user in batch.forgotten:
                members.pop(user, None)
        for user, (left, joined, at) in batch.moves.items():
            for group in left - joined:
                self.groups.get(group, {}).pop(user, None)
            for group in joined:
                self.groups.setdefault(group, {})[user] = at
        for day, counts in batch.counts.items():
            self.per_day.setdefault(day, Counter()).update(counts)

    async def counts(self, groups: list[str], active_since: float) -> dict[str, int]:
        found = {group: sum(1 for at in self.groups.get(group, {}).values() if at >= active_since) for group in groups}
        return {group: n for group, n in found.items() if n}

    async def days(self, days: list[str]) -> dict[str, dict[str, int]]:
        return {day: dict(self.per_day[day]) for day in days if day in self.per_day}

    async def prune(self, groups: list[str], active_since: float) -> None:
        for members in self.groups.values():
            for user in [u for u, at in members.items() if at < active_since]:
                del members[user]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
