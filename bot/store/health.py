"""What the shared Redis says about itself that can lose data: an eviction policy other than `noeviction`
(Redis then deletes sessions, dedupe sets and the reminder schedule to make room, silently) and being out of
memory (every write refused). Checked at start-up (a loud log line, as job queues do) and in /readyz."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.store.base import SharedRedis

log = logging.getLogger(__name__)
SAFE_POLICY = "noeviction"


@dataclass(frozen=True, slots=True)
class RedisHealth:
    policy: str  # maxmemory-policy, or "unknown" when CONFIG is not allowed (managed Redis)
    out_of_memory: bool

    @property
    def evicts(self) -> bool:
        return self.policy not in (SAFE_POLICY, "unknown")


async def redis_health(redis: SharedRedis) -> RedisHealth:
    """Never raises: what cannot be read is "unknown" (the store's own ping says whether Redis answers)."""
    policy = "unknown"
    try:
        found = await redis.client.config_get("maxmemory-policy")
        value = found.get("maxmemory-policy") or found.get(b"maxmemory-policy")
        if value:
            policy = value.decode() if isinstance(value, bytes) else str(value)
    except Exception:  # CONFIG disabled (managed Redis, ACL), or Redis down
        pass
    out_of_memory = False
    try:
        memory = await redis.client.info("memory")
        limit, used = int(memory.get("maxmemory", 0) or 0), int(memory.get("used_memory", 0) or 0)
        out_of_memory = limit > 0 and used >= limit
    except Exception:
        pass
    return RedisHealth(policy, out_of_memory)


async def warn_if_evicting(redis: SharedRedis | None) -> None:
    if redis is None:
        return
    health = await redis_health(redis)
    if health.evicts:
        log.error(
            "IMPORTANT: Redis maxmemory-policy is %s; it must be noeviction, or Redis silently deletes sessions, "
            "dedupe sets and scheduled reminders when memory runs short (docs/deploy.md)",
            health.policy,
        )
