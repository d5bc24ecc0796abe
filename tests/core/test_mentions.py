"""Who and what a reply names (bot/core/japanese/mentions.py), with the real SudachiPy tokenizer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.japanese.mentions import Mention, mentions
from bot.language import default_tokenizer

TOKENIZER = default_tokenizer()


def names(text: str) -> list[str]:
    return [m.name for m in mentions(TOKENIZER.tokenize(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1件です。山田さんのLP用の記事3本で、まだ途中です", ["山田様：LP用の記事3本"]),
        (
            "合同会社ネクストの木村さんのバナー制作と、佐藤様のロゴ",
            ["合同会社ネクスト 木村様：バナー制作", "佐藤様：ロゴ"],
        ),
        ("田中さんから依頼されたバナーの仕事", ["田中様：バナー"]),
        ("動画編集の仕事と、ライティングの仕事", ["動画編集", "ライティング"]),
        ("株式会社ABCの案件", ["株式会社ABC"]),
        ("高橋さん、伊藤さん、小林様", ["高橋様", "伊藤様", "小林様"]),
        ("山田さんの案件、キャンセルしてもらえました", ["山田様"]),
    ],
)
def test_people_companies_and_work_are_named_in_the_user_s_words(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "コンペとプロジェクトとタスクが1件ずつ",
        "提案が3件来てます",
        "進行中の案件が2件あります",  # where a job stands is not its name
        "クライアントさんの返事待ち",  # a role, not a name
        "クラウドワークスの契約が1件",  # the platform is not the work
        "まだです",
    ],
)
def test_a_reply_that_names_nothing_gives_no_name(text: str) -> None:
    assert names(text) == []


def test_a_person_keeps_the_company_apart_for_the_addressee() -> None:
    (found,) = mentions(TOKENIZER.tokenize("合同会社ネクストの木村さんのバナー"))
    assert found == Mention(who="木村", company="合同会社ネクスト", what="バナー")


@given(st.text(max_size=60))
def test_any_text_gives_short_names_and_never_fails(text: str) -> None:
    for mention in mentions(TOKENIZER.tokenize(text)):
        assert len(mention.who) <= 16 and len(mention.what) <= 20
