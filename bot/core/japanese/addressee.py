"""What a typed fill-in names: the addressee of a client message, the user's own name, a job title.

People type more than a name: 「3人いるんですけど、高橋さん、伊藤さん、小林様」, 「合同会社ネクストの木村」,
「佐藤っす」, 「「バナー制作」の件」. The reader finds the names in it and how X-MSG-STRUCTURE addresses them: a
person takes 様, a company 「ご担当者様」 (or the 御中 the user wrote; never 様 after a company name), a company and
a person 「合同会社ネクスト 木村様」, several people one 様 each. Text that names no one (a sentence, digits)
reads as nothing, and the caller refuses it.

The analyzer's tokens, when given, tell the particle の/と from a letter inside a name (「株式会社山の手」 is one
company, 「合同会社ネクストの木村」 a company and a person), a person's name (人名) from a word (「大社さん」 is a
person, 「ABC社」 a company) and a clause from a name (「3人いるんですけど」 is said around the names). Without
them the reader keeps to what the characters alone make certain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.japanese.mentions import mentions
from bot.core.japanese.tokens import Token

MAX_PERSON = 16  # a person's name; longer is not a name
MAX_COMPANY = 30
MAX_LINE = 40  # the 宛名 as one line (what a session keeps); more people than fit are 「皆様」
MAX_PEOPLE = 5  # named one by one (one message each); more are 「皆様」

# A company's legal form, before or after its name (NFKC has made ㈱ and （株） into (株)).
_FORMS = (
    "株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|一般財団法人|公益社団法人|公益財団法人|"
    r"特定非営利活動法人|NPO法人|社団法人|財団法人|学校法人|医療法人|社会福祉法人|\(株\)|\(有\)|\(同\)"
)
_COMPANY_FIRST = re.compile(rf"(?:{_FORMS})")  # used with match(line, start): no ^
_COMPANY_AFTER = re.compile(
    rf"(?:{_FORMS}|Inc\.?|LLC\.?|Ltd\.?|Co\.,?\s?Ltd\.?|Corp\.?|Corporation|事務所|編集部|事業部|制作部|運営事務局|"
    r"事務局|商店|工房|(?<=\S)社)(?=$|\s|の)",
    re.I,
)
_SHORT_FORMS = {"(株)": "株式会社", "(有)": "有限会社", "(同)": "合同会社"}
# 〜社 that is no company's name: 「相手の会社」「御社」, 「入社」
_NOT_COMPANY = frozenset(
    {"会社", "御社", "貴社", "弊社", "当社", "本社", "他社", "自社", "各社", "同社", "某社", "入社", "退社", "出社"}
)
# part of a company, between its name and a person (「株式会社ABC 営業部 山田様」)
_DEPARTMENT = re.compile(r"(?:部|課|室|局|本部|支店|支社|営業所|事業部|編集部)$")
# titles that stand for the honorific (「木村社長」 is addressed 「木村様」)
_TITLES = ("代表取締役", "社長", "副社長", "部長", "課長", "係長", "主任", "店長", "代表", "先生", "専務", "常務")
# a role, not a name: addressed as 「ご担当者様」
_ROLES = frozenset(
    {"クライアント", "相手", "相手の方", "お客様", "お客", "先方", "担当者", "ご担当者", "ご担当", "担当", "担当の方",
     "依頼者", "発注者", "ご依頼主", "依頼主"}
)  # fmt: skip
_ROLE_TAILS = ("のご担当者", "のご担当", "の担当者", "の担当の方", "の担当", "ご担当者", "ご担当", "担当者")
_GROUP_TAILS = ("の皆様", "の皆さま", "の皆さん", "皆様", "皆さま", "皆さん", "各位", "ご一同", "御一同")
# said after a name besides the lexicon's endings (「山田でお願いします」); a bare 「で」 goes only after a non-kana
_CHATTY = ("でお願いいたします", "でお願いします", "でお願い", "でいいです", "でいい", "で大丈夫です", "で大丈夫",
           "という方", "という人", "という会社", "って人", "って方", "って会社", "だよ", "ですー", "で")  # fmt: skip
_OPENERS = re.compile(  # used with match(line, start): no ^. 「相手の名前は」「先方の木村さん」
    r"(?:相手の(?:方の)?(?:お)?名前|相手の方|相手|先方|クライアント(?:さん)?|宛名|宛先|送り先|(?:お)?名前|会社名|社名|"
    r"担当者|担当)(?:は|が|:)\s*|(?:相手|先方|クライアント(?:さん)?)(?:側)?の(?:ご?担当の?)?(?=\S)"
)
_OWN_OPENERS = re.compile(
    r"^(?:(?:私|わたし|わたくし|僕|ぼく|俺|おれ|自分)(?:の(?:お)?名前)?|(?:お)?名前|署名|こちら)(?:は|が|:)\s*"
)
_TITLE_OPENERS = re.compile(r"^(?:案件名|案件|タイトル|件名|仕事名|(?:お)?仕事|依頼名)(?:は|が|:)\s*")
_TITLE_TAILS = ("という案件", "って案件", "という仕事", "って仕事", "という件", "の案件", "のお仕事", "の仕事",
                "の依頼", "の件")  # fmt: skip
_BRACKETS = {"「": "」", "『": "』", '"': '"', "“": "”", "【": "】", "〈": "〉", "《": "》", "(": ")", "[": "]"}
_SENTENCE_MARKS = re.compile(r"[。!?]")
_SENTENCE_ENDINGS = ("ます", "ました", "ません", "ください", "でした", "ですか", "ましょう", "たい", "ない", "けど",
                     "けれど", "ですが", "んですが", "ので", "かな", "かも", "よね")  # fmt: skip
_SEPARATORS = re.compile(r"[、,/\n;]+")
_GREETING = re.compile(r"[。.!、 ]*(?:どうぞ)?よろしく(?:お願い(?:いた)?します|です)?[。.!〜~ ]*$")
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_HANDLE = re.compile(r"^[\u3041-\u3096\u30a1-\u30ffA-Za-z0-9_.\-・ ]{1,16}$")  # 「ヤマダ」「yamada_design」
_HONORED = ("さん", "様", "さま", "くん", "ちゃん")
_JOINS = "と・&や "  # between two people: 「高橋さんと伊藤さん」「田中・鈴木」
_PREDICATES = frozenset({"動詞", "形容詞", "助動詞", "代名詞", "感動詞", "副詞", "連体詞", "接続詞"})
_NAME_ENDINGS = frozenset({"です", "っす", "でーす", "でございます", "だ"})


@dataclass(frozen=True, slots=True)
class Addressed:
    """One addressee: a person (with the company they work for), or a company (or a role) alone."""

    company: str = ""
    person: str = ""
    form: str = "ご担当者様"  # for a company alone: 「ご担当者様」, or the 御中／皆様 the user wrote

    @property
    def line(self) -> str:
        """「山田様」「合同会社ネクスト 木村様」「株式会社ABC ご担当者様」 (a role alone: 「ご担当者様」)."""
        if self.person:
            return f"{self.company} {self.person}様" if self.company else f"{self.person}様"
        return f"{self.company} {self.form}" if self.company else self.form


@dataclass(frozen=True, slots=True)
class Addressee:
    """Who a message is addressed to, as read from what the user typed (empty: it names no one)."""

    entries: tuple[Addressed, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def several(self) -> bool:
        return len(self.entries) > 1

    @property
    def line(self) -> str:
        """The 宛名 as one line: 「高橋様、伊藤様、小林様」; 「合同会社ネクスト 高橋様、伊藤様」; 「皆様」 for many."""
        if len(self.entries) == 1:
            return self.entries[0].line
        companies = {e.company for e in self.entries}
        company = companies.pop() if len(companies) == 1 else ""
        if company and all(e.person for e in self.entries):
            line = f"{company} " + "、".join(f"{e.person}様" for e in self.entries)
        else:
            line = "、".join(e.line for e in self.entries)
        if len(self.entries) > MAX_PEOPLE or len(line) > MAX_LINE:
            return f"{company} 皆様" if company else "皆様"
        return line

    @property
    def lines(self) -> tuple[str, ...]:
        """One 宛名 per person, for one message each (「皆様」 when there are too many to name)."""
        joint = self.line
        return (joint,) if joint.endswith("皆様") and self.several else tuple(e.line for e in self.entries)


def addressee_line(value: str) -> str:
    """The 宛名 for a stored fill-in: a finished line as it is (「合同会社ネクスト 木村様」); otherwise 「山田」 →
    「山田様」 and a company 「株式会社ABC」「ABC社」 → 「… ご担当者様」, never 「ABC社様」."""
    if value.endswith(("様", "御中", "各位", "さま")):
        return value
    return f"{value} ご担当者様" if is_company(value) else f"{value}様"


def stored(addressee: Addressee) -> str:
    """What a session keeps: the name alone when `addressee_line` gives its 宛名 back (「山田」), else the line."""
    if len(addressee.entries) == 1:
        entry = addressee.entries[0]
        plain = entry.person if entry.person and not entry.company else ""
        if not entry.person and entry.company and entry.form == "ご担当者様":
            plain = entry.company
        if plain and addressee_line(plain) == entry.line:
            return plain
    return addressee.line


def split_line(value: str) -> tuple[str, ...]:
    """A stored 宛名 as one line per person: 「合同会社ネクスト 高橋様、伊藤様」 → 「合同会社ネクスト 高橋様」,
    「合同会社ネクスト 伊藤様」; a single addressee is one line."""
    line = addressee_line(value)
    parts = line.split("、")
    if len(parts) < 2 or not all(p.endswith(("様", "御中")) for p in parts):
        return (line,)
    company = parts[0].rsplit(" ", 1)[0] if " " in parts[0] else ""
    return (parts[0], *(p if " " in p or not company else f"{company} {p}" for p in parts[1:]))


def is_company(text: str) -> bool:
    """「株式会社ABC」「ABC社」「山田事務所」 (not 「社本」, not 「相手の会社」)."""
    line = prepare(text)
    return _company_end(line, 0, len(line)) > 0


def prepare(text: str) -> str:
    """The form every reader works on (and the analyzer is given): NFKC, one line, without a closing 。/！
    or 「よろしくお願いします」."""
    line = " ".join(unicodedata.normalize("NFKC", text).split())
    line = _GREETING.sub("", line) or line
    return line.rstrip("。.!?！？〜~ ").strip()


# --- the addressee -------------------------------------------------------------------------------


def read_addressee(
    text: str, tokens: Sequence[Token] | None = None, honorifics: Sequence[str] = (), endings: Sequence[str] = ()
) -> Addressee:
    """Who `text` addresses. `tokens`: the analyzer's tokens of `prepare(text)` (others are not used);
    `honorifics` and `endings`: what comes off a name's end (様, さん… / です, っす…, from the lexicon)."""
    line = prepare(text)
    hints = _Hints(line, tokens)
    tails = _Tails(tuple(honorifics), tuple(endings))
    read = [_read_part(line, start, end, hints, tails) for start, end in _parts(line)]
    names = [r for r in read if r is not None]
    if any(certain for _, certain in names):  # 「えっと、山田です」 without the dictionary: 山田 only
        names = [r for r in names if r[1]]
    elif len(names) < len(read):  # 「たぶん、ABC」: something said around a name no one vouches for
        return Addressee()
    return Addressee(_joined([entry for entries, _ in names for entry in entries]))


