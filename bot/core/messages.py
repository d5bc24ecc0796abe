"""Channel-neutral messages: what a user sends in, and what the engine answers.

Channels translate their platform's events into `Inbound` values and render `Reply` values with their
own widgets (LINE quick replies, Slack buttons, numbered lines in a terminal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

CHOICE_PREFIX = "c1"  # version tag of the choice value format, so old buttons can be recognised


# --- inbound -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextInput:
    """Free text typed by the user."""

    text: str


@dataclass(frozen=True, slots=True)
class ChoiceInput:
    """A button tap: names the question it belongs to, so a tap on an old button is recognised."""

    flow: str
    state: str
    choice: str

    def encode(self) -> str:
        return f"{CHOICE_PREFIX}|{self.flow}|{self.state}|{self.choice}"

    @classmethod
    def decode(cls, value: str) -> ChoiceInput | None:
        """Parse a value made by `encode`; `None` when it is not one (forged or foreign data)."""
        parts = value.split("|")
        if len(parts) != 4 or parts[0] != CHOICE_PREFIX or not all(parts[1:]):
            return None
        return cls(parts[1], parts[2], parts[3])


@dataclass(frozen=True, slots=True)
class CommandInput:
    """A command from a menu, slash command or channel: back, restart, help, status, erase, start, or
    repeat (show the current question again, e.g. after a sticker)."""

    name: str


@dataclass(frozen=True, slots=True)
class StartInput:
    """The user opened the conversation (LINE follow, Slack DM opened, terminal start)."""


@dataclass(frozen=True, slots=True)
class ReminderInput:
    """A reminder the user asked for fell due (the job queue, or the terminal's next start)."""

    id: str


Inbound = TextInput | ChoiceInput | CommandInput | StartInput | ReminderInput


# --- outbound ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option:
    """One answer offered for a question. `value` is opaque: send it back as `ChoiceInput.decode(value)`."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Question:
    """A question with its options. Channels must also accept typed answers (numbers, labels, はい/いいえ)."""

    text: str
    options: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class Template:
    """A message for the user to copy and send to a client: render `body` alone so it copies exactly."""

    name: str
    title: str
    body: str


class ItemStatus(StrEnum):
    """What is true of a checklist line: the user must act, only waiting is left, it is done,
    it never applied, or it has not been asked yet."""

    PENDING = "pending"  # 要対応
    WAITING = "waiting"  # 待ち (a payout being transferred, a client's reply)
    DONE = "done"  # 完了: it existed and is finished
    NA = "na"  # 該当なし: it never applied
    UNKNOWN = "unknown"  # 未確認

    @property
    def settled(self) -> bool:
        """Nothing about this line blocks withdrawal any more."""
        return self in (ItemStatus.DONE, ItemStatus.NA)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    group: str  # e.g. ランサーズ
    label: str
    status: ItemStatus
    mark: str  # e.g. ✅
    word: str  # e.g. 完了


@dataclass(frozen=True, slots=True)
class Checklist:
    title: str
    items: tuple[ChecklistItem, ...]
    summary: str  # one line: how many are left, or that nothing blocks

    def as_text(self) -> str:
        """A plain-text rendering (terminal, LINE altText, Slack fallback)."""
        lines = [self.title]
        group = None
        for item in self.items:
            if item.group != group:
                group = item.group
                lines.append(f"【{group}】")
            lines.append(f"{item.mark} {item.word}：{item.label}")
        lines.append(self.summary)
        return "\n".join(lines)


Reply = Text | Question | Template | Checklist


@dataclass(frozen=True, slots=True)
class ScheduleReminder:
    """After the turn is saved, schedule this reminder (the job queue delivers it at `due`)."""

    id: str
    kind: str
    due: int  # unix seconds


@dataclass(frozen=True, slots=True)
class CancelReminders:
    """After the turn is saved (or the user erased), drop these scheduled reminders."""

    ids: tuple[str, ...]


Effect = ScheduleReminder | CancelReminders


class TurnOutcome(StrEnum):
    """What the engine did with an input: one value per kind of turn, for metrics, logs and evaluation."""

    ANSWERED = "answered"  # a choice was taken
    REASK = "reask"  # not understood: the question again
    ASKED_BACK = "asked_back"  # the likely choices offered instead of a guess
    UNSURE = "unsure"  # 「わからない」: how to find out
    FAQ = "faq"  # a question answered from flows/
    FAQ_UNKNOWN = "faq_unknown"  # a question the bot cannot answer: the help page
    COMMAND = "command"  # 戻る・ヘルプ・状況・…
    STALE = "stale"  # an old button, or a command this version does not know
    SECRET = "secret"  # looked like a password: refused, not kept
    TOO_LONG = "too_long"
    START = "start"  # the greeting, or where the user is
    ERASED = "erased"
    REMINDER = "reminder"  # a reminder fell due and continued the conversation
    REMINDER_DROPPED = "reminder_dropped"  # its reason was gone

    @property
    def struggled(self) -> bool:
        """The user was not (yet) understood: what the per-state struggle counts count."""
        return self in _STRUGGLES


_STRUGGLES = frozenset(
    {TurnOutcome.REASK, TurnOutcome.ASKED_BACK, TurnOutcome.UNSURE, TurnOutcome.FAQ, TurnOutcome.FAQ_UNKNOWN}
)


@dataclass(frozen=True, slots=True)
class TurnTrace:
    """What happened in a turn, for metrics and logs (no message text in here)."""

    outcome: TurnOutcome
    state_before: str
    state_after: str
    entered: tuple[str, ...] = field(default=())  # "flow:state" of every state entered, in order
    templates: tuple[str, ...] = field(default=())
    choice: str | None = None  # the choice taken (`@back` for a command), for understanding metrics
