"""Clauses and their main predicate: where a Japanese answer's yes or no actually is.

Japanese is head-final, so a clause means what its last content word and the auxiliaries after it
say: 「まだ終わってない案件が1件あります」 is あります (終わってない only describes 案件). A reply is cut
into clauses at punctuation, interjections, conjunctions and clause-ending particles; manner and
condition clauses (「キャンセルせずに」「〜たら」) never carry the answer, the others are compared so a
change of mind (「ないです、あ、やっぱりあります」) is seen as a conflict.

Over 300 lines on purpose: the clause and predicate rules are one grammar, read together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core.japanese.tokens import Token, kana

Polarity = Literal["yes", "no"]
Aspect = Literal["not_yet", "done"]
ClauseKind = Literal["final", "coordinate", "reason", "te", "adverbial", "interjection"]

YES_INTERJECTIONS = frozenset({"はい", "ええ", "うん", "うむ", "おう", "はいはい", "うんうん", "おっけ", "おけ"})
NO_INTERJECTIONS = frozenset({"いいえ", "いえ", "いや", "ううん", "いいや", "いやいや", "いんや"})
YES_WORDS = frozenset(
    {"あり", "そう", "ok", "おk", "おけ", "おっけ", "おーけー", "了解", "りょ", "承知", "もちろん", "勿論", "yes"}
    | {"是非", "ぜひ", "はい", "うん", "済み", "完了", "お願い", "御願い"}  # Sudachi's normalized お願い
)
NO_WORDS = frozenset({"なし", "違う", "いいえ", "no", "のー", "むり", "無理"})
UNSURE_VERBS = frozenset({"わかる", "知る", "覚える", "判る", "解る", "存じる", "存ずる"})  # 「存じません」: humbly
DONE_VERBS = frozenset({"済む", "終わる", "終える", "済ませる", "完了", "済み", "完了する", "終了", "終了する"})
_AUX_VERBS = frozenset({"いる", "ある", "おる", "おく", "しまう", "くる", "いく", "みる", "もらう", "くださる"})
_AUX_VERBS_MORE = frozenset({"いただく", "あげる", "くれる", "ちゃう", "ほしい"})
_COORDINATING = frozenset({"けど", "けれど", "けれども", "が", "のに", "し"})
_REASON = frozenset({"から", "ので"})  # 「もう使わないので退会します」: the reason, not a second answer
_OBLIGATION = re.compile(
    r"^(?:ないと(?:いけない|いけません|だめ|ダメ|まずい|あかん)?|なきゃ(?:いけない|いけません|だめ|ならない)?"
    r"|なくちゃ(?:いけない|だめ)?|なければ(?:ならない|なりません|いけない|いけません|だめ)"
    r"|なくては(?:ならない|なりません|いけない|いけません|だめ))(?:です|だ)?(?:よ|ね|な|わ)*$"
)


@dataclass(frozen=True, slots=True)
class Clause:
    tokens: tuple[Token, ...]
    kind: ClauseKind


@dataclass(frozen=True, slots=True)
class Predicate:
    """What one clause says: its head lemma, yes/no, tense and まだ／もう aspect."""

    lemma: str | None
    polarity: Polarity | None
    past: bool
    aspect: Aspect | None
    unsure: bool


def _folded(token: Token) -> str:
    return kana(token.surface.lower()).replace("ー", "").replace("~", "").replace("っ", "")


def _is_aux_after_te(tokens: tuple[Token, ...], i: int) -> bool:
    """て/で followed by いる・ある・おく・しまう… is one predicate (「していません」), not two clauses."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None:
        return True
    if nxt.kind == "助詞" and nxt.surface in ("も", "は"):
        return True
    return nxt.base in _AUX_VERBS or nxt.base in _AUX_VERBS_MORE


# Long: one left-to-right pass over the tokens; splitting it would scatter the clause rules.


