"""Messages waiting for a user who is not connected: the web chat's reminders (`bot.channels.base.Mailbox`).

A browser cannot be pushed to, so a reminder for a web-chat user is kept here and handed over the next time
the page asks (it asks every few seconds while open, and on opening). In Redis it is a list beside the
user's session (same hash tag, erased with it by 削除), capped and expiring, so an abandoned browser leaves
nothing behind for long.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from bot.core.session import SessionKey
from bot.store.base import SharedRedis

MAX_WAITING = 20  # per user: reminders are a few a week; a full inbox keeps the newest
MAX_BOXES = 1000  # in memory, past this many browsers the expired boxes are dropped on the next put
KEEP_SECONDS = 14 * 86400


class RedisMailbox:
    def __init__(self, redis: SharedRedis, keep_seconds: int = KEEP_SECONDS) -> None:
        self.client, self.keys, self.keep_seconds = redis.client, redis.keys, keep_seconds

    async def put(self, key: SessionKey, message: dict[str, Any]) -> bool:
        name = self.keys.inbox(key)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.rpush(name, json.dumps(message, ensure_ascii=False))
                pipe.ltrim(name, -MAX_WAITING, -1)
                pipe.expire(name, self.keep_seconds)
                await pipe.execute()
        except Exception:  # redis errors of every kind: the caller counts it as not delivered (retried)
            return False
        return True

    async def take(self, key: SessionKey) -> list[dict[str, Any]]:
        """LRANGE and DEL in one transaction: two replicas asked at once hand each message over once."""
        name = self.keys.inbox(key)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(name, 0, -1)
            pipe.delete(name)
            raw, _ = await pipe.execute()
        return [message for item in raw if (message := _decoded(item)) is not None]

    async def forget(self, key: SessionKey) -> None:
        await self.client.delete(self.keys.inbox(key))


class MemoryMailbox:
    """The same in this process (the embedded store)."""

    def __init__(self, keep_seconds: int = KEEP_SECONDS) -> None:
        self.keep_seconds = keep_seconds
        self._boxes: dict[SessionKey, deque[tuple[float, dict[str, Any]]]] = {}

    async def put(self, key: SessionKey, message: dict[str, Any]) -> bool:
        now = time.time()
        self._boxes.setdefault(key, deque(maxlen=MAX_WAITING)).append((now, message))
        if len(self._boxes) > MAX_BOXES:  # browsers that never came back: drop what has expired
            oldest = now - self.keep_seconds
            for stale in [k for k, box in self._boxes.items() if box[-1][0] < oldest]:
                del self._boxes[stale]
        return True

    async def take(self, key: SessionKey) -> list[dict[str, Any]]:
        oldest = time.time() - self.keep_seconds
        return [message for at, message in self._boxes.pop(key, ()) if at >= oldest]

    async def forget(self, key: SessionKey) -> None:
        self._boxes.pop(key, None)


def _decoded(item: bytes | str) -> dict[str, Any] | None:
    """One stored message; None for one that cannot be read (it is skipped, the rest handed over)."""
    try:
        message = json.loads(item)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None
