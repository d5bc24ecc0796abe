"""How a typed fill-in is read (bot/core/japanese/addressee.py), with the real SudachiPy tokenizer and the
lexicon's honorifics and endings: who a message is addressed to (X-MSG-STRUCTURE), the user's own name, a title."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.japanese.addressee import (
    MAX_LINE,
    Addressee,
    addressee_line,
    is_company,
    prepare,
    read_addressee,
    read_own_name,
    read_title,
    split_line,
    stored,
)
from bot.core.library.load import load_library
from bot.language import analyze_text

LEXICON = load_library(Path(__file__).resolve().parents[2] / "flows").lexicon
HONORIFICS, ENDINGS = LEXICON.fill_suffixes, LEXICON.fill_endings


def read(text: str, tokens: bool = True) -> Addressee:
    line = prepare(text)
    analysis = analyze_text(line) if tokens and line else None
    return read_addressee(text, analysis.tokens if analysis is not None else None, HONORIFICS, ENDINGS)


def line(text: str) -> str:
    return read(text).line


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # a person takes 様, whatever honorific or ending was typed
        ("山田", "山田様"),
        ("山田さん", "山田様"),
        ("山田様", "山田様"),
        ("山田です", "山田様"),
        ("山田でーす", "山田様"),
        ("相手は山田さんです", "山田様"),
        ("えっと、山田です", "山田様"),
        ("木村社長", "木村様"),  # the title stands for the honorific: not 「木村社長様」
        ("山田太郎", "山田太郎様"),  # a full name is one person
        ("山田 太郎", "山田 太郎様"),
        ("ジョン・スミス", "ジョン・スミス様"),  # a given name and a family name: one person
        ("さとう", "さとう様"),  # the と inside a name is no 「and」
        ("ひでさん", "ひで様"),  # a name ending in で keeps it
        ("社本さん", "社本様"),  # 社 starts the surname: no company
        ("大社さん", "大社様"),  # a surname ending in 社: the dictionary knows it as a person's
        # a company takes ご担当者様 (or the 御中 the user wrote), never 様 after its name
        ("株式会社ABC", "株式会社ABC ご担当者様"),
        ("ABC株式会社", "ABC株式会社 ご担当者様"),
        ("ABC社", "ABC社 ご担当者様"),
        ("ABC社様", "ABC社 ご担当者様"),
        ("サイバー社", "サイバー社 ご担当者様"),
        ("合同会社ネクスト", "合同会社ネクスト ご担当者様"),
        ("(株)ABC", "株式会社ABC ご担当者様"),  # the short form is written out
        ("㈱ABC", "株式会社ABC ご担当者様"),
        ("株式会社ABC 御中", "株式会社ABC 御中"),
        ("株式会社ABC ご担当者様", "株式会社ABC ご担当者様"),
        ("株式会社ABCの皆様", "株式会社ABC 皆様"),
        ("株式会社山の手", "株式会社山の手 ご担当者様"),  # の inside the company's name: not a person after it
        ("ABC Co., Ltd.", "ABC Co., Ltd ご担当者様"),
        ("クライアント", "ご担当者様"),  # a role, not a name
        # a company and a person: 「会社名 名前様」
        ("合同会社ネクストの木村", "合同会社ネクスト 木村様"),
        ("株式会社ABC 山田様", "株式会社ABC 山田様"),
        ("ABC社の山田さん", "ABC社 山田様"),
        ("株式会社ABC、山田様", "株式会社ABC 山田様"),
        ("株式会社ABC 営業部 山田様", "株式会社ABC 営業部 山田様"),
        ("株式会社ABC営業部の山田さん", "株式会社ABC営業部 山田様"),
        ("ネクストの木村さん", "ネクスト 木村様"),
        # several people: one 様 each
        ("3人いるんですけど、高橋さん、伊藤さん、小林様", "高橋様、伊藤様、小林様"),
        ("3人いるんですけど高橋さん伊藤さん小林様", "高橋様、伊藤様、小林様"),
        ("高橋さんと伊藤さん", "高橋様、伊藤様"),
        ("高橋と伊藤", "高橋様、伊藤様"),
        ("田中・鈴木", "田中様、鈴木様"),
        ("高橋さん 伊藤さん", "高橋様、伊藤様"),
        ("合同会社ネクストの高橋さんと伊藤さん", "合同会社ネクスト 高橋様、伊藤様"),
    ],
)
def test_the_addressee_is_written_as_x_msg_structure_writes_it(typed: str, expected: str) -> None:
    assert line(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["名前は言いたくないです。", "12345", "相手の名前がわかりません", "ちょっと待ってください", "相手の会社", ""],
)
def test_a_sentence_or_digits_names_no_one(typed: str) -> None:
    assert not read(typed)


def test_several_people_are_one_line_each_for_one_message_each() -> None:
    several = read("3人いるんですけど、高橋さん、伊藤さん、小林様")
    assert several.several and several.lines == ("高橋様", "伊藤様", "小林様")
    colleagues = read("合同会社ネクストの高橋さんと伊藤さん")
    assert colleagues.lines == ("合同会社ネクスト 高橋様", "合同会社ネクスト 伊藤様")


def test_many_people_are_minasama() -> None:
    many = read("高橋さん、伊藤さん、小林さん、渡辺さん、山本さん、中村さん")
    assert many.line == "皆様" and many.lines == ("皆様",)


@pytest.mark.parametrize(
    "typed",
    ["山田", "株式会社ABC", "ABC社", "大社さん", "合同会社ネクストの木村", "高橋さんと伊藤さん",
     "合同会社ネクストの高橋さんと伊藤さん", "株式会社ABC 御中", "クライアント"],
)  # fmt: skip
def test_what_a_session_keeps_renders_back_to_the_same_addressee(typed: str) -> None:
    addressee = read(typed)
    kept = stored(addressee)
    assert addressee_line(kept) == addressee.line and len(kept) <= MAX_LINE
    assert split_line(kept) == addressee.lines


def test_a_plain_name_is_kept_without_the_honorific_the_template_adds() -> None:
    assert stored(read("山田さん")) == "山田" and stored(read("株式会社ABC")) == "株式会社ABC"
    assert stored(read("大社さん")) == "大社様", "大社 alone would render as a company"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("合同会社ネクストの木村", "合同会社ネクストの木村 ご担当者様"), ("株式会社山の手", "株式会社山の手 ご担当者様")],
)
def test_without_the_analyzer_the_reader_splits_nothing_it_cannot_be_sure_of(typed: str, expected: str) -> None:
    assert read(typed, tokens=False).line == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("山田", "山田様"),
        ("株式会社ABC", "株式会社ABC ご担当者様"),
        ("ABC社", "ABC社 ご担当者様"),
        ("社本", "社本様"),
        ("合同会社ネクスト 木村様", "合同会社ネクスト 木村様"),
        ("株式会社ABC 御中", "株式会社ABC 御中"),
    ],
)
def test_a_stored_value_renders_as_an_addressee(value: str, expected: str) -> None:
    assert addressee_line(value) == expected


def test_company_names() -> None:
    assert all(is_company(n) for n in ("株式会社ABC", "ABC社", "山田事務所", "(株)ABC", "ABC Inc."))
    assert not any(is_company(n) for n in ("社本", "山田", "相手の会社", "御社"))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("佐藤っす", "佐藤"),
        ("佐藤です", "佐藤"),
        ("佐藤でーす", "佐藤"),
        ("佐藤と申します", "佐藤"),
        ("私は佐藤です", "佐藤"),
        ("佐藤です！", "佐藤"),
        ("山本 太郎です", "山本 太郎"),
        ("株式会社ABCの佐藤です", "株式会社ABCの佐藤"),
    ],
)
def test_the_user_s_own_name_loses_what_was_said_around_it(typed: str, expected: str) -> None:
    assert read_own_name(typed, HONORIFICS, ENDINGS) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("「「バナー制作」」", "バナー制作"),
        ("『バナー制作』", "バナー制作"),
        ("「バナー制作」の件", "バナー制作"),
        ("案件名は「LP制作」です", "LP制作"),
        ("LP制作の案件", "LP制作"),
        ("「A」と「B」の記事", "『A』と『B』の記事"),  # quotes inside the template's 「」 become 『』
        ("LP制作", "LP制作"),
    ],
)
def test_a_title_loses_the_brackets_the_template_adds(typed: str, expected: str) -> None:
    assert read_title(typed, ENDINGS) == expected


@given(st.text(max_size=40))
def test_any_text_gives_an_addressee_that_follows_x_msg_structure(text: str) -> None:
    addressee = read(text)
    for one in (addressee.line, *addressee.lines) if addressee else ():
        assert one.endswith(("様", "御中")) and "様様" not in one and len(addressee.line) <= MAX_LINE
        assert not any(part.endswith("社様") for part in one.split("、")), "never 様 after a company name"