@dataclass(frozen=True, slots=True)
class _Tails:
    honorifics: tuple[str, ...]
    endings: tuple[str, ...]

    def strip(self, line: str, start: int, end: int) -> tuple[int, bool, str]:
        """Where line[start:end] ends without what is said after a name: (that end, whether an honorific or
        an ending marked it as a name, the company form said: 御中／皆様／ご担当者様 or 「」)."""
        text, marked, form = line[start:end], False, ""
        endings = sorted((*self.endings, *_CHATTY), key=len, reverse=True)
        honorifics = sorted((h for h in (*self.honorifics, *_TITLES) if h != "御中"), key=len, reverse=True)
        changed = True
        while changed and text not in _ROLES:  # 「ご担当者」 is said whole
            changed = False
            for tail in endings:
                if text.endswith(tail) and len(text) > len(tail):
                    head = text[: -len(tail)].rstrip()
                    if tail == "で" and _HIRAGANA.match(head[-1:]):
                        continue  # 「ひで」 is a name; 「山田で」 is 山田
                    text, changed, marked = head, True, True
                    break
            for group, tails in (("御中", ("御中",)), ("皆様", _GROUP_TAILS), ("ご担当者様", _ROLE_TAILS)):
                if changed:
                    break
                said = next((t for t in tails if text.endswith(t) and len(text) > len(t)), "")
                if said:
                    text, changed, form = text[: -len(said)].rstrip(), True, group
            if changed:
                continue
            honorific = next((h for h in honorifics if text.endswith(h) and len(text) > len(h)), "")
            if honorific:
                text, changed, marked = text[: -len(honorific)].rstrip(), True, True
        return start + len(text), marked, form


