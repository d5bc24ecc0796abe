"""Free-text understanding: width, kana, punctuation, polite endings, numbers, yes/no, labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.japanese.normalize import normalize
from bot.core.library.vocabulary import Vocabulary, candidate
from bot.core.understanding.matching import match_choice

VOCAB = Vocabulary.build(
    yes=["はい", "うん", "ある", "あります"],
    no=["いいえ", "ない", "ありません", "まだ"],
    commands={"back": ["戻る"], "help": ["ヘルプ"]},
)
CHOICES = [
    candidate("yes", "ある", ["あります"], "yes"),
    candidate("no", "ない", ["なし"], "no"),
]
MENU = [
    candidate("lancers", "ランサーズ", ["lancers"], None),
    candidate("crowdworks", "クラウドワークス", ["cw", "クラワ"], None),
    candidate("both", "両方（順番に）", ["両方", "どっちも"], None),
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ハイ", "はい"),
        ("はい。", "はい"),
        ("ﾊｲ", "はい"),
        ("はいです", "はい"),
        ("　はい　", "はい"),
        ("１", "1"),
        ("ＯＫ！", "ok"),
        ("うん👍", "うん"),
        ("ランサーズです", "らんさーず"),
    ],
)
def test_normalize_folds_variants(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("はい", "yes"),
        ("うん", "yes"),
        ("ある", "yes"),
        ("１", "yes"),
        ("1", "yes"),
        ("2", "no"),
        ("ない", "no"),
        ("いいえ", "no"),
        ("ナイ", "no"),
        ("なし", "no"),
        ("はい、あります", "yes"),
        ("まだです", "no"),
    ],
)
def test_yes_no_answers(raw: str, expected: str) -> None:
    assert match_choice(normalize(raw), CHOICES, VOCAB) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ランサーズ", "lancers"),
        ("らんさーず", "lancers"),
        ("Lancers", "lancers"),
        ("クラワ", "crowdworks"),
        ("両方", "both"),
        ("どっちも", "both"),
        ("3", "both"),
        ("３", "both"),
        ("ランサーズです", "lancers"),
        ("クラウドワークスをやめたい", "crowdworks"),
    ],
)
def test_labels_aliases_numbers_and_partial_text(raw: str, expected: str) -> None:
    assert match_choice(normalize(raw), MENU, VOCAB) == expected


@pytest.mark.parametrize("raw", ["", "4", "0", "ランサーズとクラウドワークス", "🙂", "さあ"])
def test_unknown_or_ambiguous_input_matches_nothing(raw: str) -> None:
    assert match_choice(normalize(raw), MENU, VOCAB) is None


def test_commands_are_recognised_after_normalisation() -> None:
    assert VOCAB.command(normalize("もどる")) is None  # only listed words
    assert VOCAB.command(normalize("戻る。")) == "back"
    assert VOCAB.command(normalize("ﾍﾙﾌﾟ")) == "help"


@given(st.text(max_size=300))
def test_normalize_and_match_never_raise(text: str) -> None:
    normalized = normalize(text)
    assert normalize(normalized) == normalized or isinstance(normalized, str)
    match_choice(normalized, MENU, VOCAB)
    match_choice(normalized, CHOICES, VOCAB)
