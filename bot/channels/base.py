"""The channel contract: what a channel gets from the server (`ChannelContext`) and what it provides
(`WebChannel` for the HTTP channels, an `OutputChannel` per turn, see `bot.channels.delivery`).

The server (`bot.web.app`) builds one context and hands it to each channel; a channel sees the conversation
through `Turns`, never the store or the engine, and reads words through `library.texts`.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.config import Settings
from bot.conversation import TurnResult, UserMessage
from bot.core.library.model import Library
from bot.core.session import Session, SessionKey

if TYPE_CHECKING:  # types only: the terminal chat imports this module and needs neither the web nor metrics
    from starlette.routing import BaseRoute

    from bot.channels.delivery import OutputChannel
    from bot.telemetry.metrics import Metrics


class Turns(Protocol):
    """The conversation as a channel sees it (`bot.conversation.Conversation` is the implementation)."""

    async def handle(self, message: UserMessage) -> TurnResult:
        """The turn for one message, finished (never raises): hand it to `deliver`."""
        ...

    async def session(self, key: SessionKey) -> Session | None: ...

    async def erase(self, key: SessionKey) -> None: ...

    async def erase_workspace(self, channel: str, workspace: str) -> int: ...


class Outbox(Protocol):
    """Where a channel keeps what it could not send, to be sent later and once (`bot.reminders.outbox`):
    `payload` is the channel's own (JSON), with the units still to send under ``"units"``."""

    async def keep(self, key: SessionKey, payload: dict[str, Any]) -> bool:
        """True when kept (it will be tried again); False when it cannot be (no queue, queue down)."""
        ...


class Mailbox(Protocol):
    """Messages waiting for a user who is not connected (the web chat's reminders): kept in the shared store,
    so whichever replica the browser asks next hands them over, once (`bot.store.mailbox`)."""

    async def put(self, key: SessionKey, message: dict[str, Any]) -> bool:
        """False when it could not be kept (the store is down)."""
        ...

    async def take(self, key: SessionKey) -> list[dict[str, Any]]:
        """Everything waiting for `key`, oldest first, removed as it is handed over."""
        ...

    async def forget(self, key: SessionKey) -> None: ...


class Spawner(Protocol):
    """Runs work after the webhook has been answered, tracked so that shutdown can wait for it."""

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """Everything a channel may use: nothing else of the server is within its reach."""

    settings: Settings
    library: Library  # the words (`library.text`), the vocabulary, the checklist's items
    conversation: Turns
    tasks: Spawner
    metrics: Metrics
    outbox: Outbox | None = None  # None: replies that fail are lost (no job queue: memory store, Cluster)


class WebChannel(Protocol):
    """A channel mounted in the web server (LINE, Slack): its routes and its clients' lifetime."""

    name: str

    def routes(self) -> Sequence[BaseRoute]: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...

    async def reminder_output(self, key: SessionKey, retry_key: str) -> OutputChannel | None:
        """Where a reminder to this user goes (a LINE push, a Slack DM); None: it cannot be sent now."""
        ...

    async def send_later(self, key: SessionKey, payload: dict[str, Any], done: int) -> int:
        """Send what `keep` was given, from unit `done` on, in order, stopping at the first failure; returns
        how many units are now sent. -1: it can no longer be sent (the app was uninstalled): drop it."""
        ...
