"""Slot filling: what a reply says beyond the question it answers, kept until the flow asks for it.

People answer several questions at once (「2時間前くらいに1件提案しました」「コンペとプロジェクトとタスクが
1件ずつ」「山田さんのLP記事がまだ途中です」). As Rasa forms and Dialogflow CX parameters do, a typed reply
that answers the current question is also read for the questions the flow declares under `hears:`, for
how many items it speaks of and for what it names them; what was heard waits in `Session.heard` and, when
the flow reaches that question, is confirmed in one line (「戻る」 undoes it) instead of being asked again.

Only certain readings are kept: a number with its unit in a choice's range (「2時間前」→ 1時間以上), or a
choice's own words wholly in the reply for a choice that names something (no yes/no choice: a "yes" to
the current question is never also a yes to a later one). How `Session.heard` is written: heard.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.core.dialogue import heard as said
from bot.core.dialogue.offers import offered
from bot.core.japanese.analysis import TextAnalysis
from bot.core.japanese.mentions import mentions
from bot.core.japanese.secrets import looks_personal
from bot.core.japanese.tokens import kana
from bot.core.library.model import COMMON, Choice, Library, Slot, State
from bot.core.session import Session
from bot.core.understanding.interpret import Phrase, fits
from bot.core.understanding.reader import Reader

HEARD = "#heard"  # undo key of a step: `Session.heard` before the reply that step answered
COUNTERS = frozenset({"件", "つ", "個"})  # 「記事3本」 counts articles, not jobs


@dataclass(frozen=True, slots=True)
class Known:
    """A question whose answer was heard before: take `choice`, saying `line` instead of asking."""

    choice: Choice
    line: str
    session: Session  # with the heard answer used up


class Slots:
    def __init__(self, library: Library, reader: Reader) -> None:
        self.library = library
        self.reader = reader
        self._slot_words: dict[str, frozenset[str]] = {}

    # --- hearing ---------------------------------------------------------------------------------

    def hear(self, session: Session, state: State, choice: Choice, text: str) -> Session:
        """`session` with what the reply `text` (which answered `state` with `choice`) also said."""
        analysis = self.reader.analyze(text)
        if analysis is None or analysis.is_question or analysis.hedge or analysis.unsure:
            return session
        analysis = self.reader.with_synonyms(analysis)
        heard = dict(session.heard)
        per_item: dict[str, int] = {}  # item kind -> how many answers were heard for its items
        for flow in self._listening(state, choice):
            for slot in self.library.flows[flow].hears:
                asked = self.library.state(slot.ask)
                if asked is None or asked.key == state.key:
                    continue
                if not analysis.quantities and self._words_of(slot, asked).isdisjoint(analysis.lemmas):
                    continue  # none of its words said (the common case): nothing to read
                choices = _worded(offered(self.library, session, asked), slot.words)
                found = self._ordered(analysis, choices) if slot.per else self._single(analysis, choices)
                if found:
                    heard[asked.key] = ",".join(found)
                    if slot.per:
                        per_item[f"{flow}:{slot.per}"] = len(found)
        if choice.add is not None:
            self._count(heard, state.flow, choice.add, analysis, per_item.get(f"{state.flow}:{choice.add}", 0))
        return session.but(heard=heard) if heard != session.heard else session

    def _words_of(self, slot: Slot, asked: State) -> frozenset[str]:
        """Every word a reply must contain one of to say this slot's answer (computed once per slot)."""
        found = self._slot_words.get(slot.ask)
        if found is None:
            choices = self._naming(_worded(list(asked.choices), slot.words))
            found = frozenset().union(*(p.lemmas for c in choices for p in self.reader.phrases(c)))
            self._slot_words[slot.ask] = found
        return found

    def _listening(self, state: State, choice: Choice) -> list[str]:
        """The flow of the question, and the platforms the answer leads to (from the menu: 「ランサーズで…」)."""
        flows = [state.flow]
        for name in (*(choice.queue or ()), (choice.target or "").partition(":")[0]):
            if name and name != COMMON and name in self.library.flows and name not in flows:
                flows.append(name)
        return flows

    def _single(self, analysis: TextAnalysis, choices: Sequence[Choice]) -> list[str]:
        by_number = self._by_number(analysis, choices)
        if by_number is not None:
            return [by_number]
        # a whole phrase of one choice; two answers said (「受注者です。クライアントから…」) hear neither
        said = [c.id for c in self._naming(choices) if any(self._says(analysis, p) for p in self.reader.phrases(c))]
        return said if len(said) == 1 else []

    def _ordered(self, analysis: TextAnalysis, choices: Sequence[Choice]) -> list[str]:
        """Every naming choice the reply says, in the order it says them (「コンペとプロジェクトと…」)."""
        at: dict[str, int] = {}
        for choice in self._naming(choices):
            for phrase in self.reader.phrases(choice):
                if phrase.polarity is None and self._says(analysis, phrase):
                    at[choice.id] = min(at.get(choice.id, 1 << 30), _position(analysis, phrase.lemmas))
        return sorted(at, key=at.__getitem__)

    @staticmethod
    def _says(analysis: TextAnalysis, phrase: Phrase) -> bool:
        """Every word of the phrase is in the reply (a compound 「受注者」 also when read 受注+者), with the
        phrase's yes/no, and a past phrase (「保存した」) only in the past."""
        if not phrase.lemmas or phrase.polarity not in (None, analysis.polarity):
            return False
        if phrase.past and analysis.tense != "past":
            return False
        if phrase.lemmas <= analysis.lemmas:
            return True
        if phrase.lemmas.isdisjoint(analysis.lemmas):  # not one of its words: the common case, decided fast
            return False
        text = analysis.normalized
        return all(
            lemma in analysis.lemmas or lemma in text or (lemma.endswith("する") and lemma[:-2] in analysis.lemmas)
            for lemma in phrase.lemmas
        )

    @staticmethod
    def _naming(choices: Sequence[Choice]) -> list[Choice]:
        return [c for c in choices if c.means is None and not c.action and not c.fallback and c.index is None]

    @staticmethod
    def _by_number(analysis: TextAnalysis, choices: Sequence[Choice]) -> str | None:
        """A number said with its unit, in one choice's range (a bare number is no one's answer here)."""
        for quantity in analysis.quantities:
            if quantity.unit is None or quantity.approx:
                continue
            found = [c.id for c in choices if c.number is not None and fits(c.number, quantity.value, quantity.unit)]
            if len(found) == 1:
                return found[0]
        return None

    def _count(self, heard: dict[str, str], flow: str, kind: str, analysis: TextAnalysis, answers: int) -> None:
        """「2件」「3つとも」 where an item is added: that many, the first made now; names for each."""
        counts = {int(q.value) for q in analysis.quantities if q.unit in COUNTERS and not q.ago and q.value >= 1}
        named = [m for m in mentions(analysis.tokens) if not looks_personal(m.name)]  # never a mail or phone
        count = counts.pop() if len(counts) == 1 else 0
        if count and answers > 1 and any(t.surface == "ずつ" for t in analysis.tokens):
            count *= answers  # 「コンペとタスクが1件ずつ」
        count = max(count, answers, len(named) if count or len(named) > 1 else 0)
        limit = self.library.flows[flow].items[kind].max
        if count:
            heard[said.more_key(flow, kind)] = str(min(count, limit) - 1)
        if named:
            said.with_names(heard, flow, kind, [said.Named(m.name, m.who, m.what) for m in named[:limit]])

    # --- using what was heard --------------------------------------------------------------------

    def known(self, session: Session, state: State) -> Known | None:
        """The answer to `state` said before it was asked, if any, and the line that says so."""
        if not session.heard or state.ask is None:
            return None
        choices = offered(self.library, session, state)
        more = self._more(session, state, choices)
        if more is not None:
            return more
        said = session.heard.get(state.key)
        if not said:
            return None
        first, _, rest = said.partition(",")
        choice = next((c for c in choices if c.id == first), None)
        heard = {k: v for k, v in session.heard.items() if k != state.key} | ({state.key: rest} if rest else {})
        if choice is None:  # not offered in this situation: ask as usual
            return None
        line = self.library.texts.heard.format(label=choice.label)
        return Known(choice, line, session.but(heard=heard))

    def _more(self, session: Session, state: State, choices: Sequence[Choice]) -> Known | None:
        """「ほかにもありますか？」 after 「2件」 was said: the next one, or none once all are through."""
        flow = self.library.flows[state.flow]
        kind = next((k for k, spec in flow.items.items() if spec.more == state.name), None)
        left = None if kind is None else said.left(session.heard, state.flow, kind)
        if kind is None or left is None:
            return None
        key = said.more_key(state.flow, kind)
        add = next((c for c in choices if c.add == kind), None)
        no = next((c for c in choices if c.means == "no"), None)
        label = flow.items[kind].label
        heard = dict(session.heard)
        if left > 0 and add is not None:
            heard[key] = str(left - 1)
            number = len(session.items_of(state.flow, kind)) + 1
            coming = said.names(session.heard, state.flow, kind)
            name = coming[0].name if coming else ""
            line = self.library.texts.heard_next.format(
                number=str(number), label=label, name=f"「{name}」" if name else ""
            )
            return Known(add, line, session.but(heard=heard))
        if no is None:
            return None
        heard.pop(key)
        said.with_names(heard, state.flow, kind, [])
        count = str(len(session.items_of(state.flow, kind)))
        return Known(no, self.library.texts.heard_all.format(label=label, count=count), session.but(heard=heard))

    def name_added(self, session: Session, flow: str, kind: str) -> Session:
        """The item just added takes the next name said for its kind (「山田様：LP記事」)."""
        coming = said.names(session.heard, flow, kind)
        if not coming:
            return session
        first = coming[0]
        heard = dict(session.heard)
        said.with_names(heard, flow, kind, coming[1:])
        values = (
            {"name": first.name}
            | ({"who": first.who} if first.who else {})
            | ({"what": first.what} if first.what else {})
        )
        return session.with_item_values(values).but(heard=heard)

    def first_of_several(self, session: Session, flow: str, kind: str) -> str:
        """「まず、1件目の進行中の仕事「山田様：LP記事」から確認します。」 when more were said to follow."""
        items = session.items_of(flow, kind)
        if len(items) != 1 or (said.left(session.heard, flow, kind) or 0) < 1:
            return ""
        name = items[0][1].values.get("name")
        label = self.library.flows[flow].items[kind].label
        return self.library.texts.heard_first.format(label=label, name=f"「{name}」" if name else "")

    @staticmethod
    def forget(session: Session, flow: str) -> Session:
        """A flow's checks start again (再確認): what was heard for it goes too."""
        keep = {k: v for k, v in session.heard.items() if not said.of_flow(k, flow)}
        return session.but(heard=keep) if len(keep) != len(session.heard) else session


def undo_mark(before: Mapping[str, str]) -> tuple[str, str | None]:
    """The undo entry restoring `Session.heard` as it was before a reply."""
    return HEARD, json.dumps(dict(before), ensure_ascii=False) if before else None


def restore(session: Session, value: str | None) -> Session:
    try:
        heard = json.loads(value) if value else {}
    except ValueError:
        heard = {}
    return session.but(heard={str(k): str(v) for k, v in heard.items()} if isinstance(heard, dict) else {})


def _worded(choices: list[Choice], words: Mapping[str, tuple[str, ...]]) -> list[Choice]:
    """A slot heard only by its own phrases (`words:`): 「クライアント」 names the worker's client too."""
    if not words:
        return choices
    return [replace(c, label=words[c.id][0], aliases=words[c.id][1:], examples=()) for c in choices if words.get(c.id)]


def _position(analysis: TextAnalysis, lemmas: frozenset[str]) -> int:
    for index, token in enumerate(analysis.tokens):
        if {token.base, token.lemma, token.surface, kana(token.surface)} & lemmas:
            return index
    return len(analysis.tokens)
