"""`analyze(text, tokenizer) -> TextAnalysis`: everything the engine needs to know about a typed reply.

Pure and deterministic: the tokenizer is passed in (bot.language provides the real one), so the core
never loads a dictionary. The analysis keeps meaning apart from wording: the yes/no of the main
predicate (not of the first yes-like word), its tense and まだ／もう aspect, numbers with counters,
whether the reply is a question, hedged or unsure, and the lemmas to compare with a choice's label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.core.japanese.normalize import normalize
from bot.core.japanese.predicate import Aspect, Polarity, Predicate, read_predicate, split_clauses
from bot.core.japanese.quantities import Quantity, parse_quantities
from bot.core.japanese.tokens import Token, Tokenizer, kana

__all__ = ["Quantity", "TextAnalysis", "Token", "Tokenizer", "analyze", "clean"]

_CONTENT = frozenset({"名詞", "動詞", "形容詞", "形状詞", "副詞", "感動詞", "代名詞", "接尾辞"})
_QUESTION_WORDS = {
    "何": "何",
    "なに": "何",
    "なん": "何",
    "いつ": "いつ",
    "幾ら": "いくら",
    "いくら": "いくら",
    "どこ": "どこ",
    "何処": "どこ",
    "どう": "どう",
    "如何": "どう",
    "なんで": "なんで",
    "何で": "なんで",
    "なぜ": "なぜ",
    "何故": "なぜ",
    "どうして": "なぜ",
    "どれ": "どれ",
    "どれくらい": "どれくらい",
    "どちら": "どれ",
    "どっち": "どれ",
    "誰": "誰",
    "だれ": "誰",
}
_INDEFINITE_AFTER = frozenset({"も", "でも", "か", "かしら"})
_HEDGE_WORDS = frozenset(
    {"多分", "たぶん", "恐らく", "おそらく", "筈", "はず", "確か", "たしか", "らしい", "みたい"}
    | {"つもり", "積もり", "積り", "心算"}  # 「申請したつもり」: believed done, not known
)
_UNSURE_TEXTS = frozenset({"さあ", "さぁ", "不明", "わからん", "知らん", "しらん", "?", "わかりかねます"})
_THERE = frozenset({"ある", "有る", "いる", "居る", "おる", "ない", "無い", "ござる"})
_TURNING = frozenset({"でも", "けど", "けれど", "けれども", "しかし", "だけど", "ただ", "が"})
_WHOLE_YES = frozenset({"ok", "おk", "おけ", "おっけ", "おけい", "おーけー", "りょ", "りょう", "yes", "いえす", "おす"})
_WHOLE_NO = frozenset({"no", "のー", "なし", "だめ", "むり", "無理"})
_LAUGH = re.compile(r"(?:[(]笑[)]|笑|(?<=[\u3040-\u30ff\u4e00-\u9fff])w+)(?=\s|$|[。、!?])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """One reply, understood: compare `lemmas` and `main_lemma` with choices, act on `polarity`."""

    text: str  # NFKC, controls removed: what was tokenized
    normalized: str  # bot.core.understanding.matching.normalize: width, kana and case folded, punctuation dropped
    tokens: tuple[Token, ...]
    lemmas: frozenset[str]  # dictionary and normalized forms of content words, kana-folded too
    quantities: tuple[Quantity, ...]
    polarity: Polarity | None  # of the LAST clause that says yes or no; None for questions and 「わからない」
    aspect: Aspect | None  # 'not_yet' (まだ, 終わってない) or 'done' (もう〜た, 済み, 終わった)
    tense: Literal["past", "nonpast"]
    is_question: bool
    question_word: str | None  # 何 いつ いくら どこ どう どうやって なんで なぜ どれ 誰
    hedge: bool  # たぶん, 〜と思う, 〜かも, 〜かな: lowers confidence
    unsure: bool  # わからない, 覚えてない, 忘れた: not a "no"
    main_lemma: str | None  # 保存する, 退会できる, 振り込む, ある (also for ない/ありません)…
    contrast: bool  # cues disagree (「はい、でもまだです」): ask back rather than guess
    opener_only: bool = False  # they disagree only with a leading いや／いいえ (「いや、もういいです退会します」)
    first_there: Polarity | None = None  # 「あります。途中でやめたい」: a first clause that says there is (not)


def clean(text: str) -> str:
    """NFKC, with control and invisible characters, lone surrogates and a trailing 「笑」「w」 removed."""
    text = text.encode("utf-8", "replace").decode("utf-8") if any(0xD800 <= ord(c) < 0xE000 for c in text) else text
    return _LAUGH.sub(" ", _CONTROL.sub(" ", unicodedata.normalize("NFKC", text))).strip()


def _lemmas(tokens: tuple[Token, ...], extra: tuple[str | None, ...]) -> frozenset[str]:
    found: set[str] = {word for word in extra if word}
    denied = _denied(tokens)
    for i, token in enumerate(tokens):
        if token.kind in _CONTENT and i not in denied:
            found.update((token.lemma, token.normalized, token.base))
        if token.surface in ("これ", "今", "いま") and i + 1 < len(tokens) and tokens[i + 1].surface == "から":
            found.add(f"{token.surface}から")  # 「これからやる」: a plan, one word as the flows write it
    found |= {kana(word.lower()) for word in found}
    return frozenset(word for word in found if word)


def _denied(tokens: tuple[Token, ...]) -> set[int]:
    """「受注者じゃなくて発注者です」「受注者じゃないです」「正社員ではありません」: the nouns a reply says it
    is *not*, left out of its words (a correction names the other one)."""
    found: set[int] = set()
    for i, token in enumerate(tokens):
        if token.kind != "助動詞" or token.normalized != "だ" or token.surface not in ("じゃ", "で", "じゃあ"):
            continue
        j = i + 1 + (i + 1 < len(tokens) and tokens[i + 1].surface == "は")
        if j >= len(tokens) or tokens[j].surface not in ("なく", "ない", "なかっ", "あり"):
            continue  # 「〜じゃなくて」「〜じゃない」「〜ではありません」
        if tokens[j].surface == "あり" and not any(t.surface == "ませ" for t in tokens[j + 1 : j + 3]):
            continue
        k = i
        while k > 0 and tokens[k - 1].kind in ("名詞", "接尾辞", "接頭辞"):
            k -= 1
        found.update(range(k, j + 1))
    return found


def _is_correction(tokens: tuple[Token, ...]) -> bool:
    """A clause that only says what something is not (「受注者じゃなくて」): not the reply's answer."""
    words = [t for t in tokens if t.kind not in ("補助記号", "空白")]
    denied = _denied(tuple(words))
    return bool(denied) and all(i in denied or t.kind == "助詞" for i, t in enumerate(words))


