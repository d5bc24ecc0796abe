"""A scripted user for engine tests: keeps the session, feeds inputs, remembers the replies."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.dialogue.engine import Engine, Turn
from bot.core.messages import (
    ChoiceInput,
    CommandInput,
    Inbound,
    Question,
    Reply,
    StartInput,
    Template,
    Text,
    TextInput,
)
from bot.core.session import Session


@dataclass
class Chat:
    engine: Engine
    session: Session | None = None
    now: int = 1_764_000_000
    turns: list[Turn] = field(default_factory=list)

    def send(self, inbound: Inbound | str) -> Turn:
        message = TextInput(inbound) if isinstance(inbound, str) else inbound
        self.now += 30
        turn = self.engine.handle(self.session, message, self.now)
        self.session = turn.session
        self.turns.append(turn)
        return turn

    def start(self) -> Turn:
        return self.send(StartInput())

    def command(self, name: str) -> Turn:
        return self.send(CommandInput(name))

    @property
    def last(self) -> Turn:
        return self.turns[-1]

    @property
    def question(self) -> Question:
        reply = self.last.replies[-1]
        assert isinstance(reply, Question), reply
        return reply

    def tap(self, label_part: str) -> Turn:
        """Press the button whose label contains `label_part` (fails if none or several)."""
        found = [o for o in self.question.options if label_part in o.label]
        assert len(found) == 1, f"{label_part!r} not exactly one of {[o.label for o in self.question.options]}"
        decoded = ChoiceInput.decode(found[0].value)
        assert decoded is not None
        return self.send(decoded)

    @property
    def where(self) -> str:
        assert self.session is not None
        return f"{self.session.flow}:{self.session.state}"


def transcript(replies: tuple[Reply, ...] | list[Reply]) -> str:
    """Replies as plain text, for golden files and assertions."""
    from bot.channels.terminal import render_all

    return render_all(replies)


def templates_in(turns: list[Turn]) -> list[Template]:
    return [r for t in turns for r in t.replies if isinstance(r, Template)]


def texts_in(turn: Turn) -> str:
    return "\n".join(r.text for r in turn.replies if isinstance(r, Text | Question))


def to_ongoing(chat: Chat) -> None:
    chat.start()
    chat.tap("ランサーズ")
    chat.tap("もう使わない")
    chat.tap("進める")
    chat.tap("受注者")
    assert chat.where == "lancers:ongoing"


def to_fill_ins(engine: Engine) -> Chat:
    """A worker with an ongoing job who asked for the cancellation message: at the first name question."""
    chat = Chat(engine)
    to_ongoing(chat)
    chat.send("ある")
    chat.tap("キャンセル")
    chat.tap("作る")
    return chat
