"""The choices a question offers in this situation: `when` conditions, and one button per open item."""

from __future__ import annotations

from dataclasses import replace

from bot.core.dialogue.checklist import facts_for, item_status_open, item_title
from bot.core.library.model import Choice, Library, State
from bot.core.library.vocabulary import candidate
from bot.core.session import Session

EACH = "~"  # an `each` button's id: `<choice id>~<item index>`


def offered(library: Library, session: Session, state: State) -> list[Choice]:
    if not any(c.when or c.each for c in state.choices):
        return list(state.choices)
    facts = facts_for(library, session, state.flow)
    found: list[Choice] = []
    for choice in state.choices:
        if choice.when is not None and not choice.when(facts):
            continue
        if choice.each is None:
            found.append(choice)
            continue
        flow = library.flows[state.flow]
        for index, item in session.items_of(state.flow, choice.each):
            if not item_status_open(flow, item):
                continue
            label = choice.label.replace("{item}", item_title(flow, session, index, short=True))
            aliases = [item.values["name"]] if item.values.get("name") else []
            choice_id = f"{choice.id}{EACH}{index}"
            found.append(
                replace(
                    choice, id=choice_id, label=label, index=index, candidate=candidate(choice_id, label, aliases, None)
                )
            )
    return found


def trigger_of(choice_id: str) -> str:
    """The machine's trigger for a choice id (an `each` button fires its choice's transition)."""
    return choice_id.partition(EACH)[0]
