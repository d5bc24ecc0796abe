"""The schema of the YAML files in `flows/` (see docs/flows.md), validated with pydantic.

Unknown keys are errors (`extra="forbid"`), so a typo in a flow file fails `taikai-bot flows check`
instead of being silently ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    add: str | None = None  # start a new item of this kind (it becomes the current item)
    item: dict[str, str | None] = Field(default_factory=dict)  # values set on the current item
    each: str | None = None  # one button per open item of this kind; `{item}` in the label names it
    reset: bool = False  # start this flow's checks again: its answers (but the decision) and items go
    examples: tuple[str, ...] = ()  # replies people type that mean this choice (understanding, not exact match)
    number: NumberSpec | None = None
    remind: RemindSpec | None = None  # schedule a reminder (replaces the flow's earlier one of that kind)

    _texts = field_validator("set", "item", "aliases", "examples", mode="before")(lambda cls, v: stringify(v))


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
    states: dict[str, StateSpec]


class FieldSpec(_Spec):
    ask: str
    hint: str | None = None
    remember: bool = False  # the person's own (their name): asked once, reused on every platform
    kind: Literal["name", "title"] = "name"  # what a typed value must look like
    honorific: bool = False  # the addressee: 様 for a person, 御中 / ご担当者様 for a company
    item: bool = False  # belongs to the current item (its name in 「状況」)


class TemplateSpec(_Spec):
    title: str
    body: str
    facts: tuple[str, ...] = ()


class TemplatesSpec(_Spec):
    fields: dict[str, FieldSpec]
    placeholder: str = "〇〇"
    templates: dict[str, TemplateSpec]


class LexiconSpec(_Spec):
    yes: tuple[str, ...]
    no: tuple[str, ...]
    commands: dict[Literal["back", "restart", "help", "status", "erase", "stop_reminders"], tuple[str, ...]]
    erase_target: str
    texts: dict[str, str]
    status_marks: dict[Literal["pending", "waiting", "done", "na", "unknown"], str]
    status_words: dict[Literal["pending", "waiting", "done", "na", "unknown"], str]
    unsure: tuple[str, ...] = ()  # 「わからない」…: never read as a yes/no answer
    greetings: tuple[str, ...] = ()  # 「こんにちは」「ありがとう」: show the question again, no re-ask line
    fill_suffixes: tuple[str, ...] = ()  # stripped from fill-ins: 様, さん, です, と申します …
    restart_target: str | None = None  # confirmation asked before 「最初から」 wipes answers
    undo: tuple[str, ...] = ()  # 「違う」: right after the bot said what it understood, undo that answer

    _texts = field_validator("yes", "no", "unsure", "greetings", "fill_suffixes", "undo", mode="before")(
        lambda cls, v: stringify(v)
    )


class FactSpec(_Spec):
    summary: str
    sources: tuple[str, ...] = ()
    single_source: bool = False


class FactsSpec(_Spec):
    facts: dict[str, FactSpec]


def as_text(value: Any) -> Any:
    """YAML reads numbers (and true/false) as such; answers and words are always strings."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(as_text(v) for v in value)
    return value