# Long on purpose: the cut rules side by side in one scan (they are one grammar, see above).
def split_clauses(tokens: tuple[Token, ...]) -> list[Clause]:
    """Cut at punctuation, interjections, conjunctions and clause-ending particles."""
    clauses: list[Clause] = []
    current: list[Token] = []

    def close(kind: ClauseKind) -> None:
        if current:
            clauses.append(Clause(tuple(current), kind))
            current.clear()

    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        if token.kind in ("補助記号", "記号", "空白"):
            close("final")
        elif token.kind == "感動詞":
            close("final")
            clauses.append(Clause((token,), "interjection"))
        elif token.kind == "接続詞":
            close("final")
            current.append(token)
        elif token.kind == "助詞" and token.sub == "接続助詞":
            current.append(token)
            if token.surface in ("て", "で"):
                if prev is not None and prev.normalized == "ない" and token.surface == "で":
                    if not _request_follows(tokens, i + 1):
                        close("adverbial")  # 「キャンセルしないで進めたい」: without doing
                    # else 「削除しないでください」「消さないで。」: a request not to, read whole
                elif not _is_aux_after_te(tokens, i):
                    close("te")  # 「忘れて、ログインできない」: one step of a sequence
            elif token.surface in _COORDINATING:
                close("coordinate")
            elif token.surface in _REASON:
                close("reason")
            elif (
                token.surface == "と" and i + 1 < len(tokens) and tokens[i + 1].surface[:1] in ("い", "だ", "ダ", "ま")
            ):
                continue  # 「しないといけない」: an obligation, read as one predicate
            else:
                close("adverbial")  # ば, ても, ながら, と, たって
        elif token.kind == "助詞" and token.surface == "に" and prev is not None and prev.normalized == "ず":
            current.append(token)
            close("adverbial")  # 「キャンセルせずに」
        elif token.kind == "助動詞" and token.surface == "で" and prev is not None and prev.sub == "準体助詞":
            current.append(token)
            close("reason")  # 「使わないので」
        else:
            current.append(token)
            if token.form.startswith("仮定形") and not (i + 1 < len(tokens) and tokens[i + 1].surface == "ば"):
                close("adverbial")  # 「終わったら」
    close("final")
    return clauses


def _obligation_cut(tokens: tuple[Token, ...]) -> int | None:
    """Index where 「ないといけない」「なきゃ」… starts, when the clause ends with one."""
    for k, token in enumerate(tokens):
        if token.surface.startswith("な") and k > 0:
            rest = "".join(t.surface for t in tokens[k:] if t.kind not in ("補助記号", "空白"))
            if _OBLIGATION.match(rest):
                return k
    return None


def _compound(tokens: tuple[Token, ...], i: int) -> str:
    """The head's lemma, joined to a サ変 noun before it: 保存+し → 保存する, 退会+でき → 退会できる."""
    head = tokens[i]
    base = head.base
    prev = tokens[i - 1] if i else None
    prefix = tokens[i - 2].surface if i >= 2 and tokens[i - 2].kind == "接頭辞" else ""
    if base in ("ござる", "御座る") and prev is not None and prev.kind != "形容詞":
        return "ある"  # 「特にございません」: ありません said humbly (not after an adjective: 「おめでとうございます」)
    if prev is not None and prev.kind == "名詞" and base in ("済み", "済"):
        return prefix + prev.base + "する"  # 「申請済み」 says 申請した (its aspect is done)
    if prev is not None and prev.kind == "名詞" and (base in ("する", "できる") or head.kind == "接尾辞"):
        return prefix + prev.base + base
    if prev is not None and prefix and prev.kind == "動詞" and base == "する":
        return prefix + prev.surface + base  # 「お願いします」 → お願いする
    return base


def _declines(tokens: tuple[Token, ...], head: int) -> bool:
    """もう／今は right before いい, with no other predicate between them."""
    before = tokens[:head]
    for j in range(len(before) - 1, -1, -1):
        token = before[j]
        if token.kind in ("動詞", "形容詞", "助動詞"):
            return False
        if token.kind == "副詞" and token.base == "もう":
            return True
        if token.base == "今" and j + 1 < len(before) and before[j + 1].surface == "は":
            return True
    return False


def _preceding_adverb(tokens: tuple[Token, ...], head: int, words: frozenset[str]) -> bool:
    """まだ／もう applies to the head only when no other predicate stands between them."""
    for token in reversed(tokens[:head]):
        if token.kind == "副詞" and token.base in words:
            return True
        if token.kind in ("動詞", "形容詞", "助動詞"):
            return False
    return False


def _skippable(token: Token) -> bool:
    """Punctuation and particles after the head: 「よ」「ね」「か」「の(です)」「は」「て」."""
    return token.kind in ("補助記号", "記号", "空白") or (
        token.kind == "助詞" and token.sub in ("終助詞", "準体助詞", "接続助詞", "係助詞", "副助詞")
    )


