"""One `transitions` machine per flow, built once at start-up and shared by every user.

Per turn the engine fires one event on a tiny throwaway model (`Cursor`) instead of `add_model` /
`remove_model`, which re-binds every trigger on the model and costs ~10x more. Targets outside the
flow (another flow, `@next`, `@back`) are terminal stub states named `→target`, so the machine — and
its mermaid diagram — shows every way out of the flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from transitions import Machine

from bot.core.library.conditions import Condition, Facts

if TYPE_CHECKING:
    from bot.core.library.model import Flow

ROUTE_TRIGGER = "route"
STUB_PREFIX = "→"


class Cursor:
    """The model a shared machine moves for one turn: just the state name and the condition inputs."""

    __slots__ = ("facts", "state")

    def __init__(self, state: str, facts: Facts | None = None) -> None:
        self.state = state
        self.facts = facts


def transitions_of(flow: Flow, conditions_as_names: bool = False) -> tuple[list[str], list[dict[str, Any]]]:
    """States and transitions for `transitions`; names instead of callables for diagrams."""
    states = list(flow.states)
    stubs: dict[str, str] = {}
    edges: list[dict[str, Any]] = []

    def dest(target: str) -> str:
        name, sep, state = target.partition(":")
        if name == flow.name and sep and state:
            return state
        return stubs.setdefault(target, STUB_PREFIX + target)

    for state in flow.states.values():
        for choice in state.choices:
            if choice.target is not None:
                edge: dict[str, Any] = {"trigger": choice.id, "source": state.name, "dest": dest(choice.target)}
                if choice.when is not None:  # the machine itself refuses a choice that is not on offer
                    edge["conditions"] = [choice.when_name if conditions_as_names else _check(choice.when)]
                edges.append(edge)
        for route in state.routes or ():
            edge = {"trigger": ROUTE_TRIGGER, "source": state.name, "dest": dest(route.target)}
            if route.when is not None:
                edge["conditions"] = [route.when_name if conditions_as_names else _check(route.when)]
            edges.append(edge)
    return states + list(stubs.values()), edges


def build_machine(flow: Flow) -> Machine:
    states, edges = transitions_of(flow)
    return Machine(
        model=None,
        states=states,
        transitions=edges,
        initial=flow.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


def fire(machine: Machine, cursor: Cursor, trigger: str) -> str | None:
    """Run `trigger` from `cursor.state`; returns the destination (a state name or a `→target` stub), or
    None when the transition's condition does not hold (the choice is not on offer in this situation)."""
    transitions = machine.events[trigger].transitions.get(cursor.state, ())
    if len(transitions) == 1 and not transitions[0].conditions:
        return str(transitions[0].dest)  # the machine's own edge, read without its event machinery (~30 µs)
    moved = machine.events[trigger].trigger(cursor)
    return cursor.state if moved else None


def mermaid(flow: Flow) -> str:
    """The flow as a mermaid state diagram, drawn by transitions' own mermaid engine."""
    from transitions.extensions.diagrams import GraphMachine

    states, edges = transitions_of(flow, conditions_as_names=True)

    class _Model:
        pass

    model = _Model()
    GraphMachine(
        model=model,
        states=states,
        transitions=edges,
        initial=flow.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=flow.title,
        show_conditions=True,
    )
    return str(model.get_graph().draw(None))  # type: ignore[attr-defined]


def _check(condition: Condition) -> Callable[[Any], bool]:
    return lambda event: condition(event.model.facts)