class _Hints:
    """What the analyzer's tokens say about positions in the line: particles, people's names, clauses.
    Unusable (no tokens, or tokens of another text): every question is answered no."""

    def __init__(self, line: str, tokens: Sequence[Token] | None) -> None:
        self.usable = tokens is not None and bool(tokens) and "".join(t.surface for t in tokens) == line
        self.spans: list[tuple[int, int, Token]] = []
        at = 0
        for token in tokens if tokens is not None and self.usable else ():
            self.spans.append((at, at + len(token.surface), token))
            at += len(token.surface)

    def inside(self, start: int, end: int) -> list[Token]:
        return [t for a, b, t in self.spans if a >= start and b <= end and t.kind != "空白"]

    def particle_at(self, index: int, surfaces: tuple[str, ...]) -> bool:
        return any(a == index and t.kind == "助詞" and t.surface in surfaces for a, _, t in self.spans)

    def person_inside(self, index: int) -> bool:
        """Is the character at `index` part of a person's name (「大社」 of 「大社さん」)?"""
        return any(a <= index < b and _is_person_token(t) for a, b, t in self.spans)

    def person(self, start: int, end: int) -> bool:
        """Is line[start:end] a person's name by the dictionary (「木村」「山田太郎」)?"""
        inside = self.inside(start, end)
        return bool(inside) and all(_is_person_token(t) for t in inside)

    def family(self, start: int, end: int) -> bool:
        """A person's name that starts with a family name (「田中」「鈴木花子」; 「ジョン」 is a given name)."""
        inside = self.inside(start, end)
        return self.person(start, end) and inside[0].pos[3:4] == ("姓",)

    def clause(self, start: int, end: int) -> bool:
        """Does line[start:end] say something (a verb, 「〜けど」, 「えっと」) rather than name someone?"""
        inside = self.inside(start, end)
        said = [t for t in inside if t.kind in _PREDICATES and t.surface not in _NAME_ENDINGS]
        said += [t for t in inside if t.kind == "助詞" and t.sub in ("接続助詞", "係助詞", "終助詞", "副助詞")]
        return bool(said) and (len(inside) > 1 or said[0].kind in ("代名詞", "感動詞", "接続詞", "副詞"))


