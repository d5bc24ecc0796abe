"""The order in which a typed reply to a question is read, most certain first, as one `Decision`.

0. a number right after an ask-back: the choice shown with that number (the ask-back's own order);
1. a label or alias typed as is: that choice, certain (nothing to echo);
2. at a question whose choices state ranges: a bare number is the button's number, asked back when it may
   also be an amount of another choice (「1」 at a count); a number with a counter is the amount (「1件」);
3. a choice number, a label, a yes/no word (`matching.match_choice`);
4. a first message that answers nothing: the greeting; a greeting mid-flow: the question again;
5. a command word as the first or last part of the reply (「あ、間違えました。戻る」);
6. the analyzer's reading (`interpret.read`): a choice (echoed, so a misreading shows), an ask-back, a
   question to the FAQ — or, when no FAQ answers it, the status command it names (「今どこまで進んだ？」)
   or the likely choices it wonders about (「片づいたかな？」) —, 「わからない」; a command said in words
   (「ひとつ前に戻りたい」); a topic word alone (「手数料」) that the FAQ answers;
7. an unsure word, the question's free-text fallback, or a re-ask.
The engine acts on the decision (`Engine._answer`); nothing here changes a session.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from bot.core.japanese.analysis import TextAnalysis
from bot.core.japanese.normalize import normalize
from bot.core.library.model import COMMON, Choice, Library, State
from bot.core.understanding.interpret import DOUBT, LATER, STOP, Meaning, Reading, by_lemma
from bot.core.understanding.matching import match_choice
from bot.core.understanding.reader import Reader

_NUMBER = re.compile(r"^\d{1,3}$")
# a question made of these alone wonders (「うーん、どうだろう」): it asks nothing a FAQ could answer
WONDERING = frozenset(
    {"何", "なに", "いつ", "どこ", "どう", "どれ", "かな", "だろう", "うーん", "ううん", "んー", "えー"}
)


class Act(Enum):
    CHOOSE = "choose"  # take `choice`, certain
    UNDERSTOOD = "understood"  # take `choice`, saying first what was understood
    ASK_BACK = "ask_back"  # offer `others`, most likely first
    QUESTION = "question"  # answer from the FAQ (`lemmas`), then the question again
    UNSURE = "unsure"  # say how to find out
    COMMAND = "command"  # run `command`
    GREET = "greet"  # a first message: the greeting and the menu
    SHOW = "show"  # a greeting mid-flow: where we are
    REASK = "reask"  # not understood


@dataclass(frozen=True, slots=True)
class Decision:
    act: Act
    choice: str | None = None
    others: tuple[str, ...] = ()
    command: str | None = None
    lemmas: frozenset[str] = frozenset()
    said: bool = False  # COMMAND guessed from the reply's words: a yes to its confirmation only when `sure`
    sure: bool = False  # said plainly, now: a yes, not hedged, contradicted or put off (「あとで消します」)


class Understanding:
    """Decides what a reply at a question means; built once per engine (the reader caches the flows' words)."""

    def __init__(self, library: Library, reader: Reader) -> None:
        self.vocabulary = library.vocabulary
        self.reader = reader
        self.greetings = frozenset(normalize(w) for w in library.lexicon.greetings)
        self.bare_units = frozenset(library.lexicon.bare_number_units)
        # the confirmation a command leads to: there, the command said in a sentence is the question's own
        # subject (「消していいのかな」 at 「削除しますか？」), read as an answer to it, never run again
        lexicon = library.lexicon
        self.asked_by = {library.resolve(COMMON, lexicon.erase_target): "erase"}
        if lexicon.restart_target:
            self.asked_by[library.resolve(COMMON, lexicon.restart_target)] = "restart"

    def decide(
        self, state: State, choices: Sequence[Choice], text: str, norm: str, fresh: bool, menu: Sequence[str] = ()
    ) -> Decision:
        """`menu`: the choice ids of an ask-back shown just before, in its order (a number answers that menu)."""
        if menu and _NUMBER.match(norm):
            index = int(norm) - 1
            offered = {c.id for c in choices}
            if 0 <= index < len(menu) and menu[index] in offered:
                return Decision(Act.CHOOSE, menu[index])
            return Decision(Act.REASK)
        numbered = [c for c in choices if c.number]
        if numbered and _NUMBER.match(norm) and 0 < int(norm) <= len(choices):
            return self._bare_number(choices, numbered, text, int(norm))
        labelled = [c for c in choices if norm in c.candidate.words]
        if len(labelled) == 1:
            return Decision(Act.CHOOSE, labelled[0].id)
        analysis = self.reader.analyze(text) if any(c.number for c in choices) else None
        if analysis is not None and analysis.quantities:  # a number was said: read it against the ranges
            counted = self.reader.read(analysis, [c for c in choices if c.number])
            if counted.meaning is Meaning.CHOICE and counted.certain:  # read by the number, not by yes/no
                return Decision(Act.UNDERSTOOD, counted.choice)
        exact_only = self.reader.analyzer is not None  # the analyzer reads anything else
        chosen = match_choice(norm, [c.candidate for c in choices], self.vocabulary, exact_only)
        if chosen is not None and not self.hesitant(choices, chosen, text):
            return Decision(Act.CHOOSE, chosen)
        if fresh:
            return Decision(Act.GREET)
        if norm in self.greetings:  # 「こんにちは」「ありがとう」: not a wrong answer
            return Decision(Act.SHOW)
        command = self.reader.command_in(text)
        if command is not None:
            return Decision(Act.COMMAND, command=command)
        analysis = analysis or self.reader.analyze(text)
        if analysis is not None:
            read = self._read(state, choices, analysis, norm)
            if read is not None:
                return read
            if _topic_only(analysis):  # 「手数料」「源泉徴収票」: a topic word alone asks about it
                lemmas = self.reader.with_synonyms(analysis).lemmas
                if self.reader.faq(state, lemmas) is not None:
                    return Decision(Act.QUESTION, lemmas=lemmas)
        if self.vocabulary.is_unsure(norm):  # 「わからない」: how to find out, not "not understood"
            return Decision(Act.UNSURE)
        fallback = next((c for c in choices if c.fallback), None)
        if fallback is not None and norm:
            return Decision(Act.CHOOSE, fallback.id)
        return Decision(Act.REASK)

    def asks_for_something(self, text: str) -> bool:
        """A request or a question (〜たい, 〜ください, 〜て, ？), not a statement of how things are."""
        analysis = self.reader.analyze(text)
        if analysis is None:
            return True
        last = [t for t in analysis.tokens if t.kind not in ("補助記号", "空白")][-1:]
        wishes = any(t.base in ("たい", "下さる", "くださる", "欲しい", "ほしい") for t in analysis.tokens)
        return analysis.is_question or wishes or (bool(last) and last[0].surface in ("て", "で"))

    def _unanswered(self, choices: Sequence[Choice], analysis: TextAnalysis) -> Decision | None:
        """A question no FAQ answers: 「今どこまで進んだ？」 is the status command; 「片づいたかな？」
        「どうしようかな」 wonder about the answer itself: the likely choices are offered."""
        command = self.reader.command_by_lemma(analysis, asked=True)
        if command in ("status", "help"):
            return Decision(Act.COMMAND, command=command, said=True)
        about = [c for c in choices if c.means] if len(choices) > 1 else []
        scored = [c for c, _ in by_lemma(analysis, list(choices), self.reader.phrases)]
        wondering = analysis.hedge or not (analysis.lemmas - STOP - WONDERING)
        if (wondering or (scored and not analysis.question_word)) and (scored or about):
            likely = list(dict.fromkeys([*scored, *(c.id for c in about)]))[:2]
            if len(likely) == 2:
                return Decision(Act.ASK_BACK, others=tuple(likely))
        return None

    def hesitant(self, choices: Sequence[Choice], chosen: str, text: str) -> bool:
        """A reply naming a choice that cannot be undone (削除, やり直す) but that hesitates (「消すかどうか迷って
        ます」「消していいのかな」) or asks: read as a whole below, which asks back, instead of erasing."""
        choice = next((c for c in choices if c.id == chosen), None)
        if choice is None or choice.action is None:
            return False
        analysis = self.reader.analyze(text)
        if analysis is None:
            return False
        return analysis.hedge or analysis.is_question or analysis.main_lemma in DOUBT

    def _bare_number(self, choices: Sequence[Choice], numbered: Sequence[Choice], text: str, number: int) -> Decision:
        """「1」 at a question whose choices state ranges: the button's number, unless it may also be an amount
        in the question's unit (`bare_number_units`) that falls in another choice: then ask which."""
        by_index = choices[number - 1].id
        if not any(c.number is not None and c.number.unit in self.bare_units for c in numbered):
            return Decision(Act.CHOOSE, by_index)
        analysis = self.reader.analyze(text)
        counted = self.reader.read(analysis, list(numbered)) if analysis is not None else None
        if counted is None or counted.meaning is not Meaning.CHOICE or counted.choice in (None, by_index):
            return Decision(Act.CHOOSE, by_index)
        return Decision(Act.ASK_BACK, others=(by_index, counted.choice))

    def _read(self, state: State, choices: Sequence[Choice], analysis: TextAnalysis, norm: str) -> Decision | None:
        reading: Reading = self.reader.read(analysis, list(choices), state)
        if self.vocabulary.is_unsure(norm) and not reading.certain:  # 「まだ確認してない」: not a no
            return Decision(Act.UNSURE)
        # under a lone button a short yes is consent, unless it asks to erase or start over (「データ削除して」
        # under 「メニューへ戻る」): those are never a yes to something else
        lone = len(choices) == 1 and reading.meaning is Meaning.CHOICE
        if (reading.meaning is not Meaning.CHOICE or reading.weak or lone) and not analysis.is_question:
            command = self.reader.command_by_lemma(analysis)
            if lone and not reading.weak and command not in ("erase", "restart"):
                command = None
            if command is not None and command == self.asked_by.get(state.key):
                command = None  # its own confirmation: the reading stands (a hedge is asked back)
            if command is not None:  # 「ひとつ前に戻りたいです」「状況教えて」
                sure = (
                    analysis.polarity == "yes"
                    and not (analysis.hedge or analysis.contrast)
                    and not analysis.lemmas & LATER
                )
                return Decision(Act.COMMAND, command=command, said=True, sure=sure)
        if reading.meaning is Meaning.CHOICE:
            return Decision(Act.UNDERSTOOD, reading.choice)
        if reading.meaning is Meaning.ASK_BACK:
            return Decision(Act.ASK_BACK, others=reading.others)
        if reading.meaning is Meaning.QUESTION:
            lemmas = self.reader.with_synonyms(analysis).lemmas
            if self.reader.faq(state, lemmas) is None:
                return self._unanswered(choices, analysis) or Decision(Act.QUESTION, lemmas=lemmas)
            return Decision(Act.QUESTION, lemmas=lemmas)
        if reading.meaning is Meaning.UNSURE and state.unsure is not None:
            return Decision(Act.UNSURE)
        return None


def _topic_only(analysis: TextAnalysis) -> bool:
    """A noun or two and nothing else: no predicate, no yes/no, not a number."""
    words = [t for t in analysis.tokens if t.kind not in ("補助記号", "空白", "助詞")]
    return (
        0 < len(words) <= 3
        and all(t.kind in ("名詞", "接尾辞", "接頭辞") for t in words)
        and analysis.polarity is None
        and not analysis.quantities
    )
