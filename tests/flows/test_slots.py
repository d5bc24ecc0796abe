"""Slot filling (issue 20): what a reply says beyond its question is kept, confirmed when the flow gets
there, never asked again; counts make that many items, named in the user's words."""

from __future__ import annotations

from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.messages import Checklist, TurnOutcome
from bot.core.session import Session
from bot.evaluation import situation
from tests.flows.driver import Chat, texts_in


def at(where: str, engine: Engine, role: str = "both") -> Chat:
    session = situation(where)
    if role != "both":
        flow = where.partition(":")[0]
        session = session.but(answers={flow: {"decision": "leave", "role": role}})
    return Chat(engine, session=session, now=session.updated)


def asked(chat: Chat) -> list[str]:
    """Every state the user was left at to answer, in order."""
    return [f"{t.session.flow}:{t.session.state}" for t in chat.turns if t.session is not None]


def names(chat: Chat, kind: str) -> list[str]:
    assert chat.session is not None
    return [item.values.get("name", "") for _, item in chat.session.items_of("lancers", kind)]


def test_a_count_makes_that_many_items_named_as_said_and_more_is_not_asked(engine: Engine, library: Library) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("2件です。山田さんのLP用の記事3本と、佐藤様のロゴです")
    assert chat.where == "lancers:ongoing_fix" and names(chat, "ongoing") == ["山田様：LP用の記事3本"]
    chat.tap("仕上げて")
    chat.tap("次へ")
    turn = chat.tap("片づいた")
    label = library.flows["lancers"].items["ongoing"].label
    said = library.texts.heard_next.format(number="2", label=label, name="「佐藤様：ロゴ」")
    assert said in texts_in(turn) and chat.where == "lancers:ongoing_fix", "the second job, not 「ほかにも」"
    assert names(chat, "ongoing") == ["山田様：LP用の記事3本", "佐藤様：ロゴ"]
    chat.tap("仕上げて")
    chat.tap("次へ")
    turn = chat.tap("片づいた")
    assert library.texts.heard_all.format(label=label, count="2") in texts_in(turn)
    assert chat.where == "lancers:proposal" and "lancers:ongoing_more" not in asked(chat)


