"""Named conditions over a flow's answers, compiled once from the flow file into plain callables.

Flow files name conditions (`when: is_worker`); the YAML never contains code or import paths, so a flow
file can change a rule but cannot make the engine run anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.library.spec import as_text
from bot.core.messages import ItemStatus


@dataclass(frozen=True, slots=True)
class Facts:
    """What a condition may look at: one flow's answers and its checklist statuses (computed lazily)."""

    answers: Mapping[str, str]
    statuses: Callable[[], tuple[ItemStatus, ...]]
    queue: tuple[str, ...] = ()  # flows still to go through after this one (the 「両方」 path)
    open_flows: Callable[[], tuple[str, ...]] = lambda: ()  # other flows the user is leaving, not yet clear


Condition = Callable[[Facts], bool]

BUILTINS: dict[str, Condition] = {
    "always": lambda facts: True,
    "checklist_clear": lambda facts: all(s.settled for s in facts.statuses()),
    "checklist_pending": lambda facts: any(s is ItemStatus.PENDING for s in facts.statuses()),
    "next_flow_queued": lambda facts: bool(facts.queue),
    "open_elsewhere": lambda facts: bool(facts.open_flows()),
}


class ConditionError(ValueError):
    """A condition that names an unknown condition, refers to itself, or has an unknown shape."""


def compile_conditions(raw: Mapping[str, Any]) -> dict[str, Condition]:
    """Compile every named condition; raises ConditionError naming the condition at fault."""
    compiled: dict[str, Condition] = dict(BUILTINS)

    def by_name(name: str, trail: tuple[str, ...]) -> Condition:
        if name in compiled:
            return compiled[name]
        if name not in raw:
            raise ConditionError(f"unknown condition '{name}'")
        if name in trail:
            raise ConditionError(f"condition '{name}' refers to itself ({' → '.join((*trail, name))})")
        compiled[name] = build(raw[name], (*trail, name))
        return compiled[name]

    def build(spec: Any, trail: tuple[str, ...]) -> Condition:
        if isinstance(spec, str):
            return by_name(spec, trail)
        if not isinstance(spec, Mapping) or not spec:
            raise ConditionError(f"condition '{trail[-1]}' must be a name or a mapping, not {spec!r}")
        parts: list[Condition] = []
        for key, value in spec.items():
            if key in ("all", "any"):
                if not isinstance(value, list):
                    raise ConditionError(f"condition '{trail[-1]}': '{key}' needs a list")
                subs = tuple(build(v, trail) for v in value)
                parts.append(_all(subs) if key == "all" else _any(subs))
            elif key == "not":
                parts.append(_not(build(value, trail)))
            else:
                parts.append(_answer_in(str(key), value))
        return parts[0] if len(parts) == 1 else _all(tuple(parts))

    for name in raw:
        by_name(name, ())
    return compiled


def _answer_in(key: str, value: Any) -> Condition:
    allowed = frozenset(as_text(v) for v in (value if isinstance(value, list) else [value]))
    return lambda facts: facts.answers.get(key) in allowed


def _all(subs: tuple[Condition, ...]) -> Condition:
    return lambda facts: all(sub(facts) for sub in subs)


def _any(subs: tuple[Condition, ...]) -> Condition:
    return lambda facts: any(sub(facts) for sub in subs)


def _not(sub: Condition) -> Condition:
    return lambda facts: not sub(facts)
