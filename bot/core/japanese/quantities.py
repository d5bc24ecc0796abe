"""Numbers with counters in a reply: 「3,500円」「三千五百円」「3.5千円」「2時間くらい前」「半年」「昨日」.

Pure regex plus a small 漢数字 parser, so it costs microseconds and needs no tokenizer. Kanji-only
numbers count only with a counter after them (「一緒」「一応」「千葉」 are words, not numbers), and
arithmetic is done in Decimal so 「3.5千」 is exactly 3500.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}

_ARABIC = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?"
_KANJI = "[〇零一二三四五六七八九十百千万億兆]"
_NUMBER = re.compile(rf"ゼロ|(?:{_ARABIC}|{_KANJI})(?:{_ARABIC}|{_KANJI})*")
_UNIT = re.compile(
    r"\s?(?P<unit>円|件|人|名|時間|時|日間|日|分間|分|秒|週間|週|[かヶヵカケ箇个]月|月|年間|年|回|個|つ|社|%|パーセント)"
    r"(?P<half>半)?"
)
_APPROX_AFTER = re.compile(r"\s?(?:くらい|ぐらい|位|ほど|程|前後|弱|強|ちょっと|ちょい|近く|余り|あまり)")
_APPROX_BEFORE = re.compile(r"(?:約|およそ|大体|だいたい|ほぼ|ざっと|大凡)\s?$")
_AGO = re.compile(r"\s?前")
_UNIT_NAMES = {"名": "人", "時間": "時間", "日間": "日", "分間": "分", "週間": "週", "年間": "年", "パーセント": "%"}
# Relative expressions with no digits, longest first so 「一昨日」 is not read as 「昨日」.
_RELATIVE: tuple[tuple[str, int | float, str], ...] = (
    ("一昨年", 2, "年"),
    ("一昨日", 2, "日"),
    ("おととい", 2, "日"),
    ("おとつい", 2, "日"),
    ("昨年", 1, "年"),
    ("去年", 1, "年"),
    ("昨日", 1, "日"),
    ("きのう", 1, "日"),
    ("今日", 0, "日"),
    ("先週", 1, "週"),
    ("先月", 1, "か月"),
)
# Native counting words in kana (「ひとつ」「ふたつ」): a number of things (「一つ」 is read as 一 + つ below).
_NATIVE = {"ひとつ": 1, "ふたつ": 2, "みっつ": 3, "よっつ": 4, "いつつ": 5}
_NATIVE_WORD = re.compile(f"(?:{'|'.join(_NATIVE)})(?![きめ])")  # not 「ひとつき」 (a month), 「ひとつめ」 (first)
_HALF = re.compile(r"半(?P<unit>年|日|月)")
_HALF_VALUES: dict[str, tuple[int | float, str]] = {"年": (6, "か月"), "日": (0.5, "日"), "月": (0.5, "か月")}


@dataclass(frozen=True, slots=True)
class Quantity:
    """One number in a reply, with its counter (None for a bare number) and how it was qualified."""

    value: int | float
    unit: str | None  # 円 件 人 時間 時 日 分 秒 週 か月 月 年 回 個 つ 社 %
    approx: bool = False  # 「くらい」「約」「ほど」
    ago: bool = False  # 「前」「昨日」: a point in the past, counted back from now


def parse_number(text: str) -> int | float | None:
    """「3,500」「三千五百」「3.5千」「1万5000」「二〇二四」 → the value; None when it is not a number."""
    if text == "ゼロ":
        return 0
    total = Decimal(0)
    section = Decimal(0)
    current: Decimal | None = None
    for part in re.findall(rf"{_ARABIC}|.", text.replace(",", "") if re.search(r"\d,\d", text) else text):
        if part in _KANJI_DIGITS:
            current = (current or Decimal(0)) * 10 + _KANJI_DIGITS[part]
        elif part in _SMALL_UNITS:
            section += (Decimal(1) if current is None else current) * _SMALL_UNITS[part]
            current = None
        elif part in _BIG_UNITS:
            section += current or Decimal(0)
            total += (section or Decimal(1)) * _BIG_UNITS[part]
            section, current = Decimal(0), None
        else:
            try:
                current = Decimal(part)
            except InvalidOperation:
                return None
    value = total + section + (current or Decimal(0))
    return int(value) if value == value.to_integral_value() else float(value)


def _unit_name(raw: str) -> str:
    if raw.endswith("月") and len(raw) == 2:
        return "か月"
    return _UNIT_NAMES.get(raw, raw)


def _qualifiers(text: str, start: int, end: int) -> tuple[bool, bool, int]:
    """Approximation before or after the number and 「前」 after it; returns (approx, ago, new end)."""
    approx = bool(_APPROX_BEFORE.search(text, max(0, start - 5), start))
    after = _APPROX_AFTER.match(text, end)
    if after:
        approx, end = True, after.end()
    ago = _AGO.match(text, end)
    if ago and not text.startswith("前後", ago.start()):
        return approx, True, ago.end()
    return approx, False, end


def _read_number(text: str, match: re.Match[str]) -> Quantity | None:
    """The number at `match` with its counter and qualifiers; None for words like 「一緒」「十分」."""
    raw = match.group()
    unit_match = _UNIT.match(text, match.end())
    kanji_only = raw != "ゼロ" and not any(ch.isdigit() for ch in raw)
    if kanji_only and (unit_match is None or unit_match.group("unit") == "時"):
        return None  # 「一緒」「千葉」「一時的」: a word, not a number
    if (
        raw == "十"
        and unit_match
        and unit_match.group("unit") == "分"
        and not re.match(r"\s?(?:前|ほど|くらい|ぐらい|程|後)", text[unit_match.end() :])
    ):
        return None  # 「十分です」 means "enough"
    value = parse_number(raw)
    if value is None:
        return None
    unit: str | None = None
    end = match.end()
    if unit_match:
        unit, end = _unit_name(unit_match.group("unit")), unit_match.end()
        if unit_match.group("half"):
            value = float(Decimal(str(value)) + Decimal("0.5"))
    approx, ago, _ = _qualifiers(text, match.start(), end)
    return Quantity(value, unit, approx, ago)


def parse_quantities(text: str) -> tuple[Quantity, ...]:
    """Every number in the text, in order, with its counter; works on raw or NFKC text alike."""
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, Quantity]] = []
    masked = text
    for word, value, unit in _RELATIVE:
        for match in re.finditer(word, masked):
            found.append((match.start(), Quantity(value, unit, ago=True)))
            masked = masked[: match.start()] + " " * len(word) + masked[match.end() :]
    for match in _NATIVE_WORD.finditer(masked):
        approx, ago, _ = _qualifiers(masked, match.start(), match.end())
        found.append((match.start(), Quantity(_NATIVE[match.group()], "つ", approx, ago)))
    for match in _HALF.finditer(masked):
        if match.start() > 0 and re.match(rf"{_KANJI}|\d", masked[match.start() - 1]):
            continue  # 「1年半」: read with its number below
        value, unit = _HALF_VALUES[match.group("unit")]
        approx, ago, _ = _qualifiers(masked, match.start(), match.end())
        found.append((match.start(), Quantity(value, unit, approx, ago)))
    for match in _NUMBER.finditer(masked):
        quantity = _read_number(masked, match)
        if quantity is not None:
            found.append((match.start(), quantity))
    found.sort(key=lambda item: item[0])
    return tuple(quantity for _, quantity in found)
