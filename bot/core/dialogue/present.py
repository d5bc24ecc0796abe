"""Showing where the user is: the state's text, its client message or checklist, and the question with
its buttons (plus 「署名を変える」 on a client message that uses the remembered name)."""

from __future__ import annotations

from bot.core.dialogue.checklist import build_checklist, open_flow_names
from bot.core.dialogue.fillins import RENAME, FillIns
from bot.core.dialogue.offers import offered
from bot.core.library.model import Library, State
from bot.core.library.templates import TemplateBook
from bot.core.messages import ChoiceInput, Option, Question, Text, TurnOutcome
from bot.core.session import Session
from bot.core.turn import Out

OPEN = "{open}"  # in a state's text: the services the user is leaving and has not finished


class Presenter:
    def __init__(self, library: Library, book: TemplateBook, fills: FillIns) -> None:
        self.library = library
        self.book = book
        self.fills = fills
        self._static: dict[str, tuple[Option, ...]] = {}

    def state(self, session: Session) -> State:
        state = self.library.state(f"{session.flow}:{session.state}")
        if state is None:
            raise LookupError(f"session is at an unknown state {session.flow}:{session.state}")
        return state

    def show(self, session: Session, out: Out, full: bool = False) -> Session:
        """Show the current question; with `full`, first the state's text and template."""
        state = self.state(session)
        if session.filling:
            out.replies.append(self.fills.question(session, state))
            return session
        spoke = self._text(session, state, out) if full else False
        text = state.ask or self.library.texts.next_prompt
        if state.ask is None:
            last = out.replies[-1] if out.replies else None
            if spoke and isinstance(last, Text):
                out.replies.pop()  # the last bubble becomes the question, so buttons sit under it
                text = last.text
        options = self._options(session, state)
        field = self.renamable(session, state)
        if field is not None:
            name = session.fields[field]
            shown = name if len(name) <= 8 else name[:7] + "…"
            options += (Option(self.library.texts.rename_label.format(value=shown), value(state, RENAME)),)
        out.replies.append(Question(text, options))
        return session

    def _options(self, session: Session, state: State) -> tuple[Option, ...]:
        """The buttons; those of a state whose choices never vary are built once per process."""
        static = state.key in self._static
        if static:
            return self._static[state.key]
        options = tuple(Option(c.label, value(state, c.id)) for c in offered(self.library, session, state))
        if not any(c.when or c.each for c in state.choices):
            self._static[state.key] = options
        return options

    def _text(self, session: Session, state: State, out: Out) -> bool:
        """The state's bubbles; True when the last one may become the question."""
        for text in state.says:
            out.say(self.fill_open(session, text))
        spoke = bool(state.says)
        flow = self.library.flows[state.flow]
        if flow.confirm and self.library.single_source(state):
            out.say(self.library.texts.confirm.format(where=flow.confirm))
        if state.template:
            complete = all(session.fields.get(f) for f in self.book.placeholders[state.template])
            out.say(self.library.texts.template_note if complete else self.library.texts.template_note_placeholder)
            out.replies.append(self.book.render(state.template, session.fields))
            out.templates.append(state.template)
            spoke = False
        if state.checklist:
            out.replies.append(build_checklist(self.library, session))
            spoke = False
        return spoke

    def renamable(self, session: Session, state: State) -> str | None:
        """The remembered field (the user's name) a client message uses, when it has a value."""
        if not state.template:
            return None
        remembered = [
            f for f in self.book.placeholders[state.template]
            if self.library.templates.fields[f].remember and session.fields.get(f)
        ]  # fmt: skip
        return remembered[0] if remembered else None

    def fill_open(self, session: Session, text: str) -> str:
        if OPEN not in text:
            return text
        titles = [self.library.flows[name].title for name in open_flow_names(self.library, session)]
        return text.replace(OPEN, "・".join(titles) or self.library.flows[session.flow].title)

    def asking(self, session: Session, field: str, out: Out) -> Session:
        """Ask one fill-in again (「署名を変える」)."""
        out.outcome = TurnOutcome.COMMAND
        return self.show(session.but(filling=field), out)


def value(state: State, choice: str) -> str:
    return ChoiceInput(state.flow, state.name, choice).encode()
