"""One delivery path for every channel: run the turn, then send what it gave, and say what became of it.

    turn → duplicate (send nothing) | rate-limited (one notice, then silence) | store down ("busy")
         | failed (raised: "busy") | answered (the replies) → the channel renders and sends

The terminal, LINE and Slack all call `deliver`; what differs is only their `OutputChannel` (Rasa's
`OutputChannel` is the model): how replies are rendered and sent to one place, plus what a channel does
around an answered turn (Slack replaces the tapped question's buttons and refreshes the Home tab). A new
channel, or a feature that sends on its own (reminders), writes an `OutputChannel` and calls `deliver`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.conversation import TurnResult
from bot.core.messages import Reply, Text

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ANSWERED = "answered"  # the engine ran; its replies went out
    DUPLICATE = "duplicate"  # the event was processed before: nothing sent
    LIMITED = "limited"  # over the rate limit: one notice, or nothing
    BUSY = "busy"  # the store was unavailable: the "busy" line
    FAILED = "failed"  # the turn raised (a bug, endless conflicts): the "busy" line rather than silence


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one turn: the one outcome type every channel logs and counts."""

    outcome: Outcome
    sent: str = "-"  # what the output channel reported ("replied", "pushed", "failed", …); "-": nothing sent
    result: TurnResult | None = None  # None when the turn raised

    @property
    def quiet(self) -> bool:
        """Nothing was sent because nothing should be (a duplicate, a flood's silence)."""
        return self.sent == "-"

    def describe(self) -> str:
        """For the log: `<engine outcome or delivery outcome>:<sent>`, e.g. ``answered:replied``."""
        if self.outcome is Outcome.DUPLICATE:
            return "duplicate"
        trace = self.result.trace if self.result is not None else None
        head = trace.outcome if trace is not None else self.outcome.value
        return f"{head}:{'silent' if self.quiet else self.sent}"


class OutputChannel:
    """How one channel sends one turn's replies to one place (a chat, a thread, a response URL)."""

    async def send(self, replies: Sequence[Reply]) -> str:
        """Render and send `replies`; return what happened, for the log ("sent", "failed", …)."""
        raise NotImplementedError

    async def answer(self, result: TurnResult) -> str:
        """Send the replies of a turn the engine ran. Override to do more around them (Slack)."""
        return await self.send(result.replies)


async def deliver(turn: Awaitable[TurnResult], output: OutputChannel, busy: str) -> Delivery:
    """Await `turn` (`Conversation.turn(...)`, possibly wrapped, e.g. in LINE's loading animation) and send
    its outcome through `output`. `busy` is the line sent when the turn raised. Sending errors are the output
    channel's to handle: it reports them in its return value."""
    try:
        result = await turn
    except Exception:  # endless conflicts, a bug: tell the user rather than go silent
        log.exception("turn failed")
        return Delivery(Outcome.FAILED, await output.send((Text(busy),)))
    if result.duplicate:
        return Delivery(Outcome.DUPLICATE, result=result)
    if result.trace is None:  # the engine did not run: rate limited, or the store is down
        outcome = Outcome.BUSY if result.failed else Outcome.LIMITED
        sent = await output.send(result.replies) if result.replies else "-"
        return Delivery(outcome, sent, result)
    return Delivery(Outcome.ANSWERED, await output.answer(result), result)
