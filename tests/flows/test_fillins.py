"""Template fill-ins take names and titles only: personal data is refused, never stored or shown back."""

from __future__ import annotations

import json

import pytest

from bot.core.dialogue.engine import Engine
from bot.core.dialogue.fillins import asked
from bot.core.japanese.secrets import looks_personal
from bot.core.library.model import Library
from bot.core.library.templates import LEFT_OUT, TemplateBook
from bot.core.messages import Question, Template, Text
from bot.core.session import Session
from bot.core.turn import Out
from tests.flows.driver import Chat, templates_in, to_fill_ins
from tests.flows.journeys import TO_DECLINE


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
    chat.tap("キャンセルに同意してもらう")
    chat.tap("作る")
    chat.send("前と同じ")
    assert chat.session is not None and chat.session.fields["client_name"] == "山田"
    assert chat.session.filling == "job_title"


def test_the_remembered_name_can_be_changed_on_the_template(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    for value in ("山田", "LP制作", "佐藤"):
        chat.send(value)
    chat.tap("署名を変える")
    assert chat.session is not None and asked(chat.session.filling) == "user_name"
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


# --- how fill-ins are read (docs/flows.md "How fill-ins are read") --------------------------------


def to_decline_fill_ins(engine: Engine) -> Chat:
    """A client declining the proposers of a project (a template sent to each): at the first name question."""
    chat = Chat(engine)
    chat.start()
    for text in TO_DECLINE:
        chat.send(text)
    assert chat.session is not None and chat.session.filling == "client_name", chat.where
    return chat


def filled(engine: Engine, *values: str, chat: Chat | None = None) -> Chat:
    chat = chat or to_fill_ins(engine)
    for value in values:
        chat.send(value)
    return chat


def notes(chat: Chat) -> list[str]:
    return [r.text for r in chat.last.replies if isinstance(r, Text)]


def test_a_company_and_a_person_are_written_company_then_person_sama(library: Library, engine: Engine) -> None:
    chat = filled(engine, "合同会社ネクストの木村")
    assert library.texts.fill_used.format(label="宛名", value="合同会社ネクスト 木村様") in notes(chat)
    filled(engine, "LP制作", "佐藤", chat=chat)
    body = templates_in(chat.turns)[-1].body
    assert body.startswith("合同会社ネクスト 木村様\n") and "ご担当者様" not in body


@pytest.mark.parametrize(
    ("typed", "first_line"),
    [("株式会社ABC 山田様", "株式会社ABC 山田様"), ("ABC社", "ABC社 ご担当者様"), ("ABC社の山田さん", "ABC社 山田様")],
)
def test_a_company_never_takes_sama_after_its_name(engine: Engine, typed: str, first_line: str) -> None:
    chat = filled(engine, typed, "LP制作", "佐藤")
    assert templates_in(chat.turns)[-1].body.split("\n")[0] == first_line


def test_what_was_typed_as_it_is_used_is_not_said_back(library: Library, engine: Engine) -> None:
    chat = filled(engine, "山田さん")
    assert not any(line.startswith(library.texts.fill_used.split("{")[0]) for line in notes(chat))
    chat = filled(engine, "株式会社ABC 山田様")
    assert not any("山田様」にします" in line for line in notes(chat))


def test_several_people_share_one_addressee_line_in_one_message(library: Library, engine: Engine) -> None:
    chat = filled(engine, "高橋さんと伊藤さん")
    assert library.texts.fill_used.format(label="宛名", value="高橋様、伊藤様") in notes(chat)
    filled(engine, "LP制作", "佐藤", chat=chat)
    (template,) = templates_in(chat.turns)
    assert template.body.startswith("高橋様、伊藤様\n")


def test_several_proposers_get_one_message_each(library: Library, engine: Engine) -> None:
    chat = to_decline_fill_ins(engine)
    chat.send("3人いるんですけど、高橋さん、伊藤さん、小林様")
    assert library.texts.fill_each.format(value="高橋様、伊藤様、小林様") in notes(chat)
    filled(engine, "ロゴ制作", "佐藤", chat=chat)
    templates = [r for r in chat.last.replies if isinstance(r, Template)]
    assert [t.body.split("\n")[0] for t in templates] == ["高橋様", "伊藤様", "小林様"]
    assert all("高橋様" in t.title for t in templates[:1]) and len({t.body for t in templates}) == 3
    assert all(t.body.count("様") == templates[0].body.count("様") for t in templates), "only the 宛名 differs"


def test_same_as_before_takes_the_previous_value_and_says_it(library: Library, engine: Engine) -> None:
    chat = to_decline_fill_ins(engine)
    filled(engine, "田中さん", "「バナー制作」の件", "佐藤", chat=chat)
    chat.send("別の方への文面も作る")
    chat.send("伊藤さん")
    chat.send("同じで")
    assert library.texts.fill_used.format(label="案件名", value="バナー制作") in notes(chat)
    assert chat.session is not None and chat.session.fields["job_title"] == "バナー制作"
    assert "「バナー制作」" in templates_in(chat.turns)[-1].body


def test_same_as_before_with_nothing_before_asks_again(library: Library, engine: Engine) -> None:
    chat = filled(engine, "山田", "同じで")
    assert library.texts.fill_no_previous.format(label="案件名") in said(chat)
    assert chat.session is not None and chat.session.filling == "job_title"


def test_a_number_is_the_button_of_that_number_when_the_previous_value_is_offered(engine: Engine) -> None:
    chat = to_decline_fill_ins(engine)
    filled(engine, "田中", "ロゴ制作", "佐藤", chat=chat)
    chat.send("別の方への文面も作る")
    chat.send("伊藤")
    chat.send("1")  # 1. 前と同じ（ロゴ制作）
    assert chat.session is not None and chat.session.fields["job_title"] == "ロゴ制作"
    assert chat.session.filling is None


def test_a_number_with_no_previous_value_is_not_a_name(library: Library, engine: Engine) -> None:
    chat = filled(engine, "1")
    assert library.texts.fill_not_name in said(chat)


@pytest.mark.parametrize("typed", ["「「バナー制作」」", "『バナー制作』", "「バナー制作」の件"])
def test_a_bracketed_title_is_quoted_once(engine: Engine, typed: str) -> None:
    chat = filled(engine, "山田", typed, "佐藤")
    body = templates_in(chat.turns)[-1].body
    assert "「バナー制作」" in body and "「「" not in body and "『" not in body


def test_a_chatty_signature_signs_with_the_name(library: Library, engine: Engine) -> None:
    chat = filled(engine, "山田", "LP制作", "佐藤っす")
    assert library.texts.fill_used.format(label="署名", value="佐藤") in notes(chat)
    body = templates_in(chat.turns)[-1].body
    assert body.rstrip().endswith("\n佐藤") and "佐藤です。" in body and "っす" not in body


@pytest.mark.parametrize("typed", ["名前は入れなくていい", "なしで", "署名なし"])
def test_the_signature_can_be_left_out_with_its_lines(library: Library, engine: Engine, typed: str) -> None:
    chat = filled(engine, "山田", "LP制作", typed)
    assert library.texts.fill_left_out.format(label="署名") in notes(chat)
    body = templates_in(chat.turns)[-1].body
    assert library.templates.placeholder not in body and "\nです。" not in body and "\n\n\n" not in body
    assert body.rstrip().endswith("何卒よろしくお願いいたします。")
    assert library.texts.template_note in notes(chat), "nothing is left to rewrite"
    labels = [o.label for o in chat.question.options]
    assert library.texts.rename_label.format(value=library.texts.left_out_value) in labels


def test_skip_still_leaves_the_signature_to_fill_in(library: Library, engine: Engine) -> None:
    chat = filled(engine, "山田", "LP制作", "スキップ")
    assert templates_in(chat.turns)[-1].body.rstrip().endswith(library.templates.placeholder)


@pytest.mark.parametrize("how", ["tap", "type"])
def test_the_addressee_can_be_changed_on_the_template(library: Library, engine: Engine, how: str) -> None:
    chat = filled(engine, "山田", "LP制作", "佐藤")
    assert library.texts.readdress_label.format(value="山田様") in [o.label for o in chat.question.options]
    if how == "tap":
        chat.tap("宛名を変える")
    else:
        chat.send("宛名を変える")
    assert chat.session is not None and asked(chat.session.filling) == "client_name"
    chat.send("合同会社ネクストの木村")
    assert chat.session is not None and chat.session.filling is None, "the title is not asked again"
    body = templates_in(chat.turns)[-1].body
    assert body.startswith("合同会社ネクスト 木村様\n") and "「LP制作」" in body and body.rstrip().endswith("佐藤")


def test_every_client_message_offers_to_change_the_addressee(library: Library, engine: Engine) -> None:
    fields = {"client_name": "山田", "job_title": "LP制作", "user_name": "佐藤"}
    label = library.texts.readdress_label.format(value="山田様")
    for flow in library.flows.values():
        for state in flow.states.values():
            if not state.template or engine.book.addressee_field(state.template) is None:
                continue
            out = Out(now=0)
            engine.present.show(Session(flow=flow.name, state=state.name, fields=fields), out, full=True)
            question = out.replies[-1]
            assert isinstance(question, Question) and label in [o.label for o in question.options], state.key


def test_a_field_that_may_be_left_out_sits_on_lines_of_its_own(library: Library) -> None:
    """So leaving the signature out removes whole lines (「{user_name}です。」, the signature), never half a
    sentence: a template body that used it mid-sentence would fail here."""
    book = TemplateBook(library.templates)
    omittable = [name for name, spec in library.templates.fields.items() if spec.omit]
    assert omittable
    for name, template in library.templates.templates.items():
        for line in template.body.splitlines():
            for field in omittable:
                if f"{{{field}}}" in line:
                    rest = line.replace(f"{{{field}}}", "").strip()
                    assert rest in ("", "です。", "と申します。"), f"{name}: {line!r}"
        values = {f: LEFT_OUT if f in omittable else "山田" for f in library.templates.fields}
        for rendered in book.render_all(name, values):
            assert LEFT_OUT not in rendered.body.split("\n") and "\n\n\n" not in rendered.body, name


def test_the_change_buttons_can_be_typed_by_number(engine: Engine) -> None:
    chat = filled(engine, "山田", "LP制作", "佐藤")
    labels = [o.label for o in chat.question.options]
    chat.send(str(labels.index(next(label for label in labels if label.startswith("宛名を変える"))) + 1))
    assert chat.session is not None and asked(chat.session.filling) == "client_name"


def test_change_buttons_stay_within_line_s_20_characters(engine: Engine) -> None:
    chat = filled(
        engine, "特定非営利活動法人ながいなまえの会 事業部 山田太郎様", "とても長い案件の名前がここに入ります", "佐藤"
    )
    assert all(len(o.label) <= 20 for o in chat.question.options), [o.label for o in chat.question.options]


def test_back_among_the_fill_ins_asks_the_field_before(engine: Engine, library: Library) -> None:
    """戻る at the signature goes back to the job title, not past the whole message (「ひとつ前の質問」)."""
    chat = to_fill_ins(engine)
    chat.send("山田")
    chat.send("LP制作")
    assert chat.session is not None and asked(chat.session.filling) == "user_name"
    turn = chat.send("戻る")
    assert chat.session is not None and asked(chat.session.filling) == "job_title"
    assert Text(library.texts.back_done) in turn.replies
    chat.send("バナー制作")
    (template,) = templates_in([chat.send("佐藤")])
    assert "「バナー制作」" in template.body and chat.session.filling is None
