"""The choices a question offers in this situation: `when` conditions, and one button per open item."""

from __future__ import annotations

from dataclasses import replace

from bot.core.dialogue.checklist import facts_for, item_status_open, item_title
from bot.core.library.model import Choice, Library, State
from bot.core.library.vocabulary import candidate
from bot.core.session import Session

EACH = "~"  # an `each` button's id: `<choice id>~<item index>`
MAX_NAME = 12  # characters of an item's name in its button (LINE allows 20 for the whole label)


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
            numbered = choice.label.replace("{item}", item_title(flow, session, index, short=True))
            name = item.values.get("name")
            # a named item's button says its name (「記事作成が済んだ」), kept within a button's length; the name
            # and the numbered label (「進行中2が済んだ」) are words of the button, typed or read in a sentence
            label = choice.label.replace("{item}", _clip(name, MAX_NAME)) if name else numbered
            # the client and the work said for it are its words too (「山田さんの案件、終わりました」)
            said = tuple(item.values[k] for k in ("who", "what") if item.values.get(k))
            aliases = (name, numbered, *said) if name else ()
            choice_id = f"{choice.id}{EACH}{index}"
            words = candidate(choice_id, label, aliases, None)
            found.append(replace(choice, id=choice_id, label=label, aliases=aliases, index=index, candidate=words))
    return found


def trigger_of(choice_id: str) -> str:
    """The machine's trigger for a choice id (an `each` button fires its choice's transition)."""
    return choice_id.partition(EACH)[0]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
