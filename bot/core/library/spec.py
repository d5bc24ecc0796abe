"""The schema of the flow files in `flows/` (see docs/flows.md), validated with pydantic.

Unknown keys are errors (`extra="forbid"`), so a typo in a flow file fails `taikai-bot flows check`
instead of being silently ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from bot.core.dates import valid as reminder_valid
from bot.core.japanese.normalize import normalize
from bot.core.library.spec_base import Spec as _Spec
from bot.core.library.spec_base import as_text, stringify
from bot.core.library.spec_base import ok as _ok
from bot.core.library.spec_words import (
    FactSpec,
    FactsSpec,
    FieldSpec,
    LexiconSpec,
    TemplateSpec,
    TemplatesSpec,
    TextsSpec,
)

__all__ = [
    "ChoiceSpec", "FactSpec", "FactsSpec", "FieldSpec", "FlowSpec", "LexiconSpec", "StateSpec", "TemplateSpec",
    "TemplatesSpec", "TextsSpec", "as_text", "stringify",
]  # fmt: skip

MAX_LABEL = 20  # LINE quick-reply labels; Slack allows more, so the tightest limit rules
EACH_ITEM_ROOM = 4  # an `each` button names its item in at least this many characters (「進行中1」)


class NumberSpec(_Spec):
    """A range a typed number must fall in to pick the choice: 「3500円」 → `{unit: 円, min: 1000}`.
    `unit: 時間` also takes 分・日・週・か月 (converted); a bare number counts in the choice's unit."""

    unit: str
    min: float | None = None
    max: float | None = None
    below: float | None = None  # exclusive upper bound (「1時間以内」: below 1)


class FaqSpec(_Spec):
    """A question users ask at a state (or anywhere in a flow) and its answer, naming its facts."""

    ask: tuple[str, ...] = Field(min_length=1)  # phrases; all content words of one must be in the question
    say: str
    facts: tuple[str, ...] = ()


class RemindSpec(_Spec):
    """A choice that asks for a reminder: of which kind, and when (`1d`, `3d`, `7d`, `payday`)."""

    kind: str
    after: str


class ReminderKindSpec(_Spec):
    """What a reminder is about: it is dropped, not delivered, once `while` no longer holds (the payout
    arrived), and a due reminder continues the conversation at `due`."""

    label: str  # 「振込の確認」 in 「状況」
    while_: str = Field(alias="while")
    due: str

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChoiceSpec(_Spec):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
    label: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    means: Literal["yes", "no"] | None = None
    set: dict[str, str | None] = Field(default_factory=dict)
    when: str | None = None
    next: str | None = None
    queue: tuple[str, ...] | None = None
    action: Literal["erase", "restart"] | None = None
    fallback: bool = False  # free text that matches no choice picks this one (e.g. 「その他」)
    # only its label, an alias or its number picks it, never a reading of the reply's words: for a choice whose
    # words every other reply shares (「もう退会した」 at a question about leaving: 「退会したい」 is not it)
    exact: bool = False
    add: str | None = None  # start a new item of this kind (it becomes the current item)
    item: dict[str, str | None] = Field(default_factory=dict)  # values set on the current item
    each: str | None = None  # one button per open item of this kind; `{item}` in the label names it
    reset: bool = False  # start this flow's checks again: its answers (but the decision) and items go
    examples: tuple[str, ...] = ()  # replies people type that mean this choice (understanding, not exact match)
    number: NumberSpec | None = None
    remind: RemindSpec | None = None  # schedule a reminder (replaces the flow's earlier one of that kind)

    _texts = field_validator("set", "item", "aliases", "examples", mode="before")(lambda cls, v: stringify(v))

    @model_validator(mode="after")
    def _shape(self) -> ChoiceSpec:
        """A choice goes somewhere, fits a LINE button, and no alias could be read as a button number."""
        problems = []
        if self.next is None and self.action is None:
            problems.append(f"choice '{self.id}' has neither `next` nor `action`")
        if self.each is None and len(self.label) > MAX_LABEL:
            problems.append(f"label '{self.label}' is longer than {MAX_LABEL} characters")
        if self.each is not None and "{item}" not in self.label:
            problems.append(f"choice '{self.id}': an `each` label names the item with {{item}}")
        elif self.each is not None and len(self.label.replace("{item}", "")) + EACH_ITEM_ROOM > MAX_LABEL:
            problems.append(f"label '{self.label}' leaves no room for the item's name")
        problems += [
            f"alias '{a}' of '{self.id}' would be read as a choice number"
            for a in self.aliases
            if normalize(a).isdigit()
        ]
        if self.remind is not None and not reminder_valid(self.remind.after):
            problems.append(f"choice '{self.id}': remind after '{self.remind.after}' (1d…999d or payday)")
        return _ok(self, problems)


class RouteSpec(_Spec):
    when: str | None = None
    next: str


