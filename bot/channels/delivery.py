"""One delivery path for every channel: send what a finished turn gave, and say what became of it.

    TurnResult.status → duplicate (send nothing) | limited (one notice, then silence) | busy (store down)
                      | failed (the turn raised) | answered (the replies) → the channel renders and sends

The terminal, LINE and Slack all call `deliver`; what differs is only their `OutputChannel` (Rasa's
`OutputChannel` is the model): how replies are rendered and sent to one place, plus what a channel does
around an answered turn (Slack replaces the tapped question's buttons and refreshes the Home tab). A new
channel, or a feature that sends on its own (reminders), writes an `OutputChannel` and calls `deliver`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation import TurnResult, TurnStatus
from bot.core.messages import Reply

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one turn: the one outcome type every channel logs and counts."""

    status: TurnStatus
    sent: str = "-"  # what the output channel reported ("replied", "pushed", "failed", …); "-": nothing sent
    result: TurnResult | None = None

    @property
    def quiet(self) -> bool:
        """Nothing was sent because nothing should be (a duplicate, a flood's silence)."""
        return self.sent == "-"

    def describe(self) -> str:
        """For the log: `<engine outcome or turn status>:<sent>`, e.g. ``answered:replied``."""
        if self.status is TurnStatus.DUPLICATE:
            return "duplicate"
        trace = self.result.trace if self.result is not None else None
        head = trace.outcome.value if trace is not None else self.status.value
        return f"{head}:{'silent' if self.quiet else self.sent}"


class OutputChannel:
    """How one channel sends one turn's replies to one place (a chat, a thread, a response URL)."""

    async def send(self, replies: Sequence[Reply]) -> str:
        """Render and send `replies`; return what happened, for the log ("sent", "failed", …)."""
        raise NotImplementedError

    async def answer(self, result: TurnResult) -> str:
        """Send the replies of a turn the engine ran. Override to do more around them (Slack)."""
        return await self.send(result.replies)


async def deliver(result: TurnResult, output: OutputChannel) -> Delivery:
    """Send a finished turn's outcome through `output`. Sending errors are the output channel's to handle:
    it reports them in its return value."""
    if result.status is TurnStatus.DUPLICATE:
        return Delivery(result.status, result=result)
    if result.status is not TurnStatus.ANSWERED:  # limited, busy, failed: a notice, or silence
        sent = await output.send(result.replies) if result.replies else "-"
        return Delivery(result.status, sent, result)
    return Delivery(result.status, await output.answer(result), result)
