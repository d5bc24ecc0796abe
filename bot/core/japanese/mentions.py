"""Who and what a reply names: 「山田さんのLP用の記事3本で、まだ途中です」 → 山田 / LP用の記事3本.

People name their jobs by the client and the work (「佐藤様のロゴ」「記事作成の案件」), so an item can carry
the user's own words in 「状況」 and on its 「済んだ」 button instead of 「依頼1」. Read from the morphemes:
a person is the nouns before an honorific (さん, 様…), a company a noun run with 株式会社 or 〜社, the work
the noun phrase after 「〇〇さんの」 or before 「の案件／の仕事」. Conservative on purpose: a phrase without an
ordinary noun (「進行中の案件」「提案の件」) names nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.japanese.tokens import Token

HONORIFICS = frozenset({"さん", "様", "さま", "氏", "殿", "くん", "君", "ちゃん"})
COMPANY_WORDS = frozenset({"株式会社", "合同会社", "有限会社", "社"})
# who the bot already knows about: a role, not a name (「クライアントさん」「先方様」)
ROLES = frozenset(
    {"クライアント", "相手", "お客", "客", "発注者", "先方", "担当者", "担当", "依頼者", "皆", "みな", "皆さん"}
)
# words that say "a job" without naming it: 「LP記事の案件」 is named by LP記事
GENERIC = frozenset(
    {"案件", "仕事", "お仕事", "依頼", "件", "やつ", "奴", "もの", "物", "分", "取引", "契約", "提案", "作業", "の"}
)
JOB_WORDS = frozenset({"案件", "仕事", "お仕事", "依頼", "件", "やつ", "奴", "取引", "契約"})
# where a job stands or where it is: never its name (「進行中の案件」「ランサーズの仕事」)
NOT_WORK = frozenset(
    {"進行中", "作業中", "途中", "提案中", "納品前", "納品待ち", "支払い待ち", "支払待ち", "返事待ち", "契約中",
     "募集中", "選定中", "対応中", "未完了", "完了", "残り", "ランサーズ", "クラウドワークス", "クラワ", "ココナラ",
     "前", "今", "最近"}
)  # fmt: skip
MAX_WHO = 16
MAX_WHAT = 20


@dataclass(frozen=True, slots=True)
class Mention:
    who: str = ""  # a person or a company, without the honorific
    company: str = ""  # the company a person works for (「合同会社ネクストの木村さん」)
    what: str = ""  # the work, in the user's words

    @property
    def name(self) -> str:
        """「山田様：LP用の記事3本」, 「合同会社ネクスト 木村様」, 「バナー制作」."""
        who = f"{self.company} {self.who}".strip() if self.company else self.who
        if who and not _is_company(self.who):
            who += "様"
        return "：".join(part for part in (who, self.what) if part)


def mentions(tokens: Sequence[Token]) -> list[Mention]:
    """Each person or company named, with the work named after it; a work named on its own too."""
    found: list[Mention] = []
    last = 0  # where the last mention ended
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "接尾辞" and token.surface in HONORIFICS:
            start = _noun_run_start(tokens, i)
            who = "".join(t.surface for t in tokens[start:i])
            if who and who not in ROLES and not who.isdigit() and len(who) <= MAX_WHO:
                company = _company_before(tokens, start)
                what, i = _work_after(tokens, i + 1)
                found.append(Mention(who, company, what))
                last = i
                continue
        elif _is_company_start(tokens, i) and not _person_follows(tokens, _noun_run_end(tokens, i)):
            end = _noun_run_end(tokens, i)
            who = "".join(t.surface for t in tokens[i:end])
            if end < len(tokens) and tokens[end].kind == "接尾辞" and tokens[end].surface in HONORIFICS:
                end += 1
            what, i = _work_after(tokens, end)
            found.append(Mention(who, "", what))
            last = i
            continue
        elif token.kind == "名詞" and (i == 0 or tokens[i - 1].kind != "名詞"):
            end = _phrase_end(tokens, i)
            words = list(tokens[i:end])
            named = bool(words) and words[-1].surface in JOB_WORDS  # 「バナー案件」
            while words and words[-1].surface in GENERIC:
                words.pop()
            after = tokens[end : end + 2]
            named = named or (len(after) == 2 and after[0].surface == "の" and after[1].surface in JOB_WORDS)
            honored = any(t.kind == "接尾辞" and t.surface in HONORIFICS for t in words)
            if named and not honored and _names_work(words):
                what = _clip("".join(t.surface for t in words))
                if found and found[-1].who and not found[-1].what and _same_clause(tokens[last:i]):
                    found[-1] = Mention(found[-1].who, found[-1].company, what)  # 「田中さんから頼まれたバナーの仕事」
                else:
                    found.append(Mention(what=what))
                i = last = end
                continue
        i += 1
    return found


def _noun_run_start(tokens: Sequence[Token], end: int) -> int:
    start = end
    while start > 0 and tokens[start - 1].kind == "名詞" and tokens[start - 1].sub != "数詞":
        start -= 1
    return start


def _noun_run_end(tokens: Sequence[Token], start: int) -> int:
    end = start
    while end < len(tokens) and (tokens[end].kind == "名詞" or (end > start and tokens[end].surface == "社")):
        end += 1
    return end


def _is_company_start(tokens: Sequence[Token], i: int) -> bool:
    """「株式会社ABC」「ABC社」 (not 「会社」 alone, not a noun inside a longer run)."""
    if tokens[i].kind != "名詞" or (i > 0 and tokens[i - 1].kind == "名詞"):
        return False
    end = _noun_run_end(tokens, i)
    run = [t.surface for t in tokens[i:end]]
    return len(run) >= 2 and (run[0] in COMPANY_WORDS - {"社"} or run[-1] == "社")


def _same_clause(between: Sequence[Token]) -> bool:
    return not any(t.kind == "補助記号" or t.surface in ("と", "や", "も") for t in between)


def _person_follows(tokens: Sequence[Token], i: int) -> bool:
    """「合同会社ネクスト|の木村さん」: the company is where the person works, read with the person."""
    if i >= len(tokens) or tokens[i].surface != "の":
        return False
    end = _noun_run_end(tokens, i + 1)
    return end > i + 1 and end < len(tokens) and tokens[end].surface in HONORIFICS


def _is_company(who: str) -> bool:
    return any(word in who for word in COMPANY_WORDS)


def _company_before(tokens: Sequence[Token], start: int) -> str:
    """「合同会社ネクストの木村さん」: the company named just before the person, joined by の."""
    if start < 2 or tokens[start - 1].surface != "の":
        return ""
    first = _noun_run_start(tokens, start - 1)
    run = "".join(t.surface for t in tokens[first : start - 1])
    return run if _is_company(run) and len(run) <= MAX_WHO else ""


def _work_after(tokens: Sequence[Token], i: int) -> tuple[str, int]:
    """「山田さんの|LP用の記事3本|で」: the noun phrase after the name and its の, and where it ends."""
    if i >= len(tokens) or tokens[i].surface != "の":
        return "", i
    end = _phrase_end(tokens, i + 1)
    words = list(tokens[i + 1 : end])
    while words and words[-1].surface in GENERIC:  # 「LP記事の案件」: the 案件 says nothing
        words.pop()
    if words and words[-1].surface == "の":
        words.pop()
    if not _names_work(words):
        return "", i + 1
    return _clip("".join(t.surface for t in words)), end


def _phrase_end(tokens: Sequence[Token], i: int) -> int:
    """Nouns, their suffixes and numbers, joined by の when a noun follows (「LP用の記事3本」)."""
    end = i
    while end < len(tokens):
        token = tokens[end]
        if token.kind in ("名詞", "接尾辞", "接頭辞"):
            end += 1
        elif token.surface == "の" and end + 1 < len(tokens) and tokens[end + 1].kind == "名詞":
            if tokens[end + 1].surface in GENERIC or _honored(tokens, end + 1):
                break
            end += 1
        else:
            break
    return end


def _honored(tokens: Sequence[Token], i: int) -> bool:
    """A person's name starts at `i` (「LPの|山田さん」): the phrase ends before it."""
    end = _noun_run_end(tokens, i)
    return end < len(tokens) and tokens[end].kind == "接尾辞" and tokens[end].surface in HONORIFICS


def _names_work(words: Sequence[Token]) -> bool:
    """An ordinary or proper noun that is not 案件/仕事: 「記事」「LP」「バナー」, not 「進行中」「提案」."""
    ordinary = any(
        t.kind == "名詞" and t.sub in ("普通名詞", "固有名詞") and t.pos[2:3] in (("一般",), ("人名",), ("地名",))
        and t.surface not in GENERIC
        for t in words
    )  # fmt: skip
    return ordinary and not any(t.surface in NOT_WORK for t in words)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_WHAT else text[: MAX_WHAT - 1] + "…"
