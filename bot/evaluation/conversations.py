"""Whole conversations, graded at the end: people who say several things at once, simulated.

Each case (tests/understanding/*/conversations.yaml) is a person: an opening line at the menu, what they
type when the bot asks each question (a list when it comes once per item), their fill-ins, the questions
whose answer they already gave (`told`), and what a careful operator would have recorded (`expect`). The
person answers whatever the bot asks — so the bot may skip questions it already knows the answer to — and
taps the one button of a screen that has only 「次へ」. At the end the checklist is compared with `expect`
and every question of `told` the bot asked blind counts as *asked twice*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.dialogue.checklist import lines, status_of
from bot.core.dialogue.engine import Engine
from bot.core.dialogue.offers import offered
from bot.core.messages import ChoiceInput, Inbound, ItemStatus, StartInput, TextInput
from bot.core.session import Session

NOW = 1_764_000_000
MAX_TURNS = 80
ENDS = frozenset({"common:finish", "common:finish_waiting", "common:finish_remind", "common:bye"})
# where a person may stop without a word: the procedure, or what is left to wait for
QUIET_ENDS = frozenset({"procedure", "pending", "waiting", "waiting_done", "recheck_confirm"})
STATUS = {
    ItemStatus.PENDING: "yes",
    ItemStatus.WAITING: "wait",
    ItemStatus.DONE: "done",
    ItemStatus.NA: "none",
    ItemStatus.UNKNOWN: "unknown",
}
STANDARD = {
    "development conversations": "tests/understanding/conversations.yaml",
    "held-out conversations": "tests/understanding/heldout/conversations.yaml",
}


@dataclass(frozen=True)
class Persona:
    id: str
    opening: str
    replies: Mapping[str, Any]
    fill: Mapping[str, str]
    told: tuple[str, ...]
    expect: Mapping[str, Any]


@dataclass
class Outcome:
    persona: Persona
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (what, right, what was found)
    asked_twice: list[str] = field(default_factory=list)
    turns: int = 0
    stopped: str = ""  # why the conversation ended before a finish, if it did

    @property
    def right(self) -> bool:
        return all(ok for _, ok, _ in self.checks) and not self.asked_twice


def load(path: Path) -> list[Persona]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Persona(
            str(p["id"]),
            str(p.get("opening", "")),
            dict(p.get("replies") or {}),
            {str(k): str(v) for k, v in (p.get("fill") or {}).items()},
            tuple(str(t) for t in p.get("told") or ()),
            dict(p.get("expect") or {}),
        )
        for p in data
    ]


def run(engine: Engine, persona: Persona) -> Outcome:
    outcome = Outcome(persona)
    now = NOW
    started = engine.handle(None, StartInput(), now).session
    assert started is not None  # the greeting always leaves a session at the menu
    session = started
    asked: Counter[str] = Counter()
    inbound: Inbound = TextInput(persona.opening)
    for _ in range(MAX_TURNS):
        now += 30
        turn = engine.handle(session, inbound, now)
        outcome.turns += 1
        if turn.session is None:
            outcome.stopped = "erased"
            break
        where = f"{turn.session.flow}:{turn.session.state}"
        if isinstance(inbound, TextInput) and turn.trace.outcome.struggled:
            outcome.stopped = f"stuck at {turn.trace.state_before}"
            break
        session = turn.session
        if where in ENDS:
            break
        next_inbound = _reply(engine, session, persona, where, asked)
        if next_inbound is None:
            outcome.stopped = "" if session.state in QUIET_ENDS else f"no reply at {where}"
            break
        inbound = next_inbound
    else:
        outcome.stopped = "too many turns"
    outcome.asked_twice = [state for state in persona.told if asked[state]]
    _grade(engine, session, persona, outcome)
    return outcome


def _reply(engine: Engine, session: Session, persona: Persona, where: str, asked: Counter[str]) -> Inbound | None:
    if session.filling:
        return TextInput(persona.fill.get(session.filling, "スキップ"))
    said = persona.replies.get(where)
    state = engine.library.state(where)
    if said is None:
        choices = offered(engine.library, session, state) if state is not None else []
        if len(choices) == 1:  # a screen with 「次へ」 only: tap it
            return ChoiceInput(session.flow, session.state, choices[0].id)
        return None
    count = asked[where]
    asked[where] += 1
    if isinstance(said, list):
        return TextInput(str(said[min(count, len(said) - 1)]))
    return TextInput(str(said))


def _grade(engine: Engine, session: Session, persona: Persona, outcome: Outcome) -> None:
    expect = persona.expect
    flows = [(str(expect.get("flow", "")), expect)]
    if isinstance(expect.get("crowdworks"), Mapping):
        flows.append(("crowdworks", expect["crowdworks"]))
    for flow, wanted in flows:
        if flow not in engine.library.flows:
            continue
        statuses = _statuses(engine, session, flow)
        for key, status in (wanted.get("checklist") or {}).items():
            got = statuses.get(str(key), "absent")
            outcome.checks.append((f"{flow}:{key}", got == str(status), got))
        for kind, spec in (wanted.get("items") or {}).items():
            found = [item for _, item in session.items_of(flow, str(kind))]
            count = int((spec or {}).get("count", 0))
            outcome.checks.append((f"{flow}:{kind} count", len(found) == count, str(len(found))))
            names = " ".join(item.values.get("name", "") for item in found)
            for word in (spec or {}).get("names") or ():
                outcome.checks.append((f"{flow}:{kind} named {word}", str(word) in names, names or "-"))
        for key, value in (wanted.get("answers") or {}).items():
            got = session.answers.get(flow, {}).get(str(key), "absent")
            outcome.checks.append((f"{flow}:{key}", got == str(value), got))


def _statuses(engine: Engine, session: Session, flow_name: str) -> dict[str, str]:
    """Each checklist key's status as a person would say it (an item kind: its worst item's)."""
    flow = engine.library.flows[flow_name]
    answers = session.flow_answers(flow_name)
    shown = {line.label for line in lines(engine.library, session, flow_name)}
    found: dict[str, str] = {}
    for rule in flow.checklist:
        items = session.items_of(flow_name, rule.items) if rule.items else []
        if items:
            marks = [status_of(rule, item.values.get("status")) for _, item in items]
            marks = [ItemStatus.PENDING if m is ItemStatus.UNKNOWN else m for m in marks]
            worst = next((s for s in (ItemStatus.PENDING, ItemStatus.WAITING) if s in marks), ItemStatus.DONE)
            found[rule.key] = STATUS[worst]
        elif rule.label in shown:
            found[rule.key] = STATUS[status_of(rule, answers.get(rule.key))]
    return found


def evaluate(engine: Engine, personas: Iterable[Persona]) -> list[Outcome]:
    return [run(engine, persona) for persona in personas]


def report(outcomes: list[Outcome], show_failures: bool = True) -> str:
    checks = [ok for o in outcomes for _, ok, _ in o.checks]
    told = sum(len(o.persona.told) for o in outcomes)
    twice = sum(len(o.asked_twice) for o in outcomes)
    right = sum(o.right for o in outcomes)
    lines_ = [
        f"conversations wholly right: {right}/{len(outcomes)} ({right / max(len(outcomes), 1):.1%})",
        f"checklist facts right:      {sum(checks)}/{len(checks)} ({sum(checks) / max(len(checks), 1):.1%})",
        f"told, then asked again:     {twice}/{told} ({twice / max(told, 1):.1%})",
        f"turns per conversation:     {sum(o.turns for o in outcomes) / max(len(outcomes), 1):.1f}",
    ]
    if show_failures:
        for o in outcomes:
            wrong = [f"{what}={got}" for what, ok, got in o.checks if not ok]
            if wrong or o.asked_twice or o.stopped:
                extra = f" [stopped: {o.stopped}]" if o.stopped else ""
                again = f" asked again: {', '.join(o.asked_twice)}" if o.asked_twice else ""
                lines_.append(f"  {o.persona.id}: {'; '.join(wrong)}{again}{extra}")
    return "\n".join(lines_)
