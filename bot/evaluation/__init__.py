"""`taikai-bot understand eval`: how well the engine reads the replies of a corpus (tests/understanding/).

Each case is typed at a question (`at: flow:state`) by a user who chose to leave, in both roles; the
engine's turn is then graded: correct, asked back (the bot asked again or offered the likely choices:
safe), or wrong (it recorded another answer or ran another command: a silent misreading).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.dialogue.checklist import facts_for
from bot.core.dialogue.engine import Engine
from bot.core.library.model import COMMON, Library
from bot.core.messages import TextInput, TurnOutcome
from bot.core.session import Session

SAFE = frozenset({TurnOutcome.TOO_LONG, TurnOutcome.SECRET}) | {o for o in TurnOutcome if o.struggled}
QUESTION = frozenset({TurnOutcome.FAQ, TurnOutcome.FAQ_UNKNOWN})
NOW = 1_764_000_000
# What `understand eval` grades by default, each set on its own: the development sets the rules are tuned to
# (the second written blind by a helper shown only the questions, measured once before any tuning to it),
# and the held-out set written blind and never tuned to (tests/understanding/heldout/README.md).
STANDARD_SETS = {
    "development": ["tests/understanding/corpus.yaml"],
    "development, written blind": ["tests/understanding/corpus_blind.yaml"],
    "held-out": [f"tests/understanding/heldout/part{i}.yaml" for i in (1, 2, 3)],
}


@dataclass(frozen=True, slots=True)
class Case:
    at: str
    text: str
    expect: str
    category: str


@dataclass(frozen=True, slots=True)
class Graded:
    case: Case
    verdict: str  # correct | asked_back | wrong
    got: str  # what the engine did: a choice id, @command, or its outcome


def load_corpus(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Case(str(e["at"]), str(e["text"]), str(e["expect"]), str(e.get("category", "other"))) for e in data]


def load_corpora(paths: Iterable[Path]) -> list[Case]:
    return [case for path in paths for case in load_corpus(path)]


def situation(at: str, library: Library | None = None, expect: str | None = None) -> Session:
    """A user at `at` who decided to leave and uses the platform in both roles — and, when the expected
    answer is a button offered only while a line is open (「出金を申請した」 at the list of what is left),
    with that line open: the writer of the case saw the button, so the user it describes has it."""
    flow, _, state = at.partition(":")
    answers: dict[str, Mapping[str, str]] = {}
    if flow != "common":
        answers[flow] = {"decision": "leave", "role": "both"}
    session = Session(flow=flow, state=state, answers=answers, updated=NOW)
    if library is None or expect is None:
        return session
    return _with_button(library, session, expect)


def _with_button(library: Library, session: Session, expect: str) -> Session:
    """`session` with one checklist answer changed so that the choice `expect` is offered, if one does it."""
    state = library.state(f"{session.flow}:{session.state}")
    choice = next((c for c in state.choices if c.id == expect), None) if state is not None else None
    flow = library.flows.get(session.flow)
    if choice is None or choice.when is None or flow is None:
        return session
    if choice.when(facts_for(library, session, session.flow)):
        return session
    base = dict(session.answers.get(session.flow, {}))
    for rule in flow.checklist:
        for value in (*rule.pending, *rule.waiting):
            opened = session.but(answers={**session.answers, session.flow: {**base, rule.key: value}})
            if choice.when(facts_for(library, opened, session.flow)):
                return opened
    for other in library.flows:  # 「先にクラウドワークスへ」: offered when the other platform is queued
        queued = session.but(queue=(other,))
        if other not in (COMMON, session.flow) and choice.when(facts_for(library, queued, session.flow)):
            return queued
    return session


def grade(engine: Engine, case: Case) -> Graded:
    at = situation(case.at, engine.library, case.expect)
    turn = engine.handle(at, TextInput(case.text), NOW + 10)
    trace = turn.trace
    got = trace.choice or trace.outcome
    expect = case.expect.removeprefix("@menu:")
    if case.expect == "@ask":
        ok = trace.outcome is TurnOutcome.ASKED_BACK
    elif case.expect == "@faq":
        ok = trace.outcome in QUESTION
    elif case.expect == "@unsure":
        ok = trace.outcome is TurnOutcome.UNSURE
    else:
        ok = trace.choice == expect
    if ok:
        return Graded(case, "correct", got)
    return Graded(case, "asked_back" if trace.choice is None and trace.outcome in SAFE else "wrong", got)


def evaluate(engine: Engine, cases: Iterable[Case]) -> list[Graded]:
    return [grade(engine, case) for case in cases]


def summary(graded: list[Graded]) -> dict[str, Any]:
    """Shares per verdict overall and per category (fractions of 1)."""

    def shares(items: list[Graded]) -> dict[str, float]:
        counts = Counter(g.verdict for g in items)
        return {v: counts[v] / len(items) for v in ("correct", "asked_back", "wrong")} | {"n": len(items)}

    by_category: dict[str, list[Graded]] = defaultdict(list)
    for g in graded:
        by_category[g.case.category].append(g)
    return {"all": shares(graded), "categories": {k: shares(v) for k, v in sorted(by_category.items())}}


def report(graded: list[Graded], show_failures: bool = True) -> str:
    data = summary(graded)
    lines = [f"{'category':<10} {'n':>4} {'correct':>8} {'asked':>8} {'wrong':>8}"]
    for name, row in [*data["categories"].items(), ("ALL", data["all"])]:
        lines.append(f"{name:<10} {row['n']:>4} {row['correct']:>8.1%} {row['asked_back']:>8.1%} {row['wrong']:>8.1%}")
    if show_failures:
        for g in graded:
            if g.verdict != "correct":
                lines.append(f"  {g.verdict:<10} {g.case.at:<32} {g.case.text!r} → {g.got} (expected {g.case.expect})")
    return "\n".join(lines)