def _is_person_token(token: Token) -> bool:
    return token.kind == "名詞" and token.pos[2:3] == ("人名",)


def _parts(line: str) -> list[tuple[int, int]]:
    """Spans between 、 , / ; (not the comma of 「Co., Ltd.」)."""
    spans, at = [], 0
    for match in _SEPARATORS.finditer(line):
        if match.group() == "," and line[: match.start()].lower().rstrip(".").endswith("co"):
            continue
        spans.append((at, match.start()))
        at = match.end()
    spans.append((at, len(line)))
    return [(a, b) for a, b in spans if line[a:b].strip()]


def _read_part(line: str, start: int, end: int, hints: _Hints, tails: _Tails) -> tuple[list[Addressed], bool] | None:
    """The addressees one part names, and whether that is certain (an honorific, a 人名, a company); None:
    the part says something rather than names someone (「3人いるんですけど」)."""
    start, end = _trimmed(line, start, end)
    raw_end = end
    opener = _OPENERS.match(line, start, end)
    if opener and opener.end() < end:
        start = opener.end()
    end, marked, form = tails.strip(line, start, end)
    start, end = _unwrapped(line, start, end)
    body = line[start:end]
    if not body or _SENTENCE_MARKS.search(body) or body.endswith(_SENTENCE_ENDINGS):
        return None
    if body in _ROLES:
        return [Addressed()], True
    company_end = _company_end(line, start, end, hints, marked)
    if company_end:  # a legal form first: its name may hold any word (「特定非営利活動法人ながいなまえの会」)
        return _company_and_people(line, start, company_end, end, hints, form, marked)
    if hints.clause(start, end):  # 「えっと山田です」「3人いるんですけど高橋さん伊藤さん」: the names in it
        named = _from_mentions(hints, start, raw_end)
        return (named, True) if named else _last_person(line, start, end, hints, marked)
    people = _people(line, start, end, hints, marked)
    if people is None:
        return None
    if len(people) == 1 and hints.usable:  # 「ネクストの木村さん」: where the person works, joined by の
        split = _of_person(line, start, end, hints, marked)
        if split is not None:
            return [split], True
    certain = marked or all(hints.person(a, b) for _, a, b in people)
    return [Addressed(person=name) for name, _, _ in people], certain


