"""What a web channel gets from the server: settings, the conversation, the store and the task tracker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.routing import BaseRoute

from bot.config import Settings
from bot.conversation import Conversation
from bot.core.engine import Engine
from bot.store.base import SessionStore
from bot.telemetry.metrics import Metrics
from bot.web.tasks import TaskTracker


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    store: SessionStore
    conversation: Conversation
    tasks: TaskTracker
    metrics: Metrics


class WebChannel(Protocol):
    """A channel mounted in the web server (LINE, Slack)."""

    name: str

    def routes(self) -> Sequence[BaseRoute]: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...
