"""What the server holds for the lifetime of the app: the store, the conversation, the task tracker and the
metrics. Channels never see this: each gets a `bot.channels.base.ChannelContext` built from it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.base import ChannelContext, Outbox
from bot.config import Settings
from bot.conversation import Conversation
from bot.core.library.model import Library
from bot.store.base import SessionStore
from bot.telemetry.metrics import Metrics
from bot.web.tasks import TaskTracker


@dataclass(frozen=True)
class Services:
    settings: Settings
    library: Library
    store: SessionStore
    conversation: Conversation
    tasks: TaskTracker
    metrics: Metrics
    outbox: Outbox | None = None

    def channel_context(self) -> ChannelContext:
        return ChannelContext(self.settings, self.library, self.conversation, self.tasks, self.metrics, self.outbox)
