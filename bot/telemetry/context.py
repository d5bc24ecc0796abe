"""The id of the turn being processed, carried through awaits so every log line of a turn shows it."""

from __future__ import annotations

import hashlib
import uuid
from contextvars import ContextVar

from bot.core.session import SessionKey

turn_id: ContextVar[str] = ContextVar("turn_id", default="-")


def new_turn_id() -> str:
    return uuid.uuid4().hex[:16]


def user_hash(key: SessionKey) -> str:
    """A stable pseudonym for logs: lets an operator follow one user's turns without logging the id."""
    return hashlib.sha256(f"{key.channel}\x00{key.workspace}\x00{key.user}".encode()).hexdigest()[:16]
