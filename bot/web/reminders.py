"""Reminders in the server: the queue on the session Redis, and the worker that sends due reminders through
the channels' one delivery path (`bot.channels.delivery.deliver`), each as a LINE push or a Slack DM.

The worker runs inside every `serve` replica rather than as its own process: it needs the channels' clients
(the LINE API, the Slack installations), which the server already opens, and the replicas share the queue
through Redis, so there is nothing else to deploy or scale."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.channels.base import WebChannel
from bot.channels.delivery import deliver
from bot.config import Settings
from bot.conversation import Conversation, UserMessage
from bot.core.messages import Inbound
from bot.core.session import SessionKey
from bot.reminders.queue import ReminderQueue
from bot.reminders.worker import ReminderDelivery
from bot.store.base import SessionStore
from bot.telemetry.metrics import Metrics

log = logging.getLogger(__name__)
NOT_SENT = frozenset({"-", "nothing", "failed", "not_sent"})


def reminder_queue(settings: Settings, store: SessionStore, metrics: Metrics) -> ReminderQueue | None:
    """The queue when reminders can run here: REMINDERS_ENABLED, a Redis store, and not a Redis Cluster."""
    if not settings.reminders_enabled:
        return None
    from redis.asyncio import RedisCluster

    from bot.store.redis import RedisSessionStore

    if not isinstance(store, RedisSessionStore):
        log.info("reminders off: they need REDIS_URL (the terminal shows due ones at its next start)")
        return None
    if isinstance(store.client, RedisCluster):
        log.warning("reminders off: the job queue (saq) does not support Redis Cluster")
        return None
    return ReminderQueue.on(store.client, store.keys.prefix, observer=metrics)  # the store's namespace


class ReminderSending:
    """`bot.reminders.worker.Send` for the server: the turn, then the user's channel through `deliver`."""

    def __init__(self, conversation: Conversation, channels: Sequence[WebChannel]) -> None:
        self.conversation = conversation
        self.channels = {channel.name: channel for channel in channels}

    async def __call__(self, key: SessionKey, inbound: Inbound, event_id: str, retry_key: str) -> str:
        channel = self.channels.get(key.channel)
        if channel is None:
            return "no_channel"
        result = await self.conversation.handle(UserMessage(key, inbound, event_id))
        if result.failed:
            return "busy"  # nothing sent: the job runs again later
        if result.duplicate:
            return "duplicate"
        if not result.replies:
            return "dropped"  # its reason is gone, or the user erased everything
        output = await channel.reminder_output(key, retry_key)
        if output is None:
            return "no_channel"
        delivery = await deliver(result, output)
        return "failed" if delivery.sent in NOT_SENT else "delivered"


def reminder_worker(
    settings: Settings, queue: ReminderQueue, conversation: Conversation, channels: Sequence[WebChannel]
) -> ReminderDelivery:
    send = ReminderSending(conversation, channels)
    return ReminderDelivery(queue, send, per_week=settings.reminders_per_week, observer=queue.observer)
