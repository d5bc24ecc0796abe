"""Wiring: the one place that builds the parts from settings and joins them — the store, the rate limiter,
the engine, the conversation, the reminder queue and worker, the channels, the server app, the terminal
chat. Every other module receives what it needs; nothing below this one reads `Settings` to decide what
to build."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bot.channels.terminal import run_chat
from bot.config import Settings
from bot.conversation import Conversation, Scheduler, SessionObserver, TurnObserver
from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.session import SessionKey
from bot.store.base import SessionStore
from bot.store.ratelimit import MemoryRateLimiter, RateLimit, RateLimiter

if TYPE_CHECKING:  # the server's parts are imported where they are built: `taikai-bot chat` starts faster
    from starlette.applications import Starlette

    from bot.channels.base import Mailbox, WebChannel
    from bot.reminders.queue import ReminderQueue
    from bot.reminders.worker import ReminderDelivery, ReminderObserver
    from bot.telemetry.usage import Usage
    from bot.web.services import Services

log = logging.getLogger(__name__)


# --- the conversation ---------------------------------------------------------------------------


def rate_limit(settings: Settings) -> RateLimit:
    return RateLimit(burst=settings.rate_limit_burst, per_minute=settings.rate_limit_per_minute)


def build_store(settings: Settings) -> SessionStore:
    """Redis when REDIS_URL is set, else the embedded in-memory store."""
    dsn = settings.redis_dsn
    if dsn:
        from bot.store.keys import KeyBuilder
        from bot.store.redis import RedisSessionStore

        # the store keeps the rate buckets too: its load script takes the user's token (two round trips a turn)
        return RedisSessionStore.from_url(
            dsn,
            password=settings.redis_secret,  # REDIS_PASSWORD, when the URL carries none
            ttl_seconds=settings.session_ttl_seconds,
            dedupe_seconds=settings.dedupe_seconds,
            keys=KeyBuilder(prefix=settings.redis_key_prefix),
            rate_limit=rate_limit(settings),
        )
    from bot.store.memory import MemorySessionStore

    return MemorySessionStore(ttl_seconds=settings.session_ttl_seconds, dedupe_seconds=settings.dedupe_seconds)


def build_limiter(settings: Settings, store: SessionStore) -> RateLimiter:
    """Shared through Redis when the store is Redis (all replicas see one bucket per user): the same buckets
    the store's load script takes tokens from (same client, keys and limit), for loads without an event id."""
    redis = store.shared_redis()
    if redis is None:
        return MemoryRateLimiter(rate_limit(settings))
    from bot.store.redis_ratelimit import RedisRateLimiter

    return RedisRateLimiter(redis.client, rate_limit(settings), redis.keys)


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
    sessions: Sequence[SessionObserver] = (),
) -> Conversation:
    limiter = build_limiter(settings, store)
    return Conversation(engine, store, limiter=limiter, observers=observers, scheduler=scheduler, sessions=sessions)


# --- reminders ----------------------------------------------------------------------------------


def build_reminder_queue(settings: Settings, store: SessionStore, observer: ReminderObserver) -> ReminderQueue | None:
    """The queue when reminders can run here: REMINDERS_ENABLED, a Redis store, and not a Redis Cluster.
    It shares the store's client and key namespace (`SessionStore.shared_redis`)."""
    if not settings.reminders_enabled:
        return None
    redis = store.shared_redis()
    if redis is None:
        log.info("reminders off: they need REDIS_URL (the terminal shows due ones at its next start)")
        return None
    if redis.cluster:
        log.warning("reminders off: the job queue (saq) does not support Redis Cluster")
        return None
    from bot.reminders.queue import ReminderQueue

    return ReminderQueue.on(redis.client, redis.keys, observer=observer)