def test_back_after_a_heard_answer_asks_that_question_after_all(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("1件あります")
    chat.tap("仕上げて")
    chat.tap("次へ")
    chat.tap("片づいた")
    assert chat.where == "lancers:proposal"
    chat.send("戻る")
    assert chat.where == "lancers:ongoing_more", "the confirmed 「ない」 is undone"
    chat.tap("ある")
    assert chat.session is not None and len(chat.session.items_of("lancers", "ongoing")) == 2


def test_the_time_since_proposing_is_heard_with_the_proposal(engine: Engine, library: Library) -> None:
    chat = at("lancers:proposal", engine, role="worker")
    turn = chat.send("2時間前くらいに1件提案しました")
    over = next(c for c in library.flows["lancers"].states["proposal_age"].choices if c.id == "over")
    assert library.texts.heard.format(label=over.label) in texts_in(turn)
    assert "lancers:proposal_age" not in asked(chat) and chat.where == "lancers:proposal_ask"


def test_three_kinds_of_requests_said_at_once_are_three_items_each_of_its_kind(engine: Engine) -> None:
    chat = at("lancers:requesting", engine, role="client")
    chat.send("コンペとプロジェクトとタスクが1件ずつあります")
    assert chat.where == "lancers:compe_status", "the first request's format was heard"
    chat.tap("募集期間中")
    chat.tap("いない")
    chat.tap("返事待ち")
    assert chat.where == "lancers:project_status", "the second is the project, not 「ほかにも」"
    chat.tap("募集期間中")
    chat.tap("いない")
    chat.tap("返事待ち")
    assert chat.where == "lancers:task_works"
    assert chat.session is not None
    notes = [item.values.get("note") for _, item in chat.session.items_of("lancers", "request")]
    assert notes == ["コンペ", "プロジェクト", "タスク"], "each item has the kind said for it, in order"
    assert "lancers:request_format" not in asked(chat) and "lancers:request_more" not in asked(chat)


def test_the_role_said_at_the_menu_is_not_asked_again(engine: Engine, library: Library) -> None:
    chat = after_opening(engine, "ランサーズを退会したいです。発注側のアカウントです")
    turn = chat.last
    client = next(c for c in library.flows["lancers"].states["role"].choices if c.id == "client")
    assert library.texts.heard.format(label=client.label) in texts_in(turn)
    assert chat.where == "lancers:requesting"
    assert chat.session is not None and chat.session.answers["lancers"]["role"] == "client"


def after_opening(engine: Engine, opening: str) -> Chat:
    """A user who opens with `opening` at the menu, then taps through the reason and the decision."""
    chat = Chat(engine)
    chat.start()
    chat.send(opening)
    chat.tap("もう使わない")
    chat.tap("退会の準備を進める")
    return chat


def test_two_roles_in_one_reply_hear_neither(engine: Engine) -> None:
    chat = after_opening(engine, "ランサーズ退会希望です。受注者です。クライアントから返事がない案件があります")
    assert chat.where == "lancers:ongoing", "受注者 was heard; クライアント names the client, not the user"
    chat = after_opening(engine, "ランサーズを退会したいです。受注者でもあり発注者でもあります")
    assert chat.where == "lancers:role", "two roles said: which one is meant is asked, not guessed"


def test_the_login_method_said_at_the_menu_is_not_asked(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    chat.send("クラウドワークスを退会したいです。Facebookでログインしてます")
    for _ in range(3):
        if chat.where == "crowdworks:login_method":
            break
        if len(chat.question.options) == 1:
            chat.tap(chat.question.options[0].label)
        elif chat.where == "crowdworks:reregister":
            chat.tap("退会の準備")
        else:
            break
    assert "crowdworks:login_method" not in asked(chat)
    assert chat.session is not None and chat.session.answers["crowdworks"].get("login") == "facebook"


def test_going_back_before_the_reply_forgets_what_it_said(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("2件です。山田さんのLPと佐藤さんのロゴ")
    assert chat.session is not None and chat.session.heard
    chat.send("戻る")
    assert chat.where == "lancers:ongoing" and chat.session is not None
    assert not chat.session.heard and not chat.session.items
    chat.tap("ある")
    chat.tap("仕上げて")
    chat.tap("次へ")
    chat.tap("片づいた")
    assert chat.where == "lancers:ongoing_more", "nothing was said this time: asked"


def test_items_named_from_replies_show_in_the_checklist_and_on_their_buttons(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("1件です。山田さんのLP記事で、まだ途中です")
    status = chat.command("status").replies
    checklist = next(r for r in status if isinstance(r, Checklist))
    assert any("山田様：LP記事" in line.label for line in checklist.items)


def test_the_client_named_for_an_item_is_offered_as_the_addressee(engine: Engine, library: Library) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("1件あります。株式会社ミライの佐々木さんのSEO記事です")
    chat.tap("キャンセル")
    chat.tap("作る")
    options = [o.label for o in chat.question.options]
    assert library.texts.keep_label.format(value="株式会社ミライ 佐々木様") in options  # with the company said


def test_a_label_of_the_next_question_typed_under_a_lone_next_answers_it(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("ある")
    chat.tap("仕上げて")
    assert chat.where == "lancers:ongoing_finish"
    chat.send("片づいた")
    assert chat.where == "lancers:ongoing_more", "「この仕事は片づきましたか？」 is not asked after being answered"
    assert chat.session is not None
    assert [item.values.get("status") for _, item in chat.session.items_of("lancers", "ongoing")] == ["done"]


def test_next_typed_under_a_lone_next_skips_nothing(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("ある")
    chat.tap("仕上げて")
    chat.send("次へ")
    assert chat.where == "lancers:ongoing_check"


def test_a_hedged_reply_hears_nothing(engine: Engine) -> None:
    chat = at("lancers:proposal", engine, role="worker")
    chat.send("たぶん2時間前くらいに1件提案したと思う")
    assert chat.session is not None and not any(k.startswith("lancers:proposal_age") for k in chat.session.heard)


def test_what_was_heard_survives_storage() -> None:
    session = Session("lancers", "ongoing_fix", heard={"#n:lancers:ongoing": "1", "lancers:proposal_age": "over"})
    assert Session.from_dict(session.to_dict()) == session


def test_a_heard_turn_still_counts_as_the_reply_s_own_answer(engine: Engine) -> None:
    chat = at("lancers:proposal", engine, role="worker")
    turn = chat.send("2時間前くらいに1件提案しました")
    assert turn.trace.choice == "has" and turn.trace.outcome is TurnOutcome.ANSWERED


def test_a_first_message_that_asks_for_a_platform_is_greeted_and_taken(engine: Engine, library: Library) -> None:
    chat = Chat(engine)  # no follow event first (a Slack DM, the web chat): the first message says it all
    turn = chat.send("ランサーズ退会したいです。発注側のアカウントです")
    assert chat.where == "lancers:reason"
    texts = texts_in(turn)
    assert all(line.strip() in texts for line in library.flows["common"].states["menu"].says), "greeted once"
    chat.tap("もう使わない")
    chat.tap("退会の準備を進める")
    assert chat.where == "lancers:requesting", "the role said in the first message is not asked"


def at_pending_with_two_named_jobs(engine: Engine) -> Chat:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("2件です。山田さんのLP記事と、佐藤さんのロゴです")
    for _ in range(2):
        chat.tap("仕上げて")
        chat.tap("次へ")
        chat.tap("相手の返事待ち")
    for text in ["ない", "ない", "登録していない", "ない", "いいえ", "保存した", "はい", "次へ", "次へ", "次へ"]:
        chat.send(text)
    assert chat.where == "lancers:pending"
    return chat


def statuses(chat: Chat) -> list[str | None]:
    assert chat.session is not None
    return [item.values.get("status") for _, item in chat.session.items_of("lancers", "ongoing")]


def test_a_job_named_in_a_reply_is_the_one_it_closes(engine: Engine) -> None:
    chat = at_pending_with_two_named_jobs(engine)
    chat.send("山田さんの案件、終わりました")
    assert statuses(chat) == ["done", "wait"]


def test_a_job_said_to_be_still_waiting_is_never_closed(engine: Engine) -> None:
    chat = at_pending_with_two_named_jobs(engine)
    chat.send("佐藤さんのはまだ返事待ちです")
    assert statuses(chat) == ["wait", "wait"]


def test_the_checklist_lists_the_jobs_said_before_they_are_reached(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine, role="worker")
    chat.send("2件です。山田さんのLP記事と、佐藤様のロゴです")
    checklist = next(r for r in chat.command("status").replies if isinstance(r, Checklist))
    jobs = [line.label for line in checklist.items if line.label.startswith("進行中")]
    assert len(jobs) == 2 and "佐藤様：ロゴ" in jobs[1], "the second job is listed, not yet looked at"
