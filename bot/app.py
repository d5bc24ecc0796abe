"""Wiring: build the store, engine and conversation from settings (the only place that knows them all)."""

from __future__ import annotations

from bot.channels.cli import run_chat
from bot.config import Settings
from bot.conversation import Conversation
from bot.core.engine import Engine
from bot.core.model import Library
from bot.core.session import SessionKey
from bot.store.base import SessionStore


def build_store(settings: Settings) -> SessionStore:
    """Redis when REDIS_URL is set, else the embedded in-memory store."""
    dsn = settings.redis_dsn
    if dsn:
        from bot.store.keys import KeyBuilder
        from bot.store.redis import RedisSessionStore

        return RedisSessionStore.from_url(
            dsn,
            ttl_seconds=settings.session_ttl_seconds,
            dedupe_seconds=settings.dedupe_seconds,
            keys=KeyBuilder(prefix=settings.redis_key_prefix),
        )
    from bot.store.memory import MemorySessionStore

    return MemorySessionStore(ttl_seconds=settings.session_ttl_seconds, dedupe_seconds=settings.dedupe_seconds)


def build_engine(settings: Settings, library: Library) -> Engine:
    return Engine(library, resume_after=settings.resume_after_seconds, max_text=settings.max_text_length)


async def run_terminal_chat(settings: Settings, library: Library, user: str, echo: bool) -> int:
    store = build_store(settings)
    try:
        conversation = Conversation(build_engine(settings, library), store)
        await run_chat(conversation, SessionKey("cli", "-", user), echo=echo)
    finally:
        await store.close()
    return 0