def _question_word(tokens: tuple[Token, ...]) -> str | None:
    for i, token in enumerate(tokens):
        word = _QUESTION_WORDS.get(token.lemma) or _QUESTION_WORDS.get(token.surface)
        if word is None or token.kind not in ("代名詞", "副詞", "名詞"):
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if after is not None and (after.surface in _INDEFINITE_AFTER or (after.surface == "で" and word == "何")):
            if word == "何" and after.surface == "で" and (i + 2 >= len(tokens) or tokens[i + 2].surface != "も"):
                return "なんで"  # 「何で」: why
            continue  # 「何も」「いつでも」「何か」: not a question
        then = tokens[i + 2] if i + 2 < len(tokens) else None
        if word == "何" and after is not None and after.kind == "名詞" and then is not None and then.surface == "か":
            continue  # 「何件か」「何回か」: some, not a question
        if word == "どう" and after is not None and after.base == "やる":
            return "どうやって"
        return word
    return None


def _asks(tokens: tuple[Token, ...], text: str) -> bool:
    if "?" in text:
        return True
    words = [t for t in tokens if t.kind not in ("補助記号", "記号", "空白")]
    if not words:
        return False
    last = words[-1]
    return last.kind == "助詞" and last.sub == "終助詞" and last.surface in ("か", "の", "っけ", "かい")


