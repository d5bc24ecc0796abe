"""Template fill-ins take names and titles only: personal data is refused, never stored or shown back."""

from __future__ import annotations

import json

import pytest

from bot.core.dialogue.engine import Engine
from bot.core.japanese.secrets import looks_personal
from bot.core.library.model import Library
from bot.core.messages import Question, Template, Text
from tests.flows.driver import Chat, templates_in, to_fill_ins


def said(chat: Chat) -> list[str]:
    return [r.text for r in chat.last.replies if isinstance(r, Text | Question)]


@pytest.mark.parametrize(
    "typed",
    [
        "yamada@example.com",
        "連絡は taro.y@mail.co.jp まで",
        "090-1234-5678",
        "０９０１２３４５６７８",
        "4111 1111 1111 1111",
    ],
)
def test_personal_data_is_refused_and_neither_stored_nor_echoed(library: Library, engine: Engine, typed: str) -> None:
    chat = to_fill_ins(engine)
    chat.send(typed)
    assert library.texts.fill_personal in said(chat)
    assert chat.session is not None and chat.session.filling == "client_name"
    stored = json.dumps(chat.session.to_dict(), ensure_ascii=False)
    assert typed not in stored and not any(typed in text for text in said(chat))


@pytest.mark.parametrize(
    "typed", ["名前は言いたくないです。", "12345", "相手の名前がわかりません", "ちょっと待ってください"]
)
def test_a_sentence_or_digits_is_not_used_as_a_name(library: Library, engine: Engine, typed: str) -> None:
    chat = to_fill_ins(engine)
    chat.send(typed)
    assert library.texts.fill_not_name in said(chat)
    assert chat.session is not None and "client_name" not in chat.session.fields


@pytest.mark.parametrize("typed", ["なし", "名前なしで", "スキップ"])
def test_none_words_skip_the_name(engine: Engine, typed: str) -> None:
    chat = to_fill_ins(engine)
    chat.send(typed)
    assert chat.session is not None and chat.session.fields.get("client_name") == ""
    assert chat.session.filling == "job_title"


def test_previous_value_can_be_typed_as_the_keep_button_s_prefix(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    for value in ("山田", "LP制作", "佐藤"):
        chat.send(value)
    chat.tap("次へ")
    chat.tap("相手の返事待ち")
    chat.tap("ある")
    chat.tap("キャンセルをお願いする")
    chat.tap("作る")
    chat.send("前と同じ")
    assert chat.session is not None and chat.session.fields["client_name"] == "山田"
    assert chat.session.filling == "job_title"


def test_the_remembered_name_can_be_changed_on_the_template(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    for value in ("山田", "LP制作", "佐藤"):
        chat.send(value)
    chat.tap("署名を変える")
    assert chat.session is not None and chat.session.filling == "user_name"
    chat.send("鈴木")
    body = templates_in(chat.turns)[-1].body
    assert body.rstrip().endswith("鈴木") and "佐藤" not in body


def test_a_company_gets_gotantousha_sama(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    for value in ("株式会社ABC", "LP制作", "佐藤"):
        chat.send(value)
    template = next(r for r in chat.last.replies if isinstance(r, Template))
    assert template.body.startswith("株式会社ABC ご担当者様")


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("山田", False),
        ("株式会社ABC", False),
        ("LP制作 2024", False),
        ("a@b.jp", True),
        ("03-1234-5678", True),
        ("4111111111111111", True),
        ("4111111111111112", False),  # not a card number (Luhn)
    ],
)
def test_personal_data_detection(text: str, personal: bool) -> None:
    assert looks_personal(text) is personal