@dataclass
class _Tail:
    """What the auxiliaries after the head say, collected while walking back."""

    negations: int = 0
    past: bool = False
    resultative: bool = False  # 〜てる／〜ている／〜てある: a state, e.g. 「もう終わってます」
    shika: bool = False  # 「1件しかない」: only, not a negation
    nai_head: bool = False  # 「ないです」「何もない」: ない is the predicate itself (= ある, negated)


def _after_te(tokens: tuple[Token, ...], i: int) -> bool:
    """Token i follows て／てる, or で／じゃ + は／も (「ではありません」), so it is an auxiliary verb."""
    prev = tokens[i - 1] if i else None
    if prev is None:
        return False
    if prev.normalized == "てる" or (prev.kind == "助詞" and prev.surface in ("て", "で")):
        return True
    before = tokens[i - 2] if i >= 2 else None
    return (
        prev.surface in ("は", "も")
        and before is not None
        and (before.kind == "助動詞" or (before.kind == "助詞" and before.surface in ("て", "で")))
    )


def _walk_tail(tokens: tuple[Token, ...], tail: _Tail) -> int:
    """Index of the head, walking back over auxiliaries; -1 when there is none."""
    i = len(tokens) - 1
    while i >= 0:
        token, prev = tokens[i], tokens[i - 1] if i else None
        if _skippable(token):
            i -= 1
        elif token.kind == "助動詞":
            if token.normalized in ("ない", "ず", "ぬ"):
                tail.negations += 1
            elif token.normalized == "た":
                tail.past = True
            elif token.normalized == "てる":
                tail.resultative = True
            i -= 1
        elif token.kind == "形容詞" and token.base == "ない" and token.sub == "非自立可能":
            if prev is not None and prev.surface in _NAI_WORDS:
                return i - 1  # 「もったいない」「仕方ない」: one word, not a negation
            if prev is not None and prev.surface == "しか":
                tail.shika = True
                i -= 2
            elif prev is not None and (prev.kind in ("助動詞", "動詞") or prev.form.startswith("連用形")):
                tail.negations += 1  # 「じゃない」「よくない」
                i -= 1
            elif prev is not None and prev.surface in ("は", "も") and i >= 2 and tokens[i - 2].kind == "助動詞":
                tail.negations += 1  # 「ではない」
                i -= 2
            else:
                tail.negations += 1
                tail.nai_head = True
                return i
        elif (
            token.kind in ("動詞", "形容詞")
            and token.base in _AUX_VERBS | _AUX_VERBS_MORE
            and prev is not None
            and _after_te(tokens, i)
        ):
            tail.resultative = tail.resultative or token.base in ("いる", "ある", "おる", "おく")
            i -= 1  # 「して(い)ます」「ではありません」: an auxiliary verb, not the head
        else:
            return i
    return -1


_NAI_WORDS = frozenset({"もったい", "勿体", "仕方", "しょう", "申し訳", "しかた"})  # 〜ない adjectives
_REQUEST_VERBS = frozenset({"くださる", "下さる", "欲しい", "ほしい", "くれる", "もらう", "貰う", "いただく", "頂く"})


def _request_follows(tokens: tuple[Token, ...], i: int) -> bool:
    """After 「ないで」: the end of the sentence, a sentence-final particle or a request verb (ください)."""
    if i >= len(tokens):
        return True
    token = tokens[i]
    return token.kind in ("補助記号", "記号", "空白") or token.sub == "終助詞" or token.base in _REQUEST_VERBS


def _negative_request(tokens: tuple[Token, ...]) -> int | None:
    """Where 「〜ないで(ください／ほしい／ね)」 ends its 「〜ない」: a request *not* to do something, whose
    answer is the negated verb (「削除しないでください」 is no to 削除); None when the clause is no such request."""
    end = len(tokens)
    while end and (tokens[end - 1].sub == "終助詞" or tokens[end - 1].base in ("です", "ます")):
        end -= 1
    if end and tokens[end - 1].kind in ("動詞", "形容詞") and tokens[end - 1].base in _REQUEST_VERBS:
        end -= 1
    te, nai = (tokens[end - 1], tokens[end - 2]) if end >= 2 else (None, None)
    if te is not None and nai is not None and te.surface == "で" and te.sub == "接続助詞":
        return end - 1 if nai.kind == "助動詞" and nai.base in ("ない", "ず") else None
    return None


