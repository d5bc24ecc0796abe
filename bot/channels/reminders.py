"""A due reminder sent through the channels' one delivery path (`bot.channels.delivery.deliver`), as a LINE
push or a Slack DM: the `bot.reminders.worker.Send` of the server (`bot.wiring` hands it to the worker)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.channels.base import WebChannel
from bot.channels.delivery import deliver
from bot.conversation import Conversation, UserMessage
from bot.core.messages import Inbound
from bot.core.session import SessionKey

NOT_SENT = frozenset({"-", "nothing", "failed", "not_sent"})


class LaterSending:
    """A kept reply (`bot.reminders.outbox`) through the user's channel: the server's `SendLater`. Nothing
    goes to a user who has erased everything since (their session is gone)."""

    def __init__(self, conversation: Conversation, channels: Sequence[WebChannel]) -> None:
        self.conversation = conversation
        self.channels = {channel.name: channel for channel in channels}

    async def __call__(self, key: SessionKey, payload: dict[str, Any], done: int) -> int:
        channel = self.channels.get(key.channel)
        if channel is None or await self.conversation.session(key) is None:
            return -1
        return await channel.send_later(key, payload, done)


class ReminderSending:
    """The turn, then the user's channel through `deliver`; the channel's own output carries the retry key."""

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
