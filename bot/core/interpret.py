"""What a typed reply means at a question, from its analysis: a choice, a question, "I don't know",
or "ask back" when the cues conflict. Pure: the analysis is made elsewhere (bot.language).

Order, from most to least certain (docs/flows.md, "How replies are understood"):
1. numbers with counters decide choices that state a range (`number:` in flows/);
2. lemmas: a choice whose label, alias or example is fully contained in the reply, whose yes/no
   agrees with the reply's main predicate;
3. the main predicate alone (yes/no, まだ = not yet) picks the one choice that `means` it;
4. a question to the bot is not an answer; 「わからない」 is not a no;
hedges (たぶん…と思う) and contradictions (はい、でもまだです) ask back with the likely choices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from bot.core.analysis import TextAnalysis
from bot.core.model import Choice, NumberRange

Analyzer = Callable[[str], TextAnalysis]

# lemmas that carry no meaning of their own in a short reply (auxiliary verbs, yes/no words)
STOP = frozenset(
    {"する", "為る", "いる", "居る", "ある", "有る", "ない", "無い", "なる", "成る", "おく", "置く", "くる", "来る",
     "まだ", "未だ", "もう", "はい", "いいえ", "です", "ます", "あり", "有り", "なし", "無し", "こと", "もの", "の",
     "思う", "ちょっと", "今", "いま", "あ", "あっ", "えっと", "えーと", "うん", "ええ", "じゃ", "では"}
)  # fmt: skip
HOURS = {"分": 1 / 60, "時間": 1.0, "日": 24.0, "週": 168.0, "か月": 720.0, "年": 8760.0}


class Meaning(Enum):
    CHOICE = "choice"
    ASK_BACK = "ask_back"  # two likely choices: ask which
    QUESTION = "question"  # the user asked something
    UNSURE = "unsure"  # 「わからない」
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Reading:
    meaning: Meaning
    choice: str | None = None
    others: tuple[str, ...] = field(default=())  # for ASK_BACK: the candidates, best first
    certain: bool = False  # a number in range, or a phrase of the choice wholly in the reply


@dataclass(frozen=True, slots=True)
class Phrase:
    lemmas: frozenset[str]
    polarity: str | None
    unsure: bool = False  # 「覚えていない」: a choice that is itself "I don't know"


def phrases_of(choice: Choice, analyze: Analyzer) -> tuple[Phrase, ...]:
    """The label, aliases and examples of a choice as lemma sets (computed once per choice)."""
    found = []
    for text in (choice.label, *choice.aliases, *choice.examples):
        analysis = analyze(text)
        lemmas = frozenset(analysis.lemmas - STOP)
        if lemmas:
            found.append(Phrase(lemmas, analysis.polarity, analysis.unsure))
    return tuple(found)


EXISTENTIAL = frozenset({"ある", "有る", "いる", "居る", "ない", "無い", "できる", "出来る", "する", "為る"})


def read(
    analysis: TextAnalysis,
    offered: Sequence[Choice],
    phrases: Callable[[Choice], tuple[Phrase, ...]],
    asked: frozenset[str] = frozenset(),
) -> Reading:
    """The meaning of `analysis` at a question offering `offered`; `asked` are the question's lemmas
    (a bare yes/no answers it only when its predicate is the question's, or ある・いる・できる)."""
    if analysis.is_question and analysis.lemmas - STOP:  # 「？？？」 asks nothing
        return Reading(Meaning.QUESTION)
    if analysis.unsure:  # 「確定したかわからない」: not an answer, unless a choice is about not knowing
        knowing = [c.id for c in offered if any(p.unsure and p.lemmas <= analysis.lemmas for p in phrases(c))]
        return Reading(Meaning.CHOICE, knowing[0], certain=True) if len(knowing) == 1 else Reading(Meaning.UNSURE)
    if not (analysis.hedge or analysis.contrast) and analysis.polarity != "no":
        numbered = _by_number(analysis, offered)
        if numbered is not None:
            return numbered
    scored = _by_lemma(analysis, offered, phrases)
    relevant = analysis.main_lemma is None or analysis.main_lemma in EXISTENTIAL | asked or analysis.aspect == "not_yet"
    by_polarity = _by_polarity(analysis, offered) if relevant else []
    if analysis.hedge or analysis.contrast:
        likely = [c for c, _ in scored] + [c for c in by_polarity if c not in {s for s, _ in scored}]
        likely += [c.id for c in offered if c.means and c.id not in likely]
        return Reading(Meaning.ASK_BACK, others=tuple(likely[:2])) if len(likely) >= 2 else Reading(Meaning.NONE)
    if scored:
        best, score = scored[0]
        if len(scored) > 1 and scored[1][1] == score:
            return Reading(Meaning.ASK_BACK, others=(best, scored[1][0]))
        if score >= 1.0 or not by_polarity:
            return Reading(Meaning.CHOICE, best, certain=score >= 1.0)
    if len(by_polarity) == 1:
        return Reading(Meaning.CHOICE, by_polarity[0])
    return Reading(Meaning.NONE)


def _by_number(analysis: TextAnalysis, offered: Sequence[Choice]) -> Reading | None:
    ranged = [c for c in offered if c.number is not None]
    if not ranged or not analysis.quantities:
        return None
    for quantity in analysis.quantities:
        fits = [c.id for c in ranged if c.number is not None and _fits(c.number, quantity.value, quantity.unit)]
        if len(fits) == 1:
            return Reading(Meaning.CHOICE, fits[0], certain=True)
    return None


def _fits(spec: NumberRange, value: float, unit: str | None) -> bool:
    if spec.unit == "時間":
        if unit not in HOURS:
            return False
        value = value * HOURS[unit]
    elif unit is not None and unit != spec.unit:
        return False
    if spec.min is not None and value < spec.min:
        return False
    if spec.max is not None and value > spec.max:
        return False
    return spec.below is None or value < spec.below


def _by_lemma(
    analysis: TextAnalysis, offered: Sequence[Choice], phrases: Callable[[Choice], tuple[Phrase, ...]]
) -> list[tuple[str, float]]:
    """Choices whose phrases the reply contains (coverage ≥ ½), best first, one score per choice."""
    reply = analysis.lemmas - STOP
    if not reply:
        return []
    scores: dict[str, float] = {}
    for choice in offered:
        for phrase in phrases(choice):
            if phrase.polarity and analysis.polarity and phrase.polarity != analysis.polarity:
                continue
            if analysis.polarity == "no" and choice.means == "yes" and not phrase.polarity:
                continue  # 「正社員ではないです」 is not the 正社員 choice
            overlap = len(phrase.lemmas & reply)
            coverage = overlap / len(phrase.lemmas)
            if coverage < 0.5:
                continue
            bonus = 0.1 * overlap + (0.3 if analysis.main_lemma in phrase.lemmas else 0.0)
            scores[choice.id] = max(scores.get(choice.id, 0.0), coverage + bonus)
    return sorted(scores.items(), key=lambda item: -item[1])


def _by_polarity(analysis: TextAnalysis, offered: Sequence[Choice]) -> list[str]:
    polarity = "no" if analysis.aspect == "not_yet" else "yes" if analysis.aspect == "done" else analysis.polarity
    if polarity is None:
        return []
    return [c.id for c in offered if c.means == polarity]
