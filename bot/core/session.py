"""A user's place in the conversation: small, immutable, and serialisable to a compact dict.

The session never stores free text the user typed except the template fill-ins they chose to give
(names and a job title), and it never grows with the length of the conversation: the back-history is
capped at `HISTORY_LIMIT` steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

HISTORY_LIMIT = 8
SCHEMA = 1


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
class Session:
    flow: str
    state: str
    answers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # flow -> key -> value
    fields: Mapping[str, str] = field(default_factory=dict)  # template fill-ins (client_name, …)
    filling: str | None = None  # the fill-in field being asked, while `state` shows a template
    queue: tuple[str, ...] = ()  # flows still to go through (the 「両方」 path)
    history: tuple[Step, ...] = ()
    updated: int = 0  # unix seconds of the last turn

    def answer(self, flow: str, key: str) -> str | None:
        return self.answers.get(flow, {}).get(key)

    def with_answers(self, flow: str, changes: Mapping[str, str | None]) -> Session:
        """Apply `changes` (None removes a key) to one flow's answers."""
        current = dict(self.answers.get(flow, {}))
        for key, value in changes.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        answers = dict(self.answers)
        if current:
            answers[flow] = current
        else:
            answers.pop(flow, None)
        return replace(self, answers=answers)

    def push(self, step: Step) -> Session:
        return replace(self, history=(*self.history, step)[-HISTORY_LIMIT:])

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
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed session: {exc}") from exc


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
