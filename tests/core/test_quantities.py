"""Numbers with counters, parsed without any tokenizer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.japanese.quantities import Quantity, parse_number, parse_quantities

Q = Quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3500円", [Q(3500, "円")]),
        ("３，５００円", [Q(3500, "円")]),
        ("3,500円", [Q(3500, "円")]),
        ("三千五百円", [Q(3500, "円")]),
        ("3.5千円", [Q(3500, "円")]),
        ("1万円", [Q(10000, "円")]),
        ("1万5千円", [Q(15000, "円")]),
        ("約3千円", [Q(3000, "円", approx=True)]),
        ("1件", [Q(1, "件")]),
        ("一件", [Q(1, "件")]),
        ("2人", [Q(2, "人")]),
        ("2名", [Q(2, "人")]),
        ("2時間くらい前", [Q(2, "時間", approx=True, ago=True)]),
        ("２時間ぐらい前に", [Q(2, "時間", approx=True, ago=True)]),
        ("30分前", [Q(30, "分", ago=True)]),
        ("十分前", [Q(10, "分", ago=True)]),
        ("5日前", [Q(5, "日", ago=True)]),
        ("3週間前", [Q(3, "週", ago=True)]),
        ("半年", [Q(6, "か月")]),
        ("半年前", [Q(6, "か月", ago=True)]),
        ("1か月", [Q(1, "か月")]),
        ("1ヶ月", [Q(1, "か月")]),
        ("一ヶ月", [Q(1, "か月")]),
        ("3ｹ月", [Q(3, "か月")]),
        ("2カ月ほど前", [Q(2, "か月", approx=True, ago=True)]),
        ("1年半前", [Q(1.5, "年", ago=True)]),
        ("1時間半", [Q(1.5, "時間")]),
        ("一昨日", [Q(2, "日", ago=True)]),
        ("昨日", [Q(1, "日", ago=True)]),
        ("おととい", [Q(2, "日", ago=True)]),
        ("先週", [Q(1, "週", ago=True)]),
        ("3回", [Q(3, "回")]),
        ("1", [Q(1, None)]),
        ("１２", [Q(12, None)]),
        ("0件", [Q(0, "件")]),
        ("ゼロ件", [Q(0, "件")]),
        ("3500円と2件", [Q(3500, "円"), Q(2, "件")]),
        ("一緒にやります", []),
        ("一応", []),
        ("千葉です", []),
        ("十分です", []),
        ("一時的に", []),
        ("", []),
    ],
)
def test_parse(text: str, expected: list[Quantity]) -> None:
    assert list(parse_quantities(text)) == expected


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("3500", 3500),
        ("3,500", 3500),
        ("三千五百", 3500),
        ("二〇二四", 2024),
        ("3.5千", 3500),
        ("1.5", 1.5),
        ("十", 10),
    ],
)
def test_parse_number(raw: str, value: float) -> None:
    assert parse_number(raw) == value


@given(st.integers(min_value=0, max_value=10**9))
def test_digits_round_trip(n: int) -> None:
    assert parse_quantities(f"{n}円") == (Q(n, "円"),)
    assert parse_quantities(f"{n:,}円") == (Q(n, "円"),)


@given(st.text(max_size=60))
def test_never_raises(text: str) -> None:
    parse_quantities(text)


def test_native_counting_words_in_kana_are_counts() -> None:
    assert [(q.value, q.unit) for q in parse_quantities("あとひとつ")] == [(1, "つ")]
    assert [(q.value, q.unit) for q in parse_quantities("ふたつあります")] == [(2, "つ")]