class StateSpec(_Spec):
    title: str = Field(min_length=1)
    facts: tuple[str, ...] = ()
    say: str | tuple[str, ...] | None = None
    ask: str | None = None
    help: str | None = None
    choices: tuple[ChoiceSpec, ...] = ()
    next: str | None = None
    route: tuple[RouteSpec, ...] | None = None
    template: str | None = None
    checklist: bool = False  # show the 「状況」 checklist under the state's text
    faq: tuple[FaqSpec, ...] = ()
    unsure: str | None = None  # what to say to 「わからない」 here (else the lexicon's unsure_reask)

    @model_validator(mode="after")
    def _shape(self) -> StateSpec:
        """A state is a question (ask + choices, or `next`) or a route; either way it has a way out."""
        problems = []
        choices = list(self.choices)
        if self.route is not None and (choices or self.next or self.ask or self.template or self.say):
            problems.append("a route state only has `route` (and title, facts): no question, text or template")
        if self.route is not None and (not self.route or self.route[-1].when is not None):
            problems.append("a route must end with a branch without `when` (the default)")
        if self.next is not None and choices:
            problems.append("use either `next` or `choices`, not both")
        if self.route is None and not choices and self.next is None:
            problems.append("no way out: the state has no choices, no `next` and no `route`")
        if sum(c.fallback for c in choices) > 1:
            problems.append("at most one choice may be the `fallback` for unmatched text")
        if choices and all(c.when or c.each for c in choices):
            problems.append("every choice has `when`: give at least one unconditional choice so no one is stuck")
        if choices and not self.ask:
            problems.append("a question needs `ask`")
        ids = [c.id for c in choices]
        problems += [f"choice id '{i}' is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
        return _ok(self, problems)


class ChecklistSpec(_Spec):
    """One line of 「状況」 from an answer key, or one line per item when `items` names a kind."""

    key: str
    label: str
    when: str | None = None
    items: str | None = None  # item kind: its items replace the single line once there are any
    pending: tuple[str, ...] = ("yes",)  # 要対応
    waiting: tuple[str, ...] = ("wait",)  # 待ち
    done: tuple[str, ...] = ("done",)  # 完了
    na: tuple[str, ...] = ("none",)  # 該当なし
    done_word: str | None = None  # e.g. 退会済み instead of 完了

    _texts = field_validator("pending", "waiting", "done", "na", mode="before")(lambda cls, v: stringify(v))


class ItemKindSpec(_Spec):
    """Things a user can have several of (jobs, proposals, requests): each is its own checklist line."""

    label: str  # 進行中の仕事 → 「進行中の仕事1「LP制作」（コンペ）」 in 「状況」
    short: str  # 進行中 → 「進行中1」 on buttons (LINE labels are 20 characters at most)
    max: int = Field(default=10, ge=1, le=20)
    more: str | None = None  # the 「ほかにも…ありますか？」 state: answered from a count said before (「2件」)


class HearSpec(_Spec):
    """A question whose answer a reply may give before it is asked (a slot, as in Rasa forms)."""

    ask: str  # a state of this flow
    per: str | None = None  # an item kind: one answer per item, in the order they were said
    words: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # only these phrases, per choice id


class FlowSpec(_Spec):
    flow: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    checked: dt.date | None = None
    confirm: str | None = None
    initial: str
    after_all: str | None = None
    conditions: dict[str, Any] = Field(default_factory=dict)
    checklist: tuple[ChecklistSpec, ...] = ()
    items: dict[str, ItemKindSpec] = Field(default_factory=dict)
    faq: tuple[FaqSpec, ...] = ()  # questions answered at any state of the flow
    reminders: dict[str, ReminderKindSpec] = Field(default_factory=dict)
    hears: tuple[HearSpec, ...] = ()  # slots: questions a reply anywhere in the flow may already answer
    states: dict[str, StateSpec]

    @model_validator(mode="after")
    def _names(self) -> FlowSpec:
        """State names, and the item and reminder kinds choices use, exist in this file."""
        problems = [
            f"state '{n}': state names may not start with '@' or '_' nor contain ':'"
            for n in self.states
            if n.startswith(("@", "_")) or ":" in n
        ]
        for name, state in self.states.items():
            for choice in state.choices:
                for kind in (choice.add, choice.each):
                    if kind is not None and kind not in self.items:
                        problems.append(f"state '{name}': choice '{choice.id}': unknown item kind '{kind}'")
                if choice.remind is not None and choice.remind.kind not in self.reminders:
                    problems.append(
                        f"state '{name}': choice '{choice.id}': unknown reminder kind '{choice.remind.kind}'"
                    )
        problems += [
            f"checklist '{r.key}': unknown item kind '{r.items}'"
            for r in self.checklist
            if r.items and r.items not in self.items
        ]
        problems += [f"hears: '{h.ask}' is not a state" for h in self.hears if h.ask not in self.states]
        problems += [
            f"hears '{h.ask}': unknown item kind '{h.per}'" for h in self.hears if h.per and h.per not in self.items
        ]
        problems += [
            f"item kind '{k}': more state '{i.more}' is not a state"
            for k, i in self.items.items()
            if i.more is not None and i.more not in self.states
        ]
        problems += [
            f"reminder '{k}': due state '{r.due}' is not a state"
            for k, r in self.reminders.items()
            if ":" not in r.due and r.due not in self.states
        ]
        return _ok(self, problems)
