"""Every transition of every flow is exercised by a generated, scripted conversation.

A breadth-first walk drives the real engine from a fresh start, pressing every offered button in every
reached situation (skipping template fill-ins). Each choice of each state, and each branch of each
route, must be taken at least once — a choice that can never be offered, or a route branch that can
never be taken, is a flow bug.
"""

from __future__ import annotations

import itertools
from collections import deque

from bot.core.dialogue.engine import Engine
from bot.core.dialogue.fillins import SKIP
from bot.core.library.machines import STUB_PREFIX
from bot.core.library.model import Library
from bot.core.messages import ChoiceInput, CommandInput, Question, ReminderInput, StartInput
from bot.core.session import PERSON, Session

LIMIT = 60_000
PER_PLACE = 6  # situations kept per place before only answer-novel ones are explored


class Frontier:
    """Which situations to explore: all answer combinations would explode, so at each place (flow,
    state, queue, fill-in) keep a few, then only those bringing an answer value not seen there yet."""

    def __init__(self) -> None:
        self.count: dict[tuple[object, ...], int] = {}
        self.pairs: dict[tuple[object, ...], set[tuple[str, str, str]]] = {}
        self.total = 0

    def admit(self, session: Session) -> bool:
        place = (session.flow, session.state, session.queue, session.filling)
        pairs = {(f, k, v) for f, a in session.answers.items() for k, v in a.items()}
        pairs |= {(i.flow, f"{i.kind}.{k}", v) for i in session.items for k, v in i.values.items()}
        # answers of the person (reused on every platform) matter in combination with the flow's own
        person = session.answers.get(PERSON, {})
        pairs |= {(f, f"{k}+{pk}", f"{v}+{pv}") for f, k, v in set(pairs) for pk, pv in person.items() if f != PERSON}
        known = self.pairs.setdefault(place, set())
        novel = not pairs <= known
        if self.count.get(place, 0) >= PER_PLACE and not novel:
            return False
        known |= pairs
        self.count[place] = self.count.get(place, 0) + 1
        self.total += 1
        return True


def walk(engine: Engine) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]], int]:
    """Return (choices taken, route edges taken, situations visited)."""
    taken: set[tuple[str, str, str]] = set()
    routed: set[tuple[str, str]] = set()
    first = engine.handle(None, StartInput(), 0)
    assert first.session is not None
    queue = deque([(first.session, first.replies[-1])])
    frontier = Frontier()
    frontier.admit(first.session)
    while queue and frontier.total < LIMIT:
        session, question = queue.popleft()
        assert isinstance(question, Question)
        taps: list[ChoiceInput | CommandInput | ReminderInput] = [CommandInput("restart"), CommandInput("erase")]
        taps += [ReminderInput(r.id) for r in session.reminders]  # what the user asked for falls due
        for option in question.options:
            tap = ChoiceInput.decode(option.value)
            assert tap is not None
            taps.append(tap)
        for tap in taps:
            turn = engine.handle(session, tap, 0)
            routed.update(itertools.pairwise(turn.trace.entered))
            if isinstance(tap, CommandInput | ReminderInput):
                if turn.session is not None and turn.replies and frontier.admit(turn.session):
                    queue.append((turn.session, turn.replies[-1]))
                continue
            if tap.choice != SKIP and not tap.choice.startswith("_"):
                taken.add((tap.flow, tap.state, tap.choice.partition("~")[0]))  # `each` buttons: id~item
            entered = list(turn.trace.entered)
            for here, there in itertools.pairwise(entered):
                routed.add((here, there))
            if turn.session is None:
                continue
            if frontier.admit(turn.session):
                queue.append((turn.session, turn.replies[-1]))
    return taken, routed, frontier.total


def test_every_choice_and_route_branch_is_taken(library: Library, engine: Engine) -> None:
    taken, routed, visited = walk(engine)
    assert visited < LIMIT, "the walk hit its limit: the state space grew unexpectedly"
    missing_choices = [
        f"{flow.file}: state '{state.name}': choice '{choice.id}'"
        for flow in library.flows.values()
        for state in flow.states.values()
        for choice in state.choices
        if (flow.name, state.name, choice.id) not in taken
    ]
    missing_routes = []
    for flow in library.flows.values():
        for state in flow.states.values():
            for branch in state.routes or ():
                target = library.resolve(flow.name, branch.target) if not branch.target.startswith("@") else None
                if target is not None and (state.key, target) not in routed:
                    missing_routes.append(f"{flow.file}: route '{state.name}' → '{branch.target}'")
    assert not missing_choices, "\n".join(missing_choices)
    assert not missing_routes, "\n".join(missing_routes)


def test_machines_agree_with_the_flow_files(library: Library) -> None:
    """Each flow's shared transitions machine has one edge per choice and per route branch."""
    for flow in library.flows.values():
        machine = flow.machine
        for state in flow.states.values():
            for choice in state.choices:
                if choice.target is None:
                    continue
                edges = machine.events[choice.id].transitions[state.name]
                assert len(edges) == 1
                expected = library.resolve(flow.name, choice.target) if not choice.target.startswith("@") else None
                dest = edges[0].dest
                if dest.startswith(STUB_PREFIX):
                    assert dest == STUB_PREFIX + choice.target
                else:
                    assert expected == f"{flow.name}:{dest}"
