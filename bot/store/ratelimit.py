"""Per-user rate limiting: a token bucket, shared by all replicas when it lives in Redis.

A user may send `burst` messages at once and then `per_minute` a minute. The first message over the
limit gets one polite notice; later ones get no reply at all until a token is back, so a flood neither
blocks other users nor spends the platform's message quota.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.config import DEFAULT_BURST, DEFAULT_PER_MINUTE
from bot.core.session import SessionKey


class Verdict(StrEnum):
    ALLOW = "allow"
    NOTICE = "notice"  # over the limit for the first time: tell the user once
    DROP = "drop"  # still over the limit: answer nothing


@dataclass(frozen=True, slots=True)
class RateLimit:
    burst: int = DEFAULT_BURST
    per_minute: float = DEFAULT_PER_MINUTE

    @property
    def per_ms(self) -> float:
        return self.per_minute / 60_000

    @property
    def full_after_ms(self) -> int:
        return math.ceil(self.burst / self.per_ms)

    def bucket_args(self) -> list[int | float]:
        """The Redis token-bucket script's ARGV after the key: burst, tokens per ms, expiry (ms)."""
        return [self.burst, self.per_ms, self.full_after_ms]


class RateLimiter(Protocol):
    async def hit(self, key: SessionKey) -> Verdict: ...


class MemoryRateLimiter:
    """The same bucket in this process (embedded store, one process)."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._buckets: dict[SessionKey, tuple[float, float, bool]] = {}  # tokens, at (ms), noticed

    async def hit(self, key: SessionKey) -> Verdict:
        now = self.clock() * 1000
        tokens, at, noticed = self._buckets.get(key, (float(self.limit.burst), now, False))
        tokens = min(self.limit.burst, tokens + (now - at) * self.limit.per_ms)
        if tokens >= 1:
            verdict, tokens, noticed = Verdict.ALLOW, tokens - 1, False
        else:
            verdict, noticed = (Verdict.DROP if noticed else Verdict.NOTICE), True
        if len(self._buckets) > 100_000:  # bound memory: forget the full (idle) buckets
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.limit.burst}
        self._buckets[key] = (tokens, now, noticed)
        return verdict