def _hedge_frame(tokens: tuple[Token, ...], i: int) -> int | None:
    """Where 「〜と思う」「〜気がする」 starts: the answer is the clause inside it."""
    head = tokens[i]
    if head.base == "思う" and i >= 2 and tokens[i - 1].surface in ("と", "って", "っと"):
        return i - 1
    if head.base == "しれる" and i >= 3 and tokens[i - 1].surface == "も" and tokens[i - 2].surface == "か":
        return i - 2  # 「あるかもしれません」: the negation belongs to the frame, not the answer
    if head.base == "する" and i >= 3 and tokens[i - 1].surface == "が" and tokens[i - 2].surface == "気":
        start = i - 2
        while start > 0 and tokens[start - 1].surface in ("よう", "な", "様"):
            start -= 1
        return start
    return None


# Long: one right-to-left walk from the end of a clause (Japanese is head-final), kept whole.


# Long on purpose: the predicate read from the clause's end, one rule after the other, in order.
def read_predicate(clause: Clause) -> Predicate | None:
    """The main predicate of a clause, read from its end; None when the clause has no head."""
    tokens = clause.tokens
    if clause.kind == "interjection":
        word = _folded(tokens[0])
        said: Polarity | None = "yes" if word in YES_INTERJECTIONS else "no" if word in NO_INTERJECTIONS else None
        return Predicate(None, said, False, None, False)
    cut = _obligation_cut(tokens)
    if cut is not None:
        tokens = tokens[:cut]
    tokens = tokens[: _negative_request(tokens)]  # 「削除しないでください」 says 削除しない
    tail = _Tail()
    i = _walk_tail(tokens, tail)
    if i < 0:
        return None
    head = tokens[i]
    frame = _hedge_frame(tokens, i)
    if frame is not None:
        inner = read_predicate(Clause(tokens[:frame], clause.kind))
        if inner is not None:
            return inner
    folded = kana(head.base.lower())
    if (head.kind == "副詞" and head.base == "まだ") or folded == "これから":
        return Predicate("まだ", "no", tail.past, "not_yet", False)
    if tail.nai_head or (tail.shika and head.kind in ("名詞", "代名詞") and cut is None):
        lemma: str | None = "ある"
    elif head.sub == "数詞" or (i and tokens[i - 1].sub == "数詞"):
        lemma = None  # 「1」「2件」: the number is in `quantities`
    else:
        lemma = _compound(tokens, i)
    affirmed = tail.shika or cut is not None
    negative = tail.negations % 2 == 1 and not affirmed
    polarity: Polarity | None
    if head.base == "違う" or folded in NO_WORDS:
        polarity = "yes" if negative else "no"
    elif (
        head.kind in ("動詞", "形容詞")
        or head.base == "ある"
        or tail.nai_head
        or affirmed
        or folded in YES_WORDS
        or (lemma or "") in YES_WORDS
    ):
        polarity = "no" if negative else "yes"
    else:
        polarity = "no" if negative else None  # a noun: 「会社員じゃない」 is no, 「会社員です」 is no yes/no
    if head.base in ("いい", "良い", "よい") and not negative:
        # 「いいです」: "yes, fine" or "no, thanks"; only the context can tell — but 「もういいです」「今はいいです」
        # decline (nothing more wanted, not now)
        polarity = "no" if _declines(tokens, i) else None
    unsure = (head.base in UNSURE_VERBS and negative) or (head.base == "忘れる" and not negative)
    if unsure:
        polarity = None
    aspect: Aspect | None = None
    done_word = head.base in DONE_VERBS or (lemma or "") in DONE_VERBS or head.base == "済み"
    already = _preceding_adverb(tokens, i, frozenset({"もう", "既に", "すでに", "とっくに"}))
    if polarity == "no" and (done_word or _preceding_adverb(tokens, i, frozenset({"まだ"}))):
        aspect = "not_yet"
    elif polarity == "yes" and (
        (already and (tail.past or tail.resultative)) or (done_word and (tail.past or head.base == "済み"))
    ):
        aspect = "done"
    return Predicate(lemma, polarity, tail.past, aspect, unsure)