def _hedged(tokens: tuple[Token, ...]) -> bool:
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.normalized in _HEDGE_WORDS or token.lemma in _HEDGE_WORDS:
            return True
        if token.base == "思う" and prev is not None and prev.surface in ("と", "って", "っと"):
            return True
        if token.surface == "か" and nxt is not None and nxt.surface in ("も", "な", "なあ", "なぁ"):
            after = tokens[i + 2] if i + 2 < len(tokens) else None
            if (
                nxt.surface == "も"
                and after is not None
                and after.kind not in ("補助記号", "助動詞", "空白")
                and after.base not in ("しれる", "知れる")
            ):
                continue
            return True
        if token.surface == "かな" or (token.surface == "気" and nxt is not None and nxt.surface == "が"):
            return True
        if token.base == "自信" and any(t.base in ("ない", "無い") for t in tokens[i + 1 : i + 4]):
            return True  # 「できてるか自信ない」: not sure
        after_next = tokens[i + 2].surface if i + 2 < len(tokens) else ""
        if token.surface == "か" and nxt is not None and nxt.surface in ("ない", "無い") and after_next == "か":
            return True  # 「1000円あるかないか」: either
        # 「あったような…」「できたっぽい」「終わったようです」: it seems so (not 「このような」「同じような」)
        seems = token.surface in ("よう", "っぽい", "ぽい") and token.sub in ("助動詞語幹", "形容詞的")
        if seems and prev is not None and prev.kind in ("動詞", "助動詞"):
            return True
    return False


# Long: the steps of one analysis in the order they depend on each other (docs/understanding.md).


# Long on purpose: one pass over the tokens gathers every cue the readers use (split, each part re-walks them).
def analyze(text: str, tokenizer: Tokenizer) -> TextAnalysis:
    """Understand one reply; never raises on any text, and gives the same result for the same text."""
    cleaned = clean(text)
    tokens = tokenizer.tokenize(cleaned) if cleaned else ()
    clauses = split_clauses(tokens)
    said: list[Predicate] = []
    stated: list[Predicate] = []  # said, but for reasons (「〜ので」): two answers disagree only among these
    opener: Predicate | None = None
    turns = any(t.surface in _TURNING and (t.kind == "接続詞" or t.sub == "接続助詞") for t in tokens)
    unsure = False
    last_head: Predicate | None = None
    for clause in clauses:
        predicate = read_predicate(clause)
        if predicate is None:
            continue
        # 「パスワード忘れてログインできません」: forgetting is the reason; only a clause that answers is unsure
        unsure = unsure or (predicate.unsure and clause.kind != "te")
        if predicate.lemma is not None:
            last_head = predicate
        if (
            clause.kind != "adverbial"
            and predicate.polarity is not None
            and not (len(clauses) > 1 and _is_correction(clause.tokens))
        ):
            said.append(predicate)
            # 「いや、退会します」: a leading いや／いいえ may be a discourse word, not a second answer — unless
            # the reply turns with でも／けど (「はい、でもまだです」 says both)
            if clause.kind == "interjection" and predicate.polarity == "no" and not stated and not turns:
                opener = predicate
            if clause.kind != "reason":
                stated.append(predicate)
    deciding = said[-1] if said else last_head
    question_word = _question_word(tokens)
    normalized = normalize(cleaned)
    unsure = unsure or normalized in _UNSURE_TEXTS
    is_question = (_asks(tokens, cleaned) or question_word is not None) and not unsure
    polarity = None if deciding is None or is_question or unsure else deciding.polarity
    whole = normalized.replace("ー", "").replace("~", "").rstrip("!")
    if whole in _WHOLE_YES or whole in _WHOLE_NO:
        polarity = "yes" if whole in _WHOLE_YES else "no"  # 「おっけー」「NO」: split oddly by the dictionary
    main_lemma = deciding.lemma if deciding and deciding.lemma else (last_head.lemma if last_head else None)
    return TextAnalysis(
        text=cleaned,
        normalized=normalized,
        tokens=tokens,
        lemmas=_lemmas(tokens, (main_lemma,)),
        quantities=parse_quantities(cleaned),
        polarity=polarity,
        aspect=None if deciding is None or is_question else deciding.aspect,
        tense="past" if deciding is not None and deciding.past else "nonpast",
        is_question=is_question,
        question_word=question_word,
        hedge=_hedged(tokens),
        unsure=unsure,
        main_lemma=main_lemma,
        contrast=len({p.polarity for p in stated}) > 1,
        opener_only=opener is not None and len({p.polarity for p in stated if p is not opener}) == 1,
        first_there=said[0].polarity if len(said) > 1 and said[0].lemma in _THERE else None,
    )