def build_reminder_worker(
    settings: Settings, queue: ReminderQueue, conversation: Conversation, channels: Sequence[WebChannel]
) -> ReminderDelivery:
    """Runs inside every `serve` replica rather than as its own process: it needs the channels' clients (the
    LINE API, the Slack installations), which the server already opens, and the replicas share the queue
    through Redis, so there is nothing else to deploy or scale."""
    from bot.channels.reminders import LaterSending, ReminderSending
    from bot.reminders.worker import ReminderDelivery

    send, later = ReminderSending(conversation, channels), LaterSending(conversation, channels)
    per_week = settings.reminders_per_week
    return ReminderDelivery(queue, send, per_week=per_week, observer=queue.observer, send_later=later)


# --- the server ---------------------------------------------------------------------------------


def build_channels(services: Services) -> list[WebChannel]:
    """LINE and Slack are on when their settings are present; each says so in the log."""
    settings = services.settings
    context = services.channel_context()
    channels: list[WebChannel] = []
    if settings.line_channel_secret and settings.line_channel_access_token:
        from bot.channels.line.channel import build_line_channel

        channels.append(build_line_channel(context))
        log.info("LINE channel on: POST /line/webhook")
    else:
        log.info("LINE channel off: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to turn it on")
    if settings.slack_signing_secret and (settings.slack_bot_token or settings.slack_client_id):
        from bot.channels.slack.channel import build_slack_channel
        from bot.store.slack_installations import oauth_stores

        expiry = settings.slack_state_expiration_seconds
        redis = services.store.shared_redis()
        channels.append(build_slack_channel(context, lambda: oauth_stores(redis, expiry)))
        log.info("Slack channel on: POST /slack/events")
    else:
        log.info("Slack channel off: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (or OAuth settings) to turn it on")
    if settings.webchat_enabled:
        channels.append(build_webchat(services))
        log.info("web chat on: GET /chat")
    return channels


NEW_CHATS = RateLimit(burst=30, per_minute=10)  # new web-chat browsers per client address


def build_webchat(services: Services) -> WebChannel:
    """The web chat, with a mailbox for its reminders and a limit on new browsers per address, both in the
    shared Redis when there is one (every replica hands out and honours the same)."""
    import secrets

    from bot.channels.web.channel import build_web_channel
    from bot.channels.web.cookie import BrowserIds
    from bot.store.mailbox import MemoryMailbox, RedisMailbox

    settings = services.settings
    secret = settings.webchat_secret.get_secret_value().encode() if settings.webchat_secret else None
    if secret is None:
        log.warning("WEBCHAT_SECRET unset: a random one for this process; browsers start over after a restart")
        secret = secrets.token_bytes(32)
    redis = services.store.shared_redis()
    if redis is None:
        mailbox: Mailbox = MemoryMailbox()
        limiter: RateLimiter = MemoryRateLimiter(NEW_CHATS)
    else:
        from bot.store.redis_ratelimit import RedisRateLimiter

        mailbox, limiter = RedisMailbox(redis), RedisRateLimiter(redis.client, NEW_CHATS, redis.keys)
    return build_web_channel(services.channel_context(), BrowserIds(secret), mailbox, limiter)


def create_app(settings: Settings, library: Library, store: SessionStore | None = None) -> Starlette:
    """The whole server. `store` may be injected (tests); otherwise it is built from settings."""
    from bot.reminders.outbox import ReplyOutbox
    from bot.store.health import warn_if_evicting
    from bot.telemetry.context import configure_user_hash
    from bot.telemetry.logs import TurnLog
    from bot.telemetry.metrics import Metrics
    from bot.telemetry.usage import ReminderObservers
    from bot.web.app import web_app
    from bot.web.services import Services
    from bot.web.tasks import TaskTracker

    configure_user_hash(settings.log_hash_key.get_secret_value() if settings.log_hash_key else None)
    store = store or build_store(settings)
    on_start: list[Callable[[], Awaitable[None]]] = [functools.partial(warn_if_evicting, store.shared_redis())]
    if not settings.log_hash_key:
        on_start.append(functools.partial(use_shared_hash_key, store))
    engine = build_engine(settings, library)
    metrics = Metrics()
    usage = build_usage(settings, library, store)
    watching = () if usage is None else (usage,)
    queue = build_reminder_queue(settings, store, metrics if usage is None else ReminderObservers(metrics, usage))
    observers = (metrics, TurnLog(), *watching)
    conversation = build_conversation(settings, engine, store, observers, scheduler=queue, sessions=watching)
    outbox = None if queue is None else ReplyOutbox(queue)  # replies that fail are sent later by the worker
    services = Services(settings, library, store, conversation, TaskTracker(), metrics, outbox)
    channels = build_channels(services)
    worker = None if queue is None else build_reminder_worker(settings, queue, conversation, channels)
    if usage is None:
        return web_app(services, channels, worker, on_start=on_start)
    from bot.web.admin import Console

    assert settings.admin_token is not None
    console = Console(usage, settings.admin_token.get_secret_value())
    log.info("console on: GET /admin")
    return web_app(services, channels, worker, on_start, console.routes(), background=(usage.run,))