def _trimmed(line: str, start: int, end: int) -> tuple[int, int]:
    while start < end and line[start].isspace():
        start += 1
    while end > start and line[end - 1].isspace():
        end -= 1
    return start, end


def _unwrapped(line: str, start: int, end: int) -> tuple[int, int]:
    """Without the brackets around the whole (「『山田』」 → 山田)."""
    while end - start >= 2 and _BRACKETS.get(line[start]) == line[end - 1]:
        start, end = _trimmed(line, start + 1, end - 1)
    return start, end


def _company_end(line: str, start: int, end: int, hints: _Hints | None = None, marked: bool = False) -> int:
    """Where a company's name ends in line[start:end] (0: no company): 「株式会社ABC|の木村」「ABC社|の山田さん」."""
    first = _COMPANY_FIRST.match(line, start, end)
    if first:
        at = first.end()
        while at < end and line[at] == " ":  # 「株式会社 ABC」
            at += 1
        run = at
        while run < end and line[run] != " ":
            if line[run] == "の" and run > at:
                if hints is not None and hints.usable:
                    if hints.particle_at(run, ("の",)) and _named_after(line, run + 1, end, hints, marked):
                        break
                elif marked and "の" not in line[run + 1 : end]:  # without tokens: 「…の木村さん」, at the last の
                    break
            run += 1
        return run if run > at else 0
    for match in _COMPANY_AFTER.finditer(line, start, end):
        if match.group() == "社":
            word = line[max(start, match.start() - 1) : match.end()]
            if word in _NOT_COMPANY or match.start() <= start:
                continue
            if hints is not None and hints.person_inside(match.start()):
                continue
        return match.end()
    return 0


def _named_after(line: str, at: int, end: int, hints: _Hints, marked: bool) -> bool:
    """After 「株式会社ABCの」: a person, a department or a role (else the の is part of the company's name, as
    in 「株式会社あしたのチーム」)."""
    stop = _chunk_end(line, at, end, hints)
    chunk = line[at:stop]
    return chunk in _ROLES or bool(_DEPARTMENT.search(chunk)) or hints.person(at, stop) or (stop >= end and marked)


def _honored(text: str) -> bool:
    return text.endswith(_HONORED)


