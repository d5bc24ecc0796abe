"""Template fill-ins: the client's name, the job title and the user's name, asked one by one.

Each is skippable (the template keeps 〇〇); a remembered field (the user's own name) is asked once per
session; a field asked before offers its previous value. What users type is cleaned of the honorific
and the ending the template adds itself (「田中さん」→「田中」, 「山本です」→「山本」).
"""

from __future__ import annotations

from enum import Enum

from bot.core.japanese.normalize import normalize
from bot.core.japanese.secrets import looks_personal
from bot.core.library.model import Library, State
from bot.core.library.templates import TemplateBook
from bot.core.messages import ChoiceInput, Option, Question
from bot.core.session import Session

SKIP, KEEP, RENAME = "_skip", "_keep", "_rename"  # fill-in buttons (flow choice ids never start with _)
MAX_VALUE = 40
MAX_NAME = 24  # a person's or company's name; longer text is a sentence, not a name
_SENTENCE_ENDINGS = ("ます", "ました", "ません", "ください", "でした", "ですか", "ましょう", "たい", "ない")
_SENTENCE_MARKS = set("。！？!?")


class FillStep(Enum):
    MORE = "more"  # another field to ask
    DONE = "done"  # every field answered: show the template
    REASK = "reask"  # nothing usable was typed
    TYPE_IT = "type_it"  # 「はい」 to 「お名前を送ってください」: ask for the name itself
    PERSONAL = "personal"  # an e-mail address, phone or card number: refused, not stored, not shown
    NOT_NAME = "not_name"  # a sentence or digits where a name or title belongs


class FillIns:
    def __init__(self, library: Library, book: TemplateBook) -> None:
        self.library = library
        self.book = book
        self.skip_words = frozenset(normalize(w) for w in library.lexicon.skip_words if w)
        self.keep_word = normalize(library.texts.keep_label.format(value="").split("（")[0])
        self.yes_no = library.vocabulary.yes | library.vocabulary.no
        # longest first, so 「と申します」 is taken whole before a shorter ending could cut into it
        self.suffixes = sorted(library.lexicon.fill_suffixes, key=len, reverse=True)

    def question(self, session: Session, state: State) -> Question:
        name = session.filling or ""
        spec = self.library.templates.fields[name]
        text = f"{spec.ask}\n{spec.hint}" if spec.hint else spec.ask
        options = []
        previous = session.fields.get(name)
        if previous:
            shown = previous if len(previous) <= 8 else previous[:7] + "…"
            options.append(Option(self.library.texts.keep_label.format(value=shown), _value(state, KEEP)))
        options.append(Option(self.library.texts.skip_label, _value(state, SKIP)))
        return Question(text, tuple(options))

    def answer(self, session: Session, state: State, tap: str | None, text: str, norm: str) -> tuple[Session, FillStep]:
        """Record the answer to `session.filling` and move to the next field (or to the template)."""
        name = session.filling or ""
        previous = session.fields.get(name, "")
        polarity = self.library.vocabulary.polarity(norm) if norm in self.yes_no else None
        if tap == SKIP or norm in self.skip_words or polarity == "no":
            value = ""
        elif polarity == "yes":
            return session, FillStep.TYPE_IT
        elif tap == KEEP or (previous and norm and (norm == normalize(previous) or norm.startswith(self.keep_word))):
            value = previous
        else:
            if looks_personal(text):
                return session, FillStep.PERSONAL
            value = self.clean(text)
            if not value or not norm:
                return session, FillStep.REASK
            if not self.plausible(name, value):
                return session, FillStep.NOT_NAME
        wanted = self.book.fields_to_ask(state.template or "", session.fields)
        filled = session.but(fields={**session.fields, name: value})
        later = wanted[wanted.index(name) + 1 :] if name in wanted else []
        if later:
            return filled.but(filling=later[0]), FillStep.MORE
        return filled.but(filling=None), FillStep.DONE

    def from_item(self, session: Session, state: State) -> Session:
        """The client and the work the user named for this item (「山田さんのLP記事」) become the fill-ins'
        values, so their questions offer them as one tap (「山田のまま」) instead of asking blind."""
        item = session.current_item()
        if item is None or item.flow != state.flow or not state.template:
            return session
        used = self.book.placeholders[state.template]
        fields = dict(session.fields)
        for name in used:
            spec = self.library.templates.fields[name]
            said = item.values.get("what" if spec.item else "who") if not spec.remember else None
            if said and (spec.item or spec.honorific):
                fields[name] = said
        return session.but(fields=fields) if fields != session.fields else session

    def plausible(self, field: str, value: str) -> bool:
        """A name or a title, not a sentence or a number: 「山田」「株式会社ABC」「LP制作」 pass;
        「名前は言いたくないです。」「12345」 do not."""
        kind = self.library.templates.fields[field].kind
        folded = normalize(value)
        if not folded or folded.isdigit() or any(ch in _SENTENCE_MARKS for ch in value):
            return False
        if folded.endswith(_SENTENCE_ENDINGS):
            return False
        return kind != "name" or len(value) <= MAX_NAME

    def clean(self, text: str) -> str:
        """One line, 40 characters at most, without the honorific or ending the template adds itself."""
        value = " ".join(text.split())
        trimmed = True
        while trimmed:
            trimmed = False
            for suffix in self.suffixes:
                if value.endswith(suffix) and len(value) > len(suffix):
                    value, trimmed = value[: -len(suffix)].rstrip(), True
                    break
        return value[:MAX_VALUE]


def _value(state: State, choice: str) -> str:
    return ChoiceInput(state.flow, state.name, choice).encode()
