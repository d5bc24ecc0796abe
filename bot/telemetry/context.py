"""The id of the turn being processed, and the pseudonym of its user, for logs.

The turn id lives in a context variable: each background task (see `TaskTracker.spawn`) and each
request runs in its own context, so the id set by a turn stays on every later log line of that task
(the channel's delivery logs included) and never leaks into another user's task.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from contextvars import ContextVar

turn_id: ContextVar[str] = ContextVar("turn_id", default="-")
# Random until configured: never a key anyone could know (a fixed default would let a log reader test a
# guessed user id). `configure_user_hash` sets the deployment's, the same on every replica.
_hash_key = secrets.token_bytes(32)


def new_turn_id() -> str:
    return uuid.uuid4().hex[:16]


def configure_user_hash(secret: str | None) -> None:
    """Key the user pseudonyms (LOG_HASH_KEY, or the deployment's key kept in Redis): without the key, a log
    reader cannot test a guessed id."""
    global _hash_key
    if secret:
        _hash_key = hashlib.sha256(b"taikai-bot user pseudonym\x00" + secret.encode()).digest()


def new_hash_key() -> str:
    return secrets.token_hex(32)


def user_hash(channel: str, user: str) -> str:
    """A stable pseudonym: one user's turns can be followed across replicas without logging the id."""
    return hmac.new(_hash_key, f"{channel}\x00{user}".encode(), hashlib.sha256).hexdigest()[:16]
