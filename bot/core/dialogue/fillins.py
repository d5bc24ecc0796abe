"""Template fill-ins: the client's name, the job title and the user's name, asked one by one.

Each is skippable (the template keeps 〇〇); a remembered field (the user's own name) is asked once per
session; a field asked before offers its previous value (「前と同じ」, 「同じで」, or the button's number). What
users type is read for what it is (bot/core/japanese/addressee.py): the addressee as a person, a company, a
company and a person or several people (X-MSG-STRUCTURE); the user's own name without 「っす」「です」; a job
title without the brackets the template adds. When the reading changed what was typed, one line says what
will be written. A field that may be left out (the signature) goes, with its lines, on 「なし」.

The analyzer runs here only while a fill-in is being answered, on the one reply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bot.core.japanese.addressee import addressee_line, prepare, read_addressee, read_own_name, read_title, stored
from bot.core.japanese.analysis import TextAnalysis
from bot.core.japanese.normalize import normalize
from bot.core.japanese.secrets import looks_personal
from bot.core.library.model import Library, State
from bot.core.library.spec import FieldSpec
from bot.core.library.templates import LEFT_OUT, TemplateBook
from bot.core.messages import ChoiceInput, Option, Question
from bot.core.session import Session

SKIP, KEEP = "_skip", "_keep"  # fill-in buttons (flow choice ids never start with _)
RENAME, READDRESS = "_rename", "_readdress"  # under a template: ask the signature / the addressee again
CHANGING = "~"  # `Session.filling` of a field asked again from under its template: then the template again
MAX_VALUE = 40
MAX_NAME = 24  # a person's or company's name; longer text is a sentence, not a name
MAX_SHOWN = 12  # of a value on a button: 「宛名を変える（合同会社ネクスト 木村様）」 is LINE's 20 characters
_SENTENCE_ENDINGS = ("ます", "ました", "ません", "ください", "でした", "ですか", "ましょう", "たい", "ない")
_SENTENCE_MARKS = set("。！？!?")
_HONORIFICS = ("様", "さま", "さん", "殿", "くん", "ちゃん")


class FillStep(Enum):
    MORE = "more"  # another field to ask
    DONE = "done"  # every field answered: show the template
    REASK = "reask"  # nothing usable was typed
    TYPE_IT = "type_it"  # 「はい」 to 「お名前を送ってください」: ask for the name itself
    PERSONAL = "personal"  # an e-mail address, phone or card number: refused, not stored, not shown
    NOT_NAME = "not_name"  # a sentence or digits where a name or title belongs
    NO_PREVIOUS = "no_previous"  # 「同じで」 where nothing was given before


@dataclass(frozen=True, slots=True)
class Filled:
    session: Session
    step: FillStep
    note: str = ""  # what will be written, when the reading changed what was typed (「宛名は「…」にします。」)


def asked(filling: str | None) -> str:
    """The field a `Session.filling` asks (without the mark of a field asked again)."""
    return (filling or "").removeprefix(CHANGING)


class FillIns:
    def __init__(
        self, library: Library, book: TemplateBook, analyze: Callable[[str], TextAnalysis | None] | None = None
    ) -> None:
        self.library = library
        self.book = book
        self.analyze = analyze
        lexicon = library.lexicon
        self.omit_words = frozenset(normalize(w) for w in lexicon.omit_words if w)
        self.skip_words = frozenset(normalize(w) for w in lexicon.skip_words if w) | self.omit_words
        self.keep_word = normalize(library.texts.keep_label.format(value="").split("（")[0])
        self.same_words = frozenset(normalize(w) for w in lexicon.same_words if w) | {self.keep_word}
        self.yes_no = library.vocabulary.yes | library.vocabulary.no
        self.honorifics = tuple(lexicon.fill_suffixes)
        self.endings = tuple(lexicon.fill_endings)

    def question(self, session: Session, state: State) -> Question:
        name = asked(session.filling)
        spec = self.library.templates.fields[name]
        text = f"{spec.ask}\n{spec.hint}" if spec.hint else spec.ask
        options = []
        previous = session.fields.get(name)
        if previous and spec.honorific and self._someone_else(session, state):
            previous = None  # 「宛名を変える」 or 「別の方への文面も作る」 was just asked for: not 「前と同じ」
        if previous:
            keep = self.library.texts.keep_label.format(value=self.short(previous))
            options.append(Option(keep, _value(state, KEEP)))
        options.append(Option(self.library.texts.skip_label, _value(state, SKIP)))
        return Question(text, tuple(options))

    @staticmethod
    def _someone_else(session: Session, state: State) -> bool:
        """The addressee is being asked for another person: asked again from under its message, or the
        message's own state chosen again (another proposer)."""
        if (session.filling or "").startswith(CHANGING):
            return True
        last = session.history[-1] if session.history else None
        return last is not None and (last.flow, last.state) == (state.flow, state.name)

    def short(self, value: str) -> str:
        """A value as a button shows it: 12 characters at most (a label stays within LINE's 20); a left-out
        one as 「なし」."""
        if value == LEFT_OUT:
            return self.library.texts.left_out_value
        return value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"

    def answer(self, session: Session, state: State, tap: str | None, text: str, norm: str) -> Filled:
        """Record the answer to `session.filling` and move to the next field (or to the template)."""
        name = asked(session.filling)
        spec = self.library.templates.fields[name]
        previous = session.fields.get(name, "")
        if tap is None and previous and norm in ("1", "2"):  # the buttons' numbers: 1 前と同じ, 2 スキップ
            tap = KEEP if norm == "1" else SKIP
        polarity = self.library.vocabulary.polarity(norm) if norm in self.yes_no else None
        note = ""
        if tap is None and spec.omit and norm in self.omit_words:
            value, note = LEFT_OUT, self.library.texts.fill_left_out.format(label=spec.label)
        elif tap == SKIP or norm in self.skip_words or polarity == "no":
            value = ""
        elif polarity == "yes":
            return Filled(session, FillStep.TYPE_IT)
        elif tap == KEEP or (norm and (norm in self.same_words or norm.startswith(self.keep_word))):
            if not previous:
                return Filled(session, FillStep.NO_PREVIOUS)
            value = previous
            if tap is None and not norm.startswith(self.keep_word):  # 「同じで」: say which value that is
                note = self._used(spec, previous)
        elif previous and norm and norm == normalize(previous):
            value = previous
        else:
            if looks_personal(text):
                return Filled(session, FillStep.PERSONAL)
            if not norm:
                return Filled(session, FillStep.REASK)
            read = self.read(name, state, text)
            if read is None:
                return Filled(session, FillStep.NOT_NAME)
            value, note = read
        return self._next(session, state, name, value, note)

    def _next(self, session: Session, state: State, name: str, value: str, note: str) -> Filled:
        filled = session.but(fields={**session.fields, name: value})
        if (session.filling or "").startswith(CHANGING):  # asked again from the template: show it again
            return Filled(filled.but(filling=None), FillStep.DONE, note)
        wanted = self.book.fields_to_ask(state.template or "", session.fields)
        later = wanted[wanted.index(name) + 1 :] if name in wanted else []
        if later:
            return Filled(filled.but(filling=later[0]), FillStep.MORE, note)
        return Filled(filled.but(filling=None), FillStep.DONE, note)

    def read(self, name: str, state: State, text: str) -> tuple[str, str] | None:
        """What a typed fill-in gives the template, and the line saying so when the reading changed it
        (None: not a name or title)."""
        spec = self.library.templates.fields[name]
        typed = prepare(text)
        if spec.honorific:
            return self._addressee(spec, state, typed)
        if spec.kind == "title":
            value = read_title(typed, self.endings)
        else:
            value = read_own_name(typed, self.honorifics, self.endings)
        if not value or not self.plausible(name, value):
            return None
        value = value[:MAX_VALUE]
        return value, "" if value == typed else self._used(spec, value)

    def _addressee(self, spec: FieldSpec, state: State, typed: str) -> tuple[str, str] | None:
        analysis = self.analyze(typed) if self.analyze is not None else None
        tokens = analysis.tokens if analysis is not None and analysis.text == typed else None
        addressee = read_addressee(typed, tokens, self.honorifics, self.endings)
        value = stored(addressee) if addressee else ""
        if not value or len(value) > MAX_VALUE:
            return None
        template = self.library.templates.templates.get(state.template or "")
        if addressee.several and template is not None and template.each:
            return value, self.library.texts.fill_each.format(value="、".join(addressee.lines))
        literal = typed
        for honorific in _HONORIFICS:  # 「山田さん」 typed, 「山田様」 written: nothing to say
            literal = literal.removesuffix(honorific)
        same = addressee.line in (typed, f"{literal}様", addressee_line(literal))
        return value, "" if same else self._used(spec, addressee.line)

    def _used(self, spec: FieldSpec, value: str) -> str:
        if value == LEFT_OUT:
            return self.library.texts.fill_left_out.format(label=spec.label)
        shown = addressee_line(value) if spec.honorific else value
        return self.library.texts.fill_used.format(label=spec.label, value=shown) if spec.label else ""

    def from_item(self, session: Session, state: State) -> Session:
        """The client and the work the user named for this item (「山田さんのLP記事」) become the fill-ins'
        values, so their questions offer them as one tap (「前と同じ（山田）」) instead of asking blind."""
        item = session.current_item()
        if item is None or item.flow != state.flow or not state.template:
            return session
        used = self.book.placeholders[state.template]
        fields = dict(session.fields)
        for name in used:
            spec = self.library.templates.fields[name]
            said = item.values.get("what" if spec.item else "who") if not spec.remember else None
            if said and spec.honorific:  # 「株式会社ミライの佐々木さん」: the item's name keeps the company
                named = item.values.get("name", "").split("：")[0]
                said = named if named.endswith("様") and named.endswith(f" {said}様") else said
            if said and (spec.item or spec.honorific):
                fields[name] = said
        return session.but(fields=fields) if fields != session.fields else session

    def plausible(self, field: str, value: str) -> bool:
        """A name or a title, not a sentence or a number: 「山田」「株式会社ABC」「LP制作」 pass;
        「名前は言いたくないです。」「12345」 do not."""
        kind = self.library.templates.fields[field].kind
        folded = normalize(value)
        if not folded or folded.isdigit() or any(ch in _SENTENCE_MARKS for ch in value) or value == LEFT_OUT:
            return False
        if folded.endswith(_SENTENCE_ENDINGS):
            return False
        return kind != "name" or len(value) <= MAX_NAME


def _value(state: State, choice: str) -> str:
    return ChoiceInput(state.flow, state.name, choice).encode()
