"""Several things of a kind in one session: adding an item, setting its values, undoing, starting over."""

from __future__ import annotations

from bot.core.dialogue.slots import HEARD
from bot.core.dialogue.slots import restore as restore_heard
from bot.core.japanese.mentions import Mention
from bot.core.library.model import Choice, Library, State
from bot.core.library.templates import TemplateBook
from bot.core.messages import TurnOutcome
from bot.core.session import ADDED, CURRENT, ITEM_PREFIX, Session, Step
from bot.core.turn import Out

Mark = tuple[str, str | None]  # one undo entry: (key, previous value)
Undo = tuple[Mark, ...]
KEEP_ON_RESET = ("decision", "reason", "withdrawn")


def moved(library: Library, session: Session, state: State, choice: Choice, out: Out) -> tuple[Session | None, Undo]:
    """Apply a choice's `add` / `each` / `item`; returns the session and how to undo it (None: no room)."""
    undo: list[tuple[str, str | None]] = []
    result = session
    if choice.index is not None or choice.add is not None:
        undo.append((CURRENT, None if session.current is None else str(session.current)))
    if choice.index is not None:
        result = result.but(current=choice.index)
    if choice.add is not None:
        kind = library.flows[state.flow].items[choice.add]
        if len(session.items_of(state.flow, choice.add)) >= kind.max:
            out.outcome = TurnOutcome.REASK
            out.say(library.texts.items_full.format(label=kind.label, max=str(kind.max)))
            return None, ()
        result = result.add_item(state.flow, choice.add)
        undo.append((ADDED, None))
    if choice.item:
        item = result.current_item()
        undo.extend((ITEM_PREFIX + k, None if item is None else item.values.get(k)) for k, _ in choice.item)
        result = result.with_item_values(dict(choice.item))
    return result, tuple(undo)


def undo(session: Session, step: Step) -> Session:
    """Undo a step: answers and the current item's values first, then the item it added, then which item
    was current (the order they were applied in, reversed)."""
    plain = {k: v for k, v in step.undo if not k.startswith("#")}
    restored = session.with_answers(step.flow, plain) if plain else session
    marks = dict(step.undo)
    if HEARD in marks:
        restored = restore_heard(restored, marks[HEARD])
    if ADDED in marks and restored.items:
        restored = restored.but(items=restored.items[:-1])
    if CURRENT in marks:
        previous = marks[CURRENT]
        restored = restored.but(current=None if previous is None else int(previous))
    return restored


def reset(session: Session, flow: str) -> Session:
    """Forget one flow's checks (answers but the decision, and its items) to walk them again."""
    answers = dict(session.answers)
    kept = {k: v for k, v in answers.get(flow, {}).items() if k in KEEP_ON_RESET}
    if kept:
        answers[flow] = kept
    else:
        answers.pop(flow, None)
    items = tuple(item for item in session.items if item.flow != flow)
    # item indexes in older steps no longer hold: 戻る starts again from here
    return session.but(answers=answers, items=items, current=None, history=())


def name_item(library: Library, book: TemplateBook, session: Session, state: State) -> Session:
    """The current item takes the name typed for its template (its job title) for 「状況」."""
    item = session.current_item()
    if item is None or item.flow != state.flow or not state.template:
        return session
    for name in book.placeholders[state.template]:
        title = session.fields.get(name)
        if library.templates.fields[name].item and title:
            if title == item.values.get("what"):  # the work as the user named it: 「山田様：LP記事」 stays
                return session
            who = item.values.get("who", "")  # the client said for it stays in its name: 「山田様：LP制作」
            return session.with_item_values({"name": Mention(who=who, what=title).name if who else title})
    return session
