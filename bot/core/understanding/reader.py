"""The engine's reading of typed text, with the analyses of the flows' own words cached once per process:
choice phrases, questions' lemmas, FAQ phrases and command words."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.core.japanese.analysis import TextAnalysis
from bot.core.japanese.normalize import normalize
from bot.core.japanese.tokens import kana
from bot.core.library.model import COMMON, Choice, Faq, Library, State
from bot.core.understanding.interpret import STOP, Analyzer, Phrase, Reading, content_words, phrases_of, read

EXPANDED_LIMIT = 4096
_PARTS = re.compile(r"[、。,.!?！？\s]+")


@dataclass(frozen=True, slots=True)
class CommandPhrase:
    """A command word of the lexicon as lemmas, for commands said in a sentence (「ひとつ前に戻りたい」)."""

    lemmas: frozenset[str]
    polarity: str | None
    single: bool  # one content word (「消して」): it also appears in reports (「写真だけ消した」)
    main_lemma: str | None
    name: str

    @property
    def words(self) -> int:
        """How many words the phrase has (ステータス and すてーたす are one)."""
        return len({kana(lemma) for lemma in self.lemmas})

    def fits(self, reply: TextAnalysis, asked: bool = False) -> bool:
        if not self.lemmas <= reply.lemmas:
            return False
        if asked:  # a question has no yes/no of its own
            return self.polarity != "no"
        if reply.polarity == "no":  # 「リセットしないで」「お知らせを止めないで」: only a negative command phrase
            if self.polarity != "no":
                return False
        elif self.polarity not in (None, reply.polarity):
            return False
        if self.single and reply.tense == "past":
            return False  # 「写真だけ消した」 reports, it does not ask
        # a negative one-word phrase (「お知らせはもういらない」) only with its own verb (not 「止めないで」)
        return not (self.single and self.polarity == "no" and self.main_lemma != reply.main_lemma)


class Reader:
    def __init__(self, library: Library, analyzer: Analyzer | None) -> None:
        self.library = library
        self.analyzer = analyzer  # None: labels, aliases and yes/no words only (no dictionary loaded)
        self._phrases: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[Phrase, ...]] = {}
        self._lemmas: dict[str, frozenset[str]] = {}
        self._commands: list[CommandPhrase] | None = None
        self._synonyms: dict[str, frozenset[str]] | None = None
        self._past: dict[str, bool] = {}
        self._common_words: frozenset[str] | None = None
        self._reading_words: dict[str, str] | None = None
        self._expanded: dict[str, TextAnalysis] = {}

    def analyze(self, text: str) -> TextAnalysis | None:
        return None if self.analyzer is None else self.analyzer(text)

    def read(self, analysis: TextAnalysis, offered: list[Choice], state: State | None = None) -> Reading:
        asked = self.lemmas(state.ask or "", keep_stop=True) if state is not None else frozenset()
        past = state is not None and self.asks_past(state.ask or "")
        return read(self.with_synonyms(analysis), offered, self.phrases, asked, past)

    def asks_past(self, question: str) -> bool:
        """「片づきましたか？」 asks whether something is done (a request in reply is not a yes)."""
        found = self._past.get(question)
        if found is None:
            found = self._past[question] = self.analyzer is not None and self.analyzer(question).tense == "past"
        return found

    def with_synonyms(self, analysis: TextAnalysis) -> TextAnalysis:
        """The analysis with the flows' word added for each synonym it contains (lexicon `synonyms`) and
        for each word typed in kana; kept per text (a turn asks several times, and analyses are pure)."""
        done = self._expanded.get(analysis.text)
        if done is not None and done.lemmas >= analysis.lemmas:
            return done
        expanded = self._expand(analysis)
        if len(self._expanded) >= EXPANDED_LIMIT:
            self._expanded.clear()  # a bounded cache: the analyses themselves are an LRU in bot.language
        self._expanded[analysis.text] = expanded
        return expanded

    def _expand(self, analysis: TextAnalysis) -> TextAnalysis:
        if self._synonyms is None:
            self._synonyms = {}
            if self.analyzer is not None:
                for word, others in self.library.lexicon.synonyms.items():
                    # 「落とした」 stands for 保存 and for 保存する (a phrase 「保存した」 has both lemmas)
                    canonical = frozenset((self.analyzer(word).lemmas | self.analyzer(f"{word}する").lemmas) - STOP)
                    for other in others:
                        for lemma in self.analyzer(other).lemmas - STOP:
                            self._synonyms[lemma] = self._synonyms.get(lemma, frozenset()) | canonical
        added = frozenset().union(*(self._synonyms.get(lemma, frozenset()) for lemma in analysis.lemmas))
        added |= self._typed_in_kana(analysis)
        return analysis if added <= analysis.lemmas else replace(analysis, lemmas=analysis.lemmas | added)

    def _typed_in_kana(self, analysis: TextAnalysis) -> frozenset[str]:
        """The flows' words a reply typed in hiragana (「ほぞんしました」「らんさーず」「すすめて」): the dictionary
        splits such text into other words, so a word is found by its reading — a verb as the reply's own
        kana lemma (すすめる = 進める), a noun of three kana or more inside the text, the longest only."""
        words = self._readings()
        found: set[str] = set()
        for lemma in analysis.lemmas & words.keys():  # 「すすめる」: the reply's own kana lemma
            found |= {lemma, words[lemma]}
        text = kana(analysis.normalized)
        inside = [key for key in words if len(key) >= 3 and key in text]
        for key in inside:  # 「らんさー」 inside 「らんさーず」 is not a word of the reply
            if words[key] not in analysis.lemmas and not any(key != other and key in other for other in inside):
                found |= {key, words[key]}
        return frozenset(found)

    def _readings(self) -> dict[str, str]:
        """Every content word of the flows' choices by its reading in hiragana (computed once)."""
        if self._reading_words is None:
            self._reading_words = {}
            if self.analyzer is not None:
                for flow in self.library.flows.values():
                    for state in flow.states.values():
                        for choice in state.choices:
                            for phrase in self.phrases(choice):
                                for lemma in phrase.lemmas:
                                    if all("\u3040" <= ch <= "\u309f" or ch == "ー" for ch in lemma):
                                        continue  # already kana: nothing to find by sound
                                    tokens = self.analyzer(lemma).tokens
                                    sound = kana("".join(t.reading or t.surface for t in tokens))
                                    if len(sound) >= 2:
                                        self._reading_words.setdefault(sound, lemma)
        return self._reading_words

    def phrases(self, choice: Choice) -> tuple[Phrase, ...]:
        key = (choice.label, choice.aliases, choice.examples)
        found = self._phrases.get(key)
        if found is None and self.analyzer is not None:
            found = self._phrases[key] = phrases_of(choice, self.analyzer)
        return found or ()

    def lemmas(self, text: str, keep_stop: bool = False) -> frozenset[str]:
        """A phrase of the flows as lemmas (ある and する kept when asked: is the question about existence?)."""
        key = f"{int(keep_stop)}{text}"
        found = self._lemmas.get(key)
        if found is None and self.analyzer is not None:
            lemmas = self.analyzer(text).lemmas
            found = self._lemmas[key] = lemmas if keep_stop else frozenset(lemmas - STOP)
        return found if found is not None else frozenset({text})

    def faq(self, state: State, lemmas: frozenset[str], shown: tuple[State, ...] = ()) -> Faq | None:
        """The state's or the flow's FAQ entry the question asks (an answer written for it), then what the
        text just shown says about it (`shown`: this state and the screen before it), then the common FAQ."""
        flow = self.library.flows[state.flow]
        for faq in (*state.faq, *flow.faq):
            if any(self.lemmas(phrase) <= lemmas for phrase in faq.asks):
                return faq
        said = self.from_text((state, *shown), lemmas)
        if said:
            return Faq((), self.library.texts.faq_from_text.format(text="\n".join(said)), state.facts)
        for faq in self.library.flows[COMMON].faq:
            if any(self.lemmas(phrase) <= lemmas for phrase in faq.asks):
                return faq
        return None

    def from_text(self, states: tuple[State, ...], lemmas: frozenset[str]) -> list[str]:
        """The lines of the bot's own text that share the most words with a question (「途中まで書いた分は
        お金もらえるの？」 after 「作業済みの部分の報酬をどうするか話し合い、合意します」), two at most."""
        asked = (lemmas - STOP) - self._generic()
        if not asked:
            return []
        scored: list[tuple[int, str]] = []
        for state in states:
            for block in (*state.says, state.help or ""):
                for line in (part.strip(" ・") for part in block.replace("。", "。\n").splitlines()):
                    if len(line) > 4:
                        score = len(self.lemmas(line) & asked)
                        if score:
                            scored.append((score, line))
        best = max((score for score, _ in scored), default=0)
        found = [line for score, line in scored if score == best]
        return list(dict.fromkeys(found))[:2] if best else []

    def _generic(self) -> frozenset[str]:
        """Words every screen says (the platforms, 退会, 手続き): a question sharing only these asks nothing."""
        if self._common_words is None:
            words = (
                "ランサーズ クラウドワークス 退会 手続き 仕事 画面 確認 必要 場合 方法 ヘルプ 何 いつ どう いくら"
                " もらう くれる いただく できる 分かる 知る 教える 良い"
            )
            self._common_words = frozenset().union(*(self.lemmas(w) for w in words.split()))
        return self._common_words

    def command_in(self, text: str) -> str | None:
        """A command word as the first or last part of a longer message: 「あ、間違えました。戻る」."""
        parts = [part for part in map(normalize, _PARTS.split(text)) if part]
        for part in (parts[-1:] + parts[:1]) if len(parts) > 1 else ():
            found = self.library.vocabulary.command(part)
            if found is not None:
                return found
        return None

    def command_by_lemma(self, analysis: TextAnalysis, asked: bool = False) -> str | None:
        """A command whose words (as lemmas) are all in the reply and whose yes/no the reply does not
        contradict (「お知らせはもういらない」 is not 「お知らせしてほしい」), when only one command fits."""
        if self.analyzer is None:
            return None
        if self._commands is None:
            self._commands = []
            for name, words in self.library.lexicon.commands.items():
                for word in words:
                    said = self.analyzer(word)
                    found = frozenset(said.lemmas - STOP)
                    if not word.isascii() and found:
                        single = len(content_words(said)) < 2
                        self._commands.append(CommandPhrase(found, said.polarity, single, said.main_lemma, str(name)))
        # asked as a question (「今どこまで進んだ？」): only a phrase of several words; 「ステータスって？」 asks
        # what the word means
        hits = {p.name for p in self._commands if (not asked or p.words > 1) and p.fits(analysis, asked)}
        return hits.pop() if len(hits) == 1 else None
