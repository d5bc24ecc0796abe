"""The compiled, immutable form of `flows/` that the engine runs (built by `flows.load_library`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.core.library.conditions import Condition
from bot.core.library.spec import FactsSpec, LexiconSpec, TemplatesSpec
from bot.core.library.spec_words import TextsSpec
from bot.core.library.vocabulary import Candidate, Vocabulary

COMMON = "common"  # the flow with the menu, the finish and the confirmations


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str
    means: str | None
    set: tuple[tuple[str, str | None], ...]
    when_name: str | None
    when: Condition | None
    target: str | None  # canonical: "flow:state", "flow:", "@next", "@back"
    queue: tuple[str, ...] | None
    action: str | None
    candidate: Candidate
    fallback: bool = False
    exact: bool = False  # picked by its label, an alias or its number only (ChoiceSpec.exact)
    add: str | None = None  # item kind this choice starts
    item: tuple[tuple[str, str | None], ...] = ()  # values set on the current item
    each: str | None = None  # expanded into one button per open item of this kind
    index: int | None = None  # the item an expanded `each` button stands for
    reset: bool = False
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    number: NumberRange | None = None
    remind: tuple[str, str] | None = None  # (kind, after)


@dataclass(frozen=True, slots=True)
class ReminderKind:
    label: str
    while_: Condition | None  # the reminder is due only while this holds
    due: str  # "flow:state"


@dataclass(frozen=True, slots=True)
class NumberRange:
    unit: str
    min: float | None
    max: float | None
    below: float | None


@dataclass(frozen=True, slots=True)
class Faq:
    asks: tuple[str, ...]
    say: str
    facts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Route:
    when_name: str | None
    when: Condition | None
    target: str


@dataclass(frozen=True, slots=True)
class State:
    flow: str
    name: str
    title: str
    facts: tuple[str, ...]
    says: tuple[str, ...]
    ask: str | None
    help: str | None
    choices: tuple[Choice, ...]
    routes: tuple[Route, ...] | None
    template: str | None
    checklist: bool = False
    faq: tuple[Faq, ...] = ()
    unsure: str | None = None

    @property
    def key(self) -> str:
        return f"{self.flow}:{self.name}"

    def targets(self) -> list[str]:
        found = [c.target for c in self.choices if c.target]
        return found + [r.target for r in self.routes or ()]


@dataclass(frozen=True, slots=True)
class ChecklistRule:
    key: str
    label: str
    when: Condition | None
    pending: frozenset[str]
    waiting: frozenset[str]
    done: frozenset[str]
    na: frozenset[str]
    items: str | None = None
    done_word: str | None = None


@dataclass(frozen=True, slots=True)
class ItemKind:
    label: str
    short: str
    max: int
    more: str | None = None  # the state asking for another one (answered from a count said before)


@dataclass(frozen=True)
class Slot:
    """A question of the flow a reply may answer before it is asked; `per`: one answer per item."""

    ask: str  # "flow:state"
    per: str | None = None
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # heard only by these phrases


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    title: str
    file: str
    checked: dt.date | None
    confirm: str | None
    initial: str
    after_all: str | None
    states: dict[str, State]
    checklist: tuple[ChecklistRule, ...]
    machine: Any  # transitions.Machine: one per flow, built once, shared by every user
    items: Mapping[str, ItemKind] = field(default_factory=dict)
    faq: tuple[Faq, ...] = ()
    reminders: Mapping[str, ReminderKind] = field(default_factory=dict)
    hears: tuple[Slot, ...] = ()

    def with_machine(self, machine: Any) -> Flow:
        return replace(self, machine=machine)


@dataclass(frozen=True, slots=True)
class Library:
    """Every flow, template and word the bot knows; validated, immutable, shared by all turns."""

    flows: dict[str, Flow]
    templates: TemplatesSpec
    lexicon: LexiconSpec
    facts: FactsSpec
    vocabulary: Vocabulary
    directory: Path
    # Every fixed bot line from lexicon.yaml, as typed fields (`flows check` verifies each one's placeholders,
    # which the callers fill with `str.format`): `lexicon.texts`, kept as a field because it is read every turn.
    texts: TextsSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "texts", self.lexicon.texts)

    def resolve(self, flow: str, target: str) -> str:
        """A target as 'flow:state' ('other:' becomes the other flow's initial state)."""
        name, sep, state = target.partition(":")
        if not sep:
            return f"{flow}:{target}"
        return f"{name}:{state or self.flows[name].initial}"

    def state(self, where: str) -> State | None:
        flow, _, name = where.partition(":")
        found = self.flows.get(flow)
        return None if found is None else found.states.get(name)

    def single_source(self, state: State) -> bool:
        return any(self.facts.facts[f].single_source for f in state.facts if f in self.facts.facts)

    def confirm_at(self, state: State, default: str | None) -> str | None:
        """Where the state's facts should be confirmed: the page of its first fact that names one, else
        `default` (the flow's page) when a fact is single-source; None when nothing needs confirming."""
        facts = [self.facts.facts[f] for f in state.facts if f in self.facts.facts]
        page = next((fact.confirm for fact in facts if fact.confirm), None)
        return page or (default if any(fact.single_source for fact in facts) else None)