def _company_and_people(
    line: str, start: int, company_end: int, end: int, hints: _Hints, form: str, marked: bool
) -> tuple[list[Addressed], bool]:
    """「株式会社ABC 営業部 山田様」: the company (with its department), then the people named after it."""
    company = _expanded(" ".join(line[start:company_end].split()))
    at = company_end
    while True:  # a department belongs to the company's line: 「株式会社ABC 営業部」
        begin = _past_joint(line, at, end, hints)
        stop = _chunk_end(line, begin, end, hints)
        chunk = line[begin:stop]
        if chunk and _DEPARTMENT.search(chunk) and not hints.person(begin, stop):
            company, at = f"{company} {chunk}", stop
            continue
        at = begin
        break
    form = form or "ご担当者様"
    if at >= end or line[at:end] in _ROLES:
        return [Addressed(company=company, form=form)], True
    whole = Addressed(company=_expanded(" ".join(line[start:end].split())), form=form)
    people = _people(line, at, end, hints, marked)
    if people is None or len(company) > MAX_COMPANY:
        return [whole], True
    # 「株式会社ABC LP制作」 names no one after the company: with the dictionary, a person is a 人名 or a handle
    if hints.usable and not marked and not all(hints.person(a, b) or _HANDLE.match(n) for n, a, b in people):
        return [whole], True
    return [Addressed(company=company, person=name) for name, _, _ in people], True


def _expanded(company: str) -> str:
    """(株)ABC → 株式会社ABC: the short form is not written in a 宛名."""
    for short, full in _SHORT_FORMS.items():
        company = company.replace(short, full)
    return company


def _past_joint(line: str, at: int, end: int, hints: _Hints) -> int:
    """Past the space or の between a company and what follows it."""
    while at < end and line[at] in " ・":
        at += 1
    if at < end and line[at] == "の" and (not hints.usable or hints.particle_at(at, ("の",))):
        at += 1
    while at < end and line[at] == " ":
        at += 1
    return at


def _chunk_end(line: str, at: int, end: int, hints: _Hints) -> int:
    stop = at
    while stop < end and line[stop] != " ":
        if line[stop] == "の" and stop > at and (not hints.usable or hints.particle_at(stop, ("の",))):
            break
        stop += 1
    return stop


def _people(line: str, start: int, end: int, hints: _Hints, marked: bool) -> list[tuple[str, int, int]] | None:
    """The people named in line[start:end], with where each is: 「高橋さんと伊藤さん」「田中・鈴木」 are two,
    「山田 太郎」「さとう」 one. None: not a name."""
    pieces: list[tuple[int, int]] = []
    at = start
    for index in range(start, end):
        if line[index] in _JOINS and index > at and _joins(line, at, index, end, hints, marked):
            pieces.append((at, index))
            at = index + 1
    pieces.append((at, end))
    names = []
    for a, b in pieces:
        a, b = _trimmed(line, a, b)
        name = " ".join(line[a:b].split())
        honorific = next((h for h in _HONORED if name.endswith(h) and len(name) > len(h)), "")
        name = _strip_title(name[: len(name) - len(honorific)])
        if not _plausible_person(name):
            return None
        names.append((name, a, b - len(honorific)))
    return names


def _joins(line: str, at: int, index: int, end: int, hints: _Hints, marked: bool) -> bool:
    """Is line[index] a join between two people (「高橋さん|と|伊藤さん」), not a letter of one name?"""
    left = line[at:index].strip()
    following = index + 1
    while following < end and line[following] not in _JOINS:
        following += 1
    right = line[index + 1 : following].strip()
    if not left or not right:
        return False
    if line[index] in "とや" and hints.usable and not hints.particle_at(index, (line[index],)):
        return False  # 「さとう」
    right_honored = _honored(right) or (following >= end and marked)
    if _honored(left) and right_honored:
        return True
    if line[index] == " " or not hints.usable:
        return False
    return hints.family(at, index) and hints.family(index + 1, following)  # 「田中・鈴木」, not 「ジョン・スミス」


def _of_person(line: str, start: int, end: int, hints: _Hints, marked: bool) -> Addressed | None:
    """「ネクストの木村さん」: an organisation without a legal form and the person, joined by の."""
    for index in range(start + 1, end - 1):
        if line[index] == "の" and hints.particle_at(index, ("の",)):
            organisation = line[start:index].strip()
            if not (hints.person(index + 1, end) or marked) or len(organisation) > MAX_COMPANY:
                return None
            if organisation.isdigit() or organisation in _ROLES:  # 「1の伊藤」「先方の木村さん」
                return None
            if hints.person(start, index) or any(t.kind != "名詞" for t in hints.inside(start, index)):
                return None  # 「山田の佐藤」: not a workplace
            return Addressed(company=organisation, person=_strip_title(line[index + 1 : end].strip()))
    return None


