"""Showing where the user is: the state's text, its client message or checklist, and the question with
its buttons (plus 「宛名を変える」 and 「署名を変える」 under a client message)."""

from __future__ import annotations

from bot.core.dialogue.checklist import build_checklist, open_flow_names
from bot.core.dialogue.fillins import CHANGING, MAX_SHOWN, READDRESS, RENAME, FillIns
from bot.core.dialogue.offers import offered
from bot.core.japanese.normalize import normalize
from bot.core.library.model import Library, State
from bot.core.library.templates import TemplateBook, addressee
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
        texts = library.texts
        # typed 「宛名を変える」「署名を変える」 (the buttons' words without their value)
        self.change_words = {
            normalize(texts.readdress_label.format(value="").split("（")[0]): READDRESS,
            normalize(texts.rename_label.format(value="").split("（")[0]): RENAME,
        }

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
        options = self._options(session, state) + self._change_options(session, state)
        out.replies.append(Question(text, options))
        return session

    def _change_options(self, session: Session, state: State) -> tuple[Option, ...]:
        """「宛名を変える（山田様）」 under every client message; 「署名を変える（佐藤）」 once a signature is known."""
        options = []
        texts = self.library.texts
        for choice in (READDRESS, RENAME):
            field = self.changeable(session, state, choice)
            if field is None:
                continue
            current = session.fields.get(field, "")
            if choice == READDRESS:  # 「山田様」; 「株式会社ABC」 when 「… ご担当者様」 is too long for the button
                line = addressee(current) if current else self.library.templates.placeholder
                shown = self.fills.short(line if len(line) <= MAX_SHOWN else current)
                options.append(Option(texts.readdress_label.format(value=shown), value(state, READDRESS)))
            else:
                options.append(Option(texts.rename_label.format(value=self.fills.short(current)), value(state, RENAME)))
        return tuple(options)

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
        """The state's bubbles; True when the last one may become the question. A state its own answer
        led back to (「済んだ」 at the list of what is left) says only its question: the user just read the rest
        (a client message is shown whole each time: its fill-ins are answered at its own state)."""
        last = session.history[-1] if session.history else None
        again = last is not None and (last.flow, last.state) == (state.flow, state.name) and not state.template
        says = () if again else state.says
        for text in says:
            out.say(self.fill_open(session, text))
        spoke = bool(says)
        flow = self.library.flows[state.flow]
        where = self.library.confirm_at(state, flow.confirm)
        note = self.library.texts.confirm.format(where=where) if where else None
        if note and not again and not any(isinstance(r, Text) and r.text == note for r in out.replies):  # once a turn
            out.say(note)
        if state.template:
            complete = all(session.fields.get(f) for f in self.book.placeholders[state.template])
            out.say(self.library.texts.template_note if complete else self.library.texts.template_note_placeholder)
            out.replies.extend(self.book.render_all(state.template, session.fields, self.library.texts.template_to))
            out.templates.append(state.template)
            spoke = False
        if state.checklist:
            out.replies.append(build_checklist(self.library, session))
            spoke = False
        return spoke

    def changeable(self, session: Session, state: State, choice: str) -> str | None:
        """The field a button under a client message asks again: READDRESS the addressee (always), RENAME the
        remembered field (the user's name) once it has a value."""
        if not state.template or session.filling:
            return None
        fields = self.library.templates.fields
        for name in self.book.placeholders[state.template]:
            if choice == READDRESS and fields[name].honorific:
                return name
            if choice == RENAME and fields[name].remember and session.fields.get(name):
                return name
        return None

    def change_typed(self, session: Session, state: State, norm: str) -> str | None:
        """「宛名を変える」「署名を変える」 typed (or a button's whole label, or its number): the button's choice,
        if it is shown."""
        if not state.template or session.filling or not norm:
            return None
        if norm.isdigit():  # the number of a button after the question's own choices
            shown = [c for c in (READDRESS, RENAME) if self.changeable(session, state, c)]
            index = int(norm) - len(self._options(session, state)) - 1
            return shown[index] if 0 <= index < len(shown) else None
        choice = next((c for word, c in self.change_words.items() if norm.startswith(word)), None)
        return choice if choice is not None and self.changeable(session, state, choice) else None

    def fill_open(self, session: Session, text: str) -> str:
        if OPEN not in text:
            return text
        titles = [self.library.flows[name].title for name in open_flow_names(self.library, session)]
        return text.replace(OPEN, "・".join(titles) or self.library.flows[session.flow].title)

    def asking(self, session: Session, field: str, out: Out) -> Session:
        """Ask one fill-in again (「宛名を変える」「署名を変える」); once answered, the template is shown again."""
        out.outcome = TurnOutcome.COMMAND
        return self.show(session.but(filling=CHANGING + field), out)


def value(state: State, choice: str) -> str:
    return ChoiceInput(state.flow, state.name, choice).encode()
