"""Several things of a kind (jobs, proposals, requests, contracts): one item each, each with its status."""

from __future__ import annotations

import json

from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.messages import Checklist, ItemStatus, Question, Text
from bot.core.session import Session
from tests.flows.driver import Chat, to_ongoing


def statuses(chat: Chat, prefix: str) -> list[ItemStatus]:
    chat.command("status")
    checklist = next(r for r in chat.last.replies if isinstance(r, Checklist))
    return [item.status for item in checklist.items if item.label.startswith(prefix)]


def add_ongoing(chat: Chat, check: str) -> None:
    chat.tap("仕上げて完了する")
    chat.tap("次へ")
    chat.tap(check)


def test_each_ongoing_job_is_an_item_with_its_own_status(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    add_ongoing(chat, "まだ作業が残っている")
    assert chat.where == "lancers:ongoing_more"
    chat.tap("ある")
    add_ongoing(chat, "相手の返事待ち")
    chat.tap("ない")
    assert chat.where == "lancers:proposal"
    assert statuses(chat, "進行中の仕事") == [ItemStatus.PENDING, ItemStatus.WAITING]


def test_back_undoes_an_added_item_and_its_status(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    add_ongoing(chat, "片づいた")
    chat.tap("ある")  # a second job
    assert chat.session is not None and len(chat.session.items) == 2
    chat.command("back")
    assert chat.where == "lancers:ongoing_more"
    assert chat.session is not None and len(chat.session.items) == 1 and chat.session.current == 0
    chat.command("back")  # the first job's status
    assert chat.session is not None and "status" not in chat.session.items[0].values


def test_the_pending_step_offers_one_button_per_open_item_and_numbers_never_turn_into_start_over(
    engine: Engine,
) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    add_ongoing(chat, "まだ作業が残っている")
    chat.tap("ある")
    add_ongoing(chat, "まだ作業が残っている")
    for answer in ("ない", "ない", "ない", "ない", "ない", "いいえ", "保存した", "いいえ", "次へ", "次へ", "次へ"):
        chat.send(answer)
    assert chat.where == "lancers:pending"
    labels = [o.label for o in chat.question.options]
    assert labels[0] == "あとで続ける" and "進行中1が済んだ" in labels and "進行中2が済んだ" in labels
    chat.tap("進行中1が済んだ")
    assert statuses(chat, "進行中の仕事") == [ItemStatus.DONE, ItemStatus.PENDING]
    chat.send("2")  # the list shrank: 2 is now the other job or the re-check, which asks first
    assert chat.where in ("lancers:procedure", "lancers:recheck_confirm")


def test_restarting_a_platform_s_checks_asks_first_and_clears_its_items(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    add_ongoing(chat, "まだ作業が残っている")
    chat.tap("ない")
    for answer in ("ない", "ない", "ない", "ない", "いいえ", "保存した", "いいえ", "次へ", "次へ", "次へ"):
        chat.send(answer)
    chat.tap("最初から確認し直す")
    assert chat.where == "lancers:recheck_confirm"
    chat.tap("やめる")
    assert chat.where == "lancers:pending"
    chat.tap("最初から確認し直す")
    chat.tap("やり直す")
    assert chat.where == "lancers:role"
    assert chat.session is not None and not chat.session.items
    assert chat.session.answers["lancers"]["decision"] == "leave"


def test_items_are_capped_per_kind(library: Library, engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    cap = library.flows["lancers"].items["ongoing"].max
    for _ in range(cap - 1):
        add_ongoing(chat, "片づいた")
        chat.tap("ある")
    add_ongoing(chat, "片づいた")
    full = chat.tap("ある")
    assert chat.where == "lancers:ongoing_more"
    assert library.texts.items_full.format(label="進行中の仕事", max=str(cap)) in [
        r.text for r in full.replies if isinstance(r, Text)
    ]
    assert chat.session is not None and len(chat.session.items) == cap


def test_a_session_with_ten_items_stays_small(library: Library, engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    for n in range(10):
        chat.tap("キャンセルに同意してもらう")
        chat.tap("作る")
        chat.send("山田")
        chat.send(f"記事作成その{n}")
        if n == 0:
            chat.send("佐藤")
        chat.tap("次へ")
        chat.tap("相手の返事待ち")
        if n < 9:
            chat.tap("ある")
    assert chat.session is not None and len(chat.session.items) == 10
    size = len(json.dumps(chat.session.to_dict(), ensure_ascii=False, separators=(",", ":")).encode())
    assert size < 2048, f"{size} bytes of JSON for ten named jobs"
    assert Session.from_dict(chat.session.to_dict()) == chat.session


def test_the_job_title_names_the_item_in_status(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    chat.tap("キャンセルに同意してもらう")
    chat.tap("作る")
    for value in ("山田", "LP制作", "佐藤"):
        chat.send(value)
    chat.command("status")
    checklist = next(r for r in chat.last.replies if isinstance(r, Checklist))
    assert any("LP制作" in item.label for item in checklist.items)
    assert isinstance(chat.last.replies[-1], Question)
