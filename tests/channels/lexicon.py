"""What the bot says, read from the real flows: channel tests compare against these, never a literal copy of
the bot's wording, so that rewording a line in flows/ breaks no channel test."""

from __future__ import annotations

from pathlib import Path

from bot.channels.line.render import LineWords
from bot.core.dialogue.checklist import build_checklist
from bot.core.library.load import load_library
from bot.core.library.model import Library, State
from bot.core.session import Session

LIBRARY = load_library(Path(__file__).resolve().parents[2] / "flows")
WORDS = LineWords.of(LIBRARY)  # LINE's navigation and 「その他」 buttons


def state(where: str, library: Library = LIBRARY) -> State:
    found = library.state(where)
    assert found is not None, where
    return found


def ask(where: str, library: Library = LIBRARY) -> str:
    """The question a state asks."""
    question = state(where, library).ask
    assert question, where
    return question


def said(where: str, index: int = 0, library: Library = LIBRARY) -> str:
    """The first line of a state's `index`-th `say` (a line is never split across messages)."""
    return state(where, library).says[index].splitlines()[0]


def label(where: str, choice: str, library: Library = LIBRARY) -> str:
    """The button label of a state's choice, by its id."""
    return next(c.label for c in state(where, library).choices if c.id == choice)


def text(key: str, **values: str) -> str:
    """A fixed line of the lexicon (`texts`), by name."""
    line: str = getattr(LIBRARY.texts, key)
    return line.format(**values) if values else line


def first_line(key: str) -> str:
    return text(key).splitlines()[0]


def checklist_lines(session: Session, library: Library = LIBRARY) -> list[str]:
    """The checklist the core derives from `session`, one `<mark> <word>：<label>` per item."""
    return [f"{item.mark} {item.word}：{item.label}" for item in build_checklist(library, session).items]
