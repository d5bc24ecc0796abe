"""What a typed reply means at a question, from its analysis: a choice, a question, "I don't know",
or "ask back" when the cues conflict. Pure: the analysis is made elsewhere (bot.language).

Order, from most to least certain (docs/flows.md, "How replies are understood"):
1. numbers with counters decide choices that state a range (`number:` in flows/);
2. lemmas: a choice whose label, alias or example is fully contained in the reply, whose yes/no
   agrees with the reply's main predicate;
3. the main predicate alone (yes/no, まだ = not yet) picks the one choice that `means` it — negating the
   no choice's own verb (「残しません」 at 「アカウントを残す」) is a yes; when the words say another choice
   than the yes/no (「まだ返事きてないです」), ask which;
4. the choice that shares the most words with the reply when no other shares as many (echoed, `weak`:
   a command said in words comes first);
5. a question to the bot is not an answer; 「わからない」 is not a no;
hedges (たぶん…と思う, 〜ような) and contradictions (はい、でもまだです) ask back with the likely choices; a
reply that says not yet, still or no never takes an item's 「済んだ」 button.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from bot.core.japanese.analysis import TextAnalysis
from bot.core.japanese.normalize import normalize
from bot.core.japanese.tokens import Token
from bot.core.library.model import Choice, NumberRange

Analyzer = Callable[[str], TextAnalysis]

# lemmas that carry no meaning of their own in a short reply (auxiliary verbs, yes/no words)
STOP = frozenset(
    {"する", "為る", "いる", "居る", "ある", "有る", "ない", "無い", "なる", "成る", "おく", "置く", "くる", "来る",
     "まだ", "未だ", "もう", "はい", "いいえ", "です", "ます", "あり", "有り", "なし", "無し", "こと", "もの", "の",
     "思う", "ちょっと", "今", "いま", "あ", "あっ", "えっと", "えーと", "うん", "ええ", "じゃ", "では", "で"}
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
    weak: bool = False  # only one word in common: a command said in words comes first


@dataclass(frozen=True, slots=True)
class Phrase:
    lemmas: frozenset[str]
    polarity: str | None
    unsure: bool = False  # 「覚えていない」: a choice that is itself "I don't know"
    past: bool = False  # 「保存した」: a plan (「これから申請します」) does not say it
    reading: str = ""  # in hiragana: 「ほぞんした」 typed in kana is 「保存した」


def reading_of(analysis: TextAnalysis) -> str:
    """The reply as it sounds, in hiragana (「出金」→「しゅっきん」), for replies typed in kana."""
    return normalize("".join(t.reading or t.surface for t in analysis.tokens))


def phrases_of(choice: Choice, analyze: Analyzer) -> tuple[Phrase, ...]:
    """The label, aliases and examples of a choice as lemma sets (computed once per choice)."""
    found = []
    for text in (choice.label, *choice.aliases, *choice.examples):
        analysis = analyze(text)
        lemmas = frozenset(analysis.lemmas - STOP)
        if lemmas:
            past = analysis.tense == "past"
            found.append(Phrase(lemmas, analysis.polarity, analysis.unsure, past, reading_of(analysis)))
    return tuple(found)


EXISTENTIAL = frozenset(
    {"ある", "有る", "いる", "居る", "ない", "無い", "できる", "出来る", "する", "為る", "お願いする", "頼む", "残る"}
    | {"おる", "おねがいする"}  # 「おりません」: いる said humbly; お願いする typed in kana
)
STILL = frozenset({"まだ", "未だ"})
MOVES = frozenset({"戻る", "もどる", "進む", "やり直す"})  # verbs of moving in the conversation
THERE_IS = frozenset({"ある", "有る", "いる", "居る"})
REQUESTS = frozenset({"お願いする", "おねがいする", "頼む"})
ALL_WORDS = frozenset({"全部", "全て", "すべて", "総て", "皆", "みんな"})  # 「全部終わってます」: none left
COUNTERS = frozenset({None, "件", "人", "つ", "個", "本", "社"})
PARTIAL = frozenset({"一部", "半分", "一部分", "途中まで", "半分だけ"})  # 「一部だけ保存しました」: ask
DOUBT = frozenset({"迷う", "悩む", "決める", "検討"})  # 「残すかどうか迷ってます」: not decided
# 「あとで」「今度」「週末に」 with a plan (not past, not negated): the choice that says "later", if one does
LATER = frozenset({"あと", "後", "今度", "週末", "後ほど", "後程", "そのうち", "これから", "此れから", "今から"})


# Long: the whole order of certainty in one place, so it reads as docs/understanding.md states it.


# Long on purpose: the reading order of the module docstring, one step after the other.
def read(
    analysis: TextAnalysis,
    offered: Sequence[Choice],
    phrases: Callable[[Choice], tuple[Phrase, ...]],
    asked: frozenset[str] = frozenset(),
    asked_past: bool = False,
) -> Reading:
    """The meaning of `analysis` at a question offering `offered`; `asked` are the question's lemmas
    (a bare yes/no answers it only when its predicate is the question's, or ある・いる・できる)."""
    if analysis.is_question and analysis.lemmas - STOP:  # 「？？？」 asks nothing
        return Reading(Meaning.QUESTION)
    offered = [c for c in offered if not c.exact]  # its label or alias matched before, or it is not meant
    if analysis.aspect == "not_yet" or analysis.lemmas & STILL or analysis.polarity == "no":
        # 「佐藤さんのはまだ返事待ちです」「山田さんのは終わってない」: never an item's 「済んだ」 button
        offered = [c for c in offered if c.index is None]
    if analysis.unsure:  # 「確定したかわからない」: not an answer, unless a choice is about not knowing
        knowing = [c.id for c in offered if any(p.unsure and p.lemmas <= analysis.lemmas for p in phrases(c))]
        return Reading(Meaning.CHOICE, knowing[0], certain=True) if len(knowing) == 1 else Reading(Meaning.UNSURE)
    sounded = reading_of(analysis)
    by_sound = [c.id for c in offered if any(p.reading == sounded for p in phrases(c) if p.reading)]
    if len(set(by_sound)) == 1:  # 「ほぞんした」「せんていちゅう」: a label typed in kana
        return Reading(Meaning.CHOICE, by_sound[0], certain=True)
    approx = any(q.approx for q in analysis.quantities)
    if approx or (not (analysis.hedge or analysis.contrast) and analysis.polarity != "no"):
        numbered = _by_number(analysis, offered)
        if numbered is not None:
            return numbered
    lone = len(offered) == 1 and offered[0].means == "yes"
    still = analysis.aspect == "not_yet" or bool(analysis.lemmas & STILL)  # 「まだ作業が残ってます」: not consent
    if lone:
        # 「送りました」「確認しました」 under a lone 次へ: consent; a longer reply (「宛名がおかしいです。木村様に
        # したい」) or one that says something is still to do says something else: never moves the flow on
        if analysis.polarity == "yes" and not analysis.hedge and not still and len(content_words(analysis)) <= 2:
            return Reading(Meaning.CHOICE, offered[0].id)
        # a reply that names the button itself (「もう一回メニュー見せて」 under 「メニューへ戻る」) asks for it
        asks_for = any(p.lemmas and p.lemmas <= analysis.lemmas for p in phrases(offered[0]))
        if asks_for and analysis.polarity != "no" and not analysis.hedge and not still:
            return Reading(Meaning.CHOICE, offered[0].id)
        return Reading(Meaning.NONE)
    scored = by_lemma(analysis, offered, phrases)
    # a negated word of a yes/no choice counts as the question's verb: 「消さないで」 at 「削除しますか？」
    # (はい、削除する: 消す) is a no to it (a positive one is read by `scored`, with its tense)
    if analysis.polarity == "no":
        said = frozenset().union(*(p.lemmas for c in offered if c.means for p in phrases(c)))
        asked = asked | said
    polarity = _polarity(analysis, asked, asked_past)
    if polarity == "no" and _negates(analysis, offered, phrases, "no"):
        polarity = "yes"  # 「残しません」 at 残す or 進める: not the no choice's own verb, so the other one
    if _later_words(analysis) and analysis.tense != "past" and analysis.main_lemma:  # 「あとで消します」: not yet
        yes = {c.id for c in offered if c.means == "yes"}
        scored = [(c, score) for c, score in scored if c not in yes]
        polarity = None if polarity == "yes" else polarity
    if polarity is not None and analysis.polarity is None:  # a count said it (「応募ゼロです」): no 「応募がある」
        meaning = {c.id: c.means for c in offered}
        scored = [(c, score) for c, score in scored if meaning.get(c) in (None, polarity)]
    by_polarity = [c.id for c in offered if polarity and c.means == polarity]
    later = _later(analysis, offered, phrases)
    if later is not None:
        return later
    planned = analysis.contrast and bool(analysis.lemmas & STILL) and bool(_later_words(analysis))
    no = [c.id for c in offered if c.means == "no"]
    if planned and not analysis.hedge and analysis.tense != "past" and len(no) == 1:
        return Reading(Meaning.CHOICE, no[0])  # 「まだです。これから申請します」: not yet, only planned
    whole = [c for c, score in scored if score >= 1.0]
    if analysis.contrast and analysis.opener_only and not analysis.hedge and len(whole) == 1:
        return Reading(Meaning.CHOICE, whole[0])  # 「いやもういいです退会します」: its words say which
    if analysis.hedge or analysis.contrast or analysis.lemmas & PARTIAL or analysis.main_lemma in DOUBT:
        likely = [c for c, _ in scored] + [c for c in by_polarity if c not in {s for s, _ in scored}]
        likely += [c.id for c in offered if c.means and c.id not in likely]
        return Reading(Meaning.ASK_BACK, others=tuple(likely[:2])) if len(likely) >= 2 else Reading(Meaning.NONE)
    certain = [(c, score) for c, score in scored if score >= 1.0]
    if certain:
        best, score = certain[0]
        if len(certain) > 1 and certain[1][1] == score:
            return Reading(Meaning.ASK_BACK, others=(best, certain[1][0]))
        return Reading(Meaning.CHOICE, best, certain=True)
    done_items = [c.id for c in offered if c.index is not None]  # one 「済んだ」 button per open item
    if done_items and analysis.aspect == "done" and polarity != "no":
        # 「完了しました」 names no item: the one that is open, or ask which (never the first by default)
        if len(done_items) == 1:
            return Reading(Meaning.CHOICE, done_items[0])
        return Reading(Meaning.ASK_BACK, others=tuple(done_items[:2]))
    half = [c for c, score in scored if score >= 0.5]
    named = {c.id for c in offered if not c.means}
    if len(by_polarity) == 1 and len(half) == 1 and half[0] != by_polarity[0] and half[0] in named:
        # 「まだ返事きてないです」: its yes/no says one choice (まだ), its words another (返事待ち): ask which
        return Reading(Meaning.ASK_BACK, others=(half[0], by_polarity[0]))
    if len(by_polarity) == 1:
        return Reading(Meaning.CHOICE, by_polarity[0])
    if len(scored) > 1:  # several half-matches: 「退会したいです」 at the menu
        return Reading(Meaning.ASK_BACK, others=(scored[0][0], scored[1][0]))
    sole = _sole_word(analysis, offered, phrases, asked)
    if sole is not None:
        return Reading(Meaning.CHOICE, sole, weak=True)
    return Reading(Meaning.NONE)


def _compatible(phrase: Phrase, analysis: TextAnalysis) -> bool:
    if phrase.past and analysis.tense != "past" and not analysis.aspect:
        return False
    return phrase.polarity is None or phrase.polarity == analysis.polarity


def _negates(
    analysis: TextAnalysis, offered: Sequence[Choice], phrases: Callable[[Choice], tuple[Phrase, ...]], means: str
) -> bool:
    """The reply negates the verb of the choice that `means` this (and not of the other): 「残しません」 to
    「アカウントを残す」 (means no) says the other choice."""
    verb = analysis.main_lemma
    if verb is None or analysis.aspect == "not_yet" or analysis.lemmas & STILL or analysis.contrast:
        return False  # 「まだやってない」 is not yet, whatever its verb
    if not any(t.kind == "動詞" and verb in (t.base, t.lemma, t.normalized) for t in analysis.tokens):
        return False  # the reply's verb, not a noun (「いいえ、個人事業主です」)
    own = {c.means for c in offered if c.means for p in phrases(c) if p.polarity != "no" and verb in p.lemmas}
    return own == {means}


def _sole_word(
    analysis: TextAnalysis,
    offered: Sequence[Choice],
    phrases: Callable[[Choice], tuple[Phrase, ...]],
    asked: frozenset[str],
) -> str | None:
    """The choice that shares the most words with the reply, when no other shares as many (「まだ募集してる」
    → 募集期間中): the words of the question itself and those every choice has say nothing. Echoed, so a
    misreading shows; a command said in words comes first (`weak`)."""
    if analysis.quantities or analysis.hedge or analysis.contrast:  # 「7日後に」: read against ranges;
        return None  # 「入れたような入れてないような」: undecided
    reply = frozenset(t.base for t in content_words(analysis)) | (analysis.lemmas - STOP)
    reply -= asked
    if not reply:
        return None
    every = {c.id: frozenset().union(*(p.lemmas for p in phrases(c))) for c in offered}
    common = frozenset.intersection(*every.values()) if every else frozenset()
    # only phrases the reply could be saying: 「キャンセルしたい」 is not 「キャンセルした」
    words = {c.id: frozenset().union(*(p.lemmas for p in phrases(c) if _compatible(p, analysis))) for c in offered}
    shared = {c.id: len((words[c.id] - common) & reply) for c in offered}
    most = max(shared.values(), default=0)
    sharing = [c for c in offered if most and shared[c.id] == most]
    if len(sharing) != 1 or sharing[0].action or sharing[0].reset:
        return None  # a tie, or erasing / starting over, which is never taken from a word or two
    choice = sharing[0]
    if choice.means and analysis.polarity and choice.means != analysis.polarity:
        return None
    if analysis.polarity == "no" and not choice.means and any(p.polarity != "no" for p in phrases(choice)):
        return None  # 「募集はしていない」 is not 募集期間中
    return choice.id


def content_words(analysis: TextAnalysis) -> list[Token]:
    """The reply's nouns, verbs and adjectives that carry meaning (not する, ある, まだ…)."""
    return [t for t in analysis.tokens if t.kind in ("名詞", "動詞", "形容詞") and t.base not in STOP]


def _later_words(analysis: TextAnalysis) -> frozenset[str]:
    """「あとで」「今度」…; not the あと of a count (「あと2つあります」: two more)."""
    words = analysis.lemmas & LATER
    if words and words <= {"あと", "後"} and any(q.unit in COUNTERS for q in analysis.quantities):
        return frozenset()
    return words


def _later(
    analysis: TextAnalysis, offered: Sequence[Choice], phrases: Callable[[Choice], tuple[Phrase, ...]]
) -> Reading | None:
    """「週末にやります」「まだです、あとでやります」: a plan for later picks the one choice about later."""
    if analysis.hedge or analysis.tense == "past" or not _later_words(analysis):
        return None
    if analysis.polarity == "no" and analysis.aspect != "not_yet":
        return None  # 「あとではやらない」
    found = [c.id for c in offered if c.means != "yes" and any(p.lemmas & LATER for p in phrases(c))]
    return Reading(Meaning.CHOICE, found[0]) if len(found) == 1 else None


def _polarity(analysis: TextAnalysis, asked: frozenset[str], asked_past: bool = False) -> str | None:
    """The yes/no the reply gives to this question, or None when its predicate answers something else."""
    if asked_past and analysis.main_lemma in REQUESTS and analysis.tense != "past":
        return None  # 「キャンセルをお願いしたい」 to 「片づきましたか？」 asks for something; it says nothing done
    if asked_past and analysis.lemmas & STILL and analysis.tense != "past" and analysis.main_lemma not in THERE_IS:
        return "no"  # 「いいえ、まだ残ってます」 to 「片づきましたか？」: not yet (「まだ他にもある」: others)
    if analysis.aspect == "not_yet":
        return "no"
    counts = [q for q in analysis.quantities if q.unit in COUNTERS and not q.ago]
    existential = bool(asked & {"ある", "有る", "いる", "居る"})
    moving = analysis.main_lemma in MOVES  # 「ひとつ戻って」 counts steps back, not things that exist
    if counts and existential and not moving:  # 「0件です」「３つ進行中」「支払い待ちのが２件」; 「ひとつもない」: none
        return "no" if counts[0].value == 0 or analysis.polarity == "no" else "yes"
    if existential and analysis.lemmas & ALL_WORDS and analysis.main_lemma not in EXISTENTIAL:
        return "no"  # 「全部終わってます」「それで全部です」 to 「…はありますか」
    relevant = analysis.main_lemma is None or analysis.main_lemma in EXISTENTIAL | asked
    if not relevant and existential and analysis.first_there and not analysis.contrast:
        return analysis.first_there  # 「あります。途中でやめたい」: the first clause answers, the rest goes on
    return analysis.polarity if relevant else None


DAYS = {"日": 1, "週": 7, "週間": 7}


def _by_delay(analysis: TextAnalysis, offered: Sequence[Choice]) -> Reading | None:
    """「7日後に知らせて」「2週間後」 at a reminder question: the choice whose reminder comes that many days later
    (its `remind: after: 7d` in flows/), whatever its label says (「1週間後」)."""
    timed = {c.remind[1]: c.id for c in offered if c.remind is not None}
    if not timed:
        return None
    days = {int(q.value * DAYS[q.unit]) for q in analysis.quantities if q.unit in DAYS and not q.ago and q.value > 0}
    if not days:
        return None
    found = {timed[f"{d}d"] for d in days if f"{d}d" in timed}
    if len(days) == 1 and len(found) == 1:
        return Reading(Meaning.CHOICE, found.pop(), certain=True)
    # a delay no button offers (「2週間後」 beside 明日・3日後・1週間後): never another one, ask which
    return Reading(Meaning.ASK_BACK, others=tuple(dict.fromkeys(timed.values()))[:3])


def _by_number(analysis: TextAnalysis, offered: Sequence[Choice]) -> Reading | None:
    delayed = _by_delay(analysis, offered)
    if delayed is not None:
        return delayed
    ranged = [c for c in offered if c.number is not None]
    if not ranged or not analysis.quantities:
        return None
    for quantity in analysis.quantities:
        edges = [c.id for c in ranged if c.number is not None and _on_edge(c.number, quantity.value, quantity.unit)]
        if quantity.approx and edges:  # 「ちょうど1時間くらい」「1000円あるかないか」: either side
            near = [c.id for c in ranged if c.id not in edges][:1]
            return Reading(Meaning.ASK_BACK, others=tuple(edges[:1] + near)) if near else None
        fitting = [c.id for c in ranged if c.number is not None and fits(c.number, quantity.value, quantity.unit)]
        if len(fitting) == 1:
            return Reading(Meaning.CHOICE, fitting[0], certain=True)
    return None


def _on_edge(spec: NumberRange, value: float, unit: str | None) -> bool:
    if spec.unit == "時間" and unit in HOURS:
        value = value * HOURS[unit]
    elif unit is not None and unit != spec.unit:
        return False
    return value in (spec.min, spec.below)


def fits(spec: NumberRange, value: float, unit: str | None) -> bool:
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


def by_lemma(
    analysis: TextAnalysis, offered: Sequence[Choice], phrases: Callable[[Choice], tuple[Phrase, ...]]
) -> list[tuple[str, float]]:
    """Choices whose phrases the reply contains (coverage ≥ ½), best first, one score per choice."""
    reply = analysis.lemmas - STOP
    if not reply:
        return []
    scores: dict[str, float] = {}
    for choice in offered:
        for phrase in phrases(choice):
            if phrase.polarity == "no" and analysis.polarity != "no":
                continue  # 「申請していない」 needs a negative reply
            if phrase.polarity and analysis.polarity and phrase.polarity != analysis.polarity:
                continue
            if phrase.past and analysis.tense != "past" and not analysis.aspect:
                continue  # 「これから申請します」 is not 「申請した」
            if analysis.polarity == "no" and choice.means == "yes" and not phrase.polarity:
                continue  # 「正社員ではないです」 is not the 正社員 choice
            if analysis.polarity == "no" and phrase.polarity != "no" and analysis.main_lemma in phrase.lemmas:
                continue  # 「残しません」 negates 「残す」: it is not that choice
            overlap = len(phrase.lemmas & reply)
            coverage = overlap / len(phrase.lemmas)
            if coverage < 0.5:
                continue
            bonus = 0.1 * overlap + (0.3 if analysis.main_lemma in phrase.lemmas else 0.0)
            scores[choice.id] = max(scores.get(choice.id, 0.0), coverage + bonus)
    return sorted(scores.items(), key=lambda item: -item[1])
