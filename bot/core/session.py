"""A user's place in the conversation: small, immutable, and serialisable to a compact dict.

The session never stores free text the user typed except the template fill-ins they chose to give
(names and a job title), and it never grows with the length of the conversation: the back-history is
capped at `HISTORY_LIMIT` steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypedDict, Unpack

HISTORY_LIMIT = 8
SCHEMA = 1
PERSON = "~"  # answers that belong to the person, not to one platform (keys written `p.tax`)
PERSON_PREFIX = "p."
ITEM_PREFIX = "item."  # a condition or undo key that reads the current item
ADDED = "#add"  # undo key: the step created an item
CURRENT = "#cur"  # undo key: the step changed the current item


@dataclass(frozen=True, slots=True)
class SessionKey:
    """Who the session belongs to. `workspace` is the Slack team or LINE channel id (`-` when none)."""

    channel: str
    workspace: str
    user: str


@dataclass(frozen=True, slots=True)
class Step:
    """One entry of the back-history: where the user was, and how to undo what the answer changed."""

    flow: str
    state: str
    undo: tuple[tuple[str, str | None], ...] = ()  # previous values of answer keys in `flow`
    queue: tuple[str, ...] | None = None  # previous queue, when the answer changed it


@dataclass(frozen=True, slots=True)
class Item:
    """One of several things of a kind (a job, a proposal, a request), with its own values
    (`status`, a `note` such as its format, a `name` taken from the template's job title)."""

    flow: str
    kind: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder the user asked for (delivered by the job queue, or shown at the terminal's next start)."""

    id: str
    flow: str
    kind: str
    due: int


MAX_REMINDERS = 3  # per user: a few, each replaced by a newer one of the same kind


class SessionChanges(TypedDict, total=False):
    """The fields `Session.but` may change: each of `Session`'s, with its type (kept equal by a test)."""

    flow: str
    state: str
    answers: Mapping[str, Mapping[str, str]]
    fields: Mapping[str, str]
    filling: str | None
    queue: tuple[str, ...]
    history: tuple[Step, ...]
    updated: int
    items: tuple[Item, ...]
    current: int | None
    echoed: bool
    reminders: tuple[Reminder, ...]
    menu: tuple[str, ...]
    heard: Mapping[str, str]


@dataclass(frozen=True)  # no slots: `but` copies its __dict__ in one step
class Session:
    flow: str
    state: str
    answers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # flow -> key -> value
    fields: Mapping[str, str] = field(default_factory=dict)  # template fill-ins (client_name, …)
    filling: str | None = None  # the fill-in field being asked, while `state` shows a template
    queue: tuple[str, ...] = ()  # flows still to go through (the 「両方」 path)
    history: tuple[Step, ...] = ()
    updated: int = 0  # unix seconds of the last turn
    items: tuple[Item, ...] = ()
    current: int | None = None  # index in `items` of the item being talked about
    echoed: bool = False  # the last turn said what it understood (「〜ですね」): 「違う」 undoes it
    reminders: tuple[Reminder, ...] = ()
    menu: tuple[str, ...] = ()  # choice ids of the ask-back just shown, in its order: a typed number answers it
    heard: Mapping[str, str] = field(default_factory=dict)  # answers said before they were asked (slots.py)

    def but(self, **changes: Unpack[SessionChanges]) -> Session:
        """A copy with `changes`: `dataclasses.replace` without its per-call introspection (sessions are
        copied several times a turn, and the engine's speed target counts). A field that does not exist is
        a type error (`SessionChanges`) and, for callers mypy does not see, a TypeError here."""
        new = object.__new__(Session)
        values = new.__dict__  # frozen: fields are written once, here, as dataclasses' own __init__ does
        values.update(self.__dict__)
        count = len(values)
        values.update(changes)
        if len(values) != count:  # a key that is not a field was added (cheaper than a set comparison)
            raise TypeError(f"Session has no field {', '.join(sorted(changes.keys() - _FIELDS))}")
        return new

    def answer(self, flow: str, key: str) -> str | None:
        if key.startswith(ITEM_PREFIX):
            item = self.current_item()
            return None if item is None else item.values.get(key[len(ITEM_PREFIX) :])
        if key.startswith(PERSON_PREFIX):
            flow = PERSON
        return self.answers.get(flow, {}).get(key)

    def flow_answers(self, flow: str) -> dict[str, str]:
        """What a flow's conditions see: its own answers, the person's, and the current item's."""
        merged = {**self.answers.get(flow, {}), **self.answers.get(PERSON, {})}
        item = self.current_item()
        if item is not None and item.flow == flow:
            merged.update({ITEM_PREFIX + k: v for k, v in item.values.items()})
        return merged

    def with_answers(self, flow: str, changes: Mapping[str, str | None]) -> Session:
        """Apply `changes` (None removes a key) to one flow's answers; `p.` keys to the person's,
        `item.` keys to the current item."""
        session = self
        answers = dict(self.answers)
        for key, value in changes.items():
            if key.startswith(ITEM_PREFIX):
                session = session.with_item_values({key[len(ITEM_PREFIX) :]: value})
                continue
            bucket = PERSON if key.startswith(PERSON_PREFIX) else flow
            current = dict(answers.get(bucket, {}))
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
            if current:
                answers[bucket] = current
            else:
                answers.pop(bucket, None)
        return session.but(answers=answers)

    # --- items ----------------------------------------------------------------------------------

    def current_item(self) -> Item | None:
        return self.items[self.current] if self.current is not None and self.current < len(self.items) else None

    def items_of(self, flow: str, kind: str) -> list[tuple[int, Item]]:
        """(index in `items`, item) for one kind, in the order they were added."""
        return [(i, item) for i, item in enumerate(self.items) if item.flow == flow and item.kind == kind]

    def number(self, index: int) -> int:
        """The item's number among its kind (1, 2, …), as the user sees it."""
        item = self.items[index]
        return sum(1 for other in self.items[: index + 1] if other.flow == item.flow and other.kind == item.kind)

    def add_item(self, flow: str, kind: str) -> Session:
        return self.but(items=(*self.items, Item(flow, kind)), current=len(self.items))

    def with_item_values(self, changes: Mapping[str, str | None]) -> Session:
        item = self.current_item()
        if item is None or self.current is None:
            return self
        values = {k: v for k, v in item.values.items() if k not in changes}
        values.update({k: v for k, v in changes.items() if v is not None})
        items = list(self.items)
        items[self.current] = replace(item, values=values)
        return self.but(items=tuple(items))

    def push(self, step: Step) -> Session:
        return self.but(history=(*self.history, step)[-HISTORY_LIMIT:])

    # --- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A compact, JSON-safe dict with short keys (sessions are stored for many users)."""
        data: dict[str, Any] = {"_": SCHEMA, "f": self.flow, "s": self.state, "t": self.updated}
        if self.answers:
            data["a"] = {flow: dict(values) for flow, values in self.answers.items()}
        if self.fields:
            data["d"] = dict(self.fields)
        if self.filling:
            data["i"] = self.filling
        if self.queue:
            data["q"] = list(self.queue)
        if self.history:
            data["h"] = [_step_to_list(step) for step in self.history]
        if self.items:
            data["x"] = [[item.flow, item.kind, dict(item.values)] for item in self.items]
        if self.current is not None:
            data["c"] = self.current
        if self.echoed:
            data["e"] = 1
        if self.reminders:
            data["r"] = [[r.id, r.flow, r.kind, r.due] for r in self.reminders]
        if self.menu:
            data["m"] = list(self.menu)
        if self.heard:
            data["k"] = dict(self.heard)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        """Inverse of `to_dict`. Raises `ValueError` on data that is not a session of this schema."""
        try:
            if data.get("_") != SCHEMA:
                raise ValueError(f"unknown session schema {data.get('_')!r}")
            return cls(
                flow=str(data["f"]),
                state=str(data["s"]),
                answers={str(f): {str(k): str(v) for k, v in vals.items()} for f, vals in data.get("a", {}).items()},
                fields={str(k): str(v) for k, v in data.get("d", {}).items()},
                filling=str(data["i"]) if data.get("i") else None,
                queue=tuple(str(q) for q in data.get("q", ())),
                history=tuple(_step_from_list(item) for item in data.get("h", ())),
                updated=int(data.get("t", 0)),
                items=tuple(
                    Item(str(f), str(k), {str(a): str(b) for a, b in dict(v).items()}) for f, k, v in data.get("x", ())
                ),
                current=int(data["c"]) if data.get("c") is not None else None,
                echoed=bool(data.get("e")),
                reminders=tuple(Reminder(str(i), str(f), str(k), int(d)) for i, f, k, d in data.get("r", ())),
                menu=tuple(str(m) for m in data.get("m", ())),
                heard={str(k): str(v) for k, v in data.get("k", {}).items()},
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"malformed session: {exc}") from exc


_FIELDS = frozenset(f.name for f in fields(Session))


def _step_to_list(step: Step) -> list[Any]:
    item: list[Any] = [step.flow, step.state]
    if step.undo or step.queue is not None:
        item.append({k: v for k, v in step.undo})
    if step.queue is not None:
        item.append(list(step.queue))
    return item


def _step_from_list(item: Any) -> Step:
    undo = tuple((str(k), None if v is None else str(v)) for k, v in (item[2] if len(item) > 2 else {}).items())
    queue = tuple(str(q) for q in item[3]) if len(item) > 3 else None
    return Step(str(item[0]), str(item[1]), undo, queue)