def _last_person(line: str, start: int, end: int, hints: _Hints, marked: bool) -> tuple[list[Addressed], bool] | None:
    """「えっと山田です」: a person's name that ends the clause, marked as a name by its ending."""
    if not marked:
        return None
    names = [(a, b) for a, b, t in hints.spans if start <= a and b <= end and _is_person_token(t)]
    if not names or names[-1][1] != end:
        return None
    first = len(names) - 1
    while first > 0 and names[first - 1][1] == names[first][0]:
        first -= 1
    return [Addressed(person=line[names[first][0] : end])], True


def _strip_title(name: str) -> str:
    for title in _TITLES:
        if name.endswith(title) and len(name) > len(title):
            return name[: -len(title)].rstrip()
    return name


def _plausible_person(name: str) -> bool:
    folded = name.replace(" ", "")
    if not folded or folded.isdigit() or len(name) > MAX_PERSON or _SENTENCE_MARKS.search(folded):
        return False
    if any(h in folded for h in ("さん", "様")):  # 「山田さんか佐藤」: not one name
        return False
    if folded == "社" or folded.endswith(tuple(_NOT_COMPANY)):  # 「相手の会社」「御社」
        return False
    return not folded.endswith(_SENTENCE_ENDINGS)


def _joined(found: list[Addressed]) -> tuple[Addressed, ...]:
    """「株式会社ABC、山田様」: a company first, then people: they work there. The same one twice is once."""
    if (
        len(found) > 1
        and not found[0].person
        and found[0].company
        and all(e.person and not e.company for e in found[1:])
    ):
        found = [Addressed(company=found[0].company, person=e.person) for e in found[1:]]
    unique: list[Addressed] = []
    for entry in found:
        if entry not in unique:
            unique.append(entry)
    return tuple(unique)


def _from_mentions(hints: _Hints, start: int, end: int) -> list[Addressed]:
    """People named with an honorific, and companies with their legal form, inside a sentence."""
    found = []
    for mention in mentions(hints.inside(start, end)):
        if not mention.who or mention.who.isdigit():
            continue
        if is_company(mention.who):
            found.append(Addressed(company=_expanded(mention.who)))
        elif _plausible_person(mention.who):
            found.append(Addressed(company=_expanded(mention.company), person=mention.who))
    return list(_joined(found))


# --- the user's own name and the job title -------------------------------------------------------


def read_own_name(text: str, honorifics: Sequence[str] = (), endings: Sequence[str] = ()) -> str:
    """The user's name for the signature: 「佐藤っす」「私は佐藤です」 → 佐藤 (「」 when nothing is left)."""
    line = prepare(text)
    opener = _OWN_OPENERS.match(line)
    if opener and opener.end() < len(line):
        line = line[opener.end() :]
    end, _, _ = _Tails(tuple(honorifics), tuple(endings)).strip(line, 0, len(line))
    start, end = _unwrapped(line, 0, end)
    return line[start:end]


def read_title(text: str, endings: Sequence[str] = ()) -> str:
    """A job title as the template quotes it: 「「バナー制作」の件」「『LP制作』です」 → バナー制作 / LP制作 (the
    template adds 「」 itself; quotes inside become 『』)."""
    line = prepare(text)
    opener = _TITLE_OPENERS.match(line)
    if opener and opener.end() < len(line):
        line = line[opener.end() :]
    changed = True
    while changed:
        changed = False
        for tail in sorted((*endings, *_TITLE_TAILS, *_CHATTY), key=len, reverse=True):
            if line.endswith(tail) and len(line) > len(tail):
                head = line[: -len(tail)].rstrip()
                if tail == "で" and _HIRAGANA.match(head[-1:]):
                    continue
                line, changed = head, True
                break
        start, end = _unwrapped(line, 0, len(line))
        if (start, end) != (0, len(line)):
            line, changed = line[start:end], True
    return line.replace("「", "『").replace("」", "』")