def build_usage(settings: Settings, library: Library, store: SessionStore) -> Usage | None:
    """The console's counts, kept only when the console is on (ADMIN_TOKEN), in the shared Redis when there
    is one; not on Redis Cluster (its groups span slots)."""
    if not settings.admin_token or not settings.admin_token.get_secret_value():
        log.info("console off: set ADMIN_TOKEN to turn on /admin")
        return None
    from bot.telemetry.usage import Usage
    from bot.telemetry.usage_store import MemoryUsage, RedisUsage

    redis = store.shared_redis()
    if redis is not None and redis.cluster:
        log.warning("console off: its counts do not support Redis Cluster")
        return None
    backend = MemoryUsage() if redis is None else RedisUsage(redis.client, redis.keys.prefix)
    return Usage(library, backend, settings.session_ttl_seconds)


async def use_shared_hash_key(store: SessionStore) -> None:
    """LOG_HASH_KEY unset: the deployment's own random key, made by the first replica to start and kept in
    Redis, so every replica writes the same pseudonym for a user (without Redis: random per process). Whoever
    can read Redis can read it; set LOG_HASH_KEY to keep the two apart."""
    from bot.telemetry.context import configure_user_hash, new_hash_key

    redis = store.shared_redis()
    if redis is None:
        return
    try:
        await redis.client.set(redis.keys.log_hash_key, new_hash_key(), nx=True)
        found = await redis.client.get(redis.keys.log_hash_key)
    except Exception as exc:  # a Redis that is down at start: pseudonyms stay per process until a restart
        log.warning("log pseudonym key not read from Redis (%s): pseudonyms are per process", type(exc).__name__)
        return
    if found:  # (gone again already: a flushed Redis; stay per process)
        configure_user_hash(found.decode() if isinstance(found, bytes) else str(found))


def server_app(settings: Settings, library: Library) -> Starlette:
    """The app as `serve` runs it (the benchmark builds it with this too): logs configured, start-up frozen."""
    from bot.telemetry.logs import configure_logging

    configure_logging(settings.log_level, json_lines=settings.log_json)
    app = create_app(settings, library)
    # Everything built so far (the compiled flows, the SDK's models, every imported module) lives as long as
    # the process. Frozen out of the collector's generations, it is no longer walked by every full collection:
    # 6-7 % less CPU per LINE turn, and no pauses of tens of milliseconds (docs/benchmark.md).
    gc.collect()  # start-up garbage first, or it would be kept for good
    gc.freeze()
    return app


def run_server(settings: Settings, library: Library, host: str | None, port: int | None) -> int:
    from bot.web.server import serve

    return serve(server_app(settings, library), settings, host, port)


# --- the terminal -------------------------------------------------------------------------------


async def run_terminal_chat(settings: Settings, library: Library, user: str, echo: bool) -> int:
    store = build_store(settings)
    try:
        conversation = Conversation(build_engine(settings, library), store)  # no rate limit for a local user
        await run_chat(conversation, SessionKey("cli", "-", user), echo=echo)
    finally:
        await store.close()
    return 0
