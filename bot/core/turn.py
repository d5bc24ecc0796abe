"""What one turn produces: the new session, the replies, what happened (trace) and what to schedule."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.messages import Effect, Reply, Text, TurnOutcome, TurnTrace
from bot.core.session import Session


@dataclass(frozen=True, slots=True)
class Turn:
    session: Session | None  # None: erase everything stored about the user
    replies: tuple[Reply, ...]
    trace: TurnTrace
    effects: tuple[Effect, ...] = ()  # reminders to schedule or cancel once the session is saved


@dataclass
class Out:
    """Collects one turn's replies, trace and effects while the engine works."""

    now: int = 0
    replies: list[Reply] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    outcome: TurnOutcome = TurnOutcome.ANSWERED
    echoed: bool = False  # this turn said what it understood: 「違う」 next undoes it
    menu: tuple[str, ...] = ()  # this turn showed an ask-back menu: a typed number next answers it
    choice: str | None = None
    effects: list[Effect] = field(default_factory=list)

    def say(self, text: str) -> None:
        if text:
            self.replies.append(Text(text))
