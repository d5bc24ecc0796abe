"""Wiring: build the store, rate limiter, engine and conversation from settings (the only place that knows them all)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.terminal import run_chat
from bot.config import Settings
from bot.conversation import Conversation, Scheduler, TurnObserver
from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.session import SessionKey
from bot.store.base import SessionStore
from bot.store.ratelimit import MemoryRateLimiter, RateLimiter


def build_store(settings: Settings) -> SessionStore:
    """Redis when REDIS_URL is set, else the embedded in-memory store."""
    dsn = settings.redis_dsn
    if dsn:
        from bot.store.keys import KeyBuilder
        from bot.store.redis import RedisSessionStore

        # the store keeps the rate buckets too: its load script takes the user's token (two round trips a turn)
        return RedisSessionStore.from_url(
            dsn,
            ttl_seconds=settings.session_ttl_seconds,
            dedupe_seconds=settings.dedupe_seconds,
            keys=KeyBuilder(prefix=settings.redis_key_prefix),
            rate_limit=settings.rate_limit,
        )
    from bot.store.memory import MemorySessionStore

    return MemorySessionStore(ttl_seconds=settings.session_ttl_seconds, dedupe_seconds=settings.dedupe_seconds)


def build_limiter(settings: Settings, store: SessionStore) -> RateLimiter:
    """Shared through Redis when the store is Redis (all replicas see one bucket per user): the same buckets
    the store's load script takes tokens from (same client, keys and limit), for loads without an event id."""
    limit = settings.rate_limit
    from bot.store.redis import RedisSessionStore
    from bot.store.redis_ratelimit import RedisRateLimiter

    if isinstance(store, RedisSessionStore):
        return RedisRateLimiter(store.client, limit, store.keys)
    return MemoryRateLimiter(limit)


def build_engine(settings: Settings, library: Library) -> Engine:
    """The engine with the Japanese analyzer. Its dictionary (~0.1 s) loads in a background thread so
    the first prompt is not delayed; a typed reply that comes sooner waits for it, a button tap never."""
    import threading

    from bot.language import analyze_text, preload

    # not a daemon: a process that exits while the dictionary loads must wait for it (~0.1 s), since a
    # daemon thread killed inside the native loader aborts the interpreter
    threading.Thread(target=preload, name="analyzer-preload", daemon=False).start()
    return Engine(
        library,
        resume_after=settings.resume_after_seconds,
        max_text=settings.max_text_length,
        analyzer=analyze_text,
    )


def build_conversation(
    settings: Settings,
    engine: Engine,
    store: SessionStore,
    observers: Sequence[TurnObserver] = (),
    scheduler: Scheduler | None = None,
) -> Conversation:
    limiter = build_limiter(settings, store)
    return Conversation(engine, store, limiter=limiter, observers=observers, scheduler=scheduler)


async def run_terminal_chat(settings: Settings, library: Library, user: str, echo: bool) -> int:
    store = build_store(settings)
    try:
        conversation = Conversation(build_engine(settings, library), store)  # no rate limit for a local user
        await run_chat(conversation, SessionKey("cli", "-", user), echo=echo)
    finally:
        await store.close()
    return 0
