"""Engine behaviour on the real flows: commands anywhere, undo, fill-ins, secrets, resume, stale taps."""

from __future__ import annotations

from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.messages import Checklist, ChoiceInput, ItemStatus, Question, Template, Text
from tests.flows.driver import Chat, templates_in, texts_in, to_fill_ins, to_ongoing


def test_start_greets_and_offers_the_menu(engine: Engine) -> None:
    chat = Chat(engine)
    turn = chat.start()
    assert "退会ナビ" in texts_in(turn)
    labels = [o.label for o in chat.question.options]
    for wanted in ("ランサーズ", "クラウドワークス", "両方", "ログイン", "ログアウト", "使い方"):
        assert any(wanted in label for label in labels), wanted


def test_first_message_that_answers_the_menu_is_taken_as_the_answer(engine: Engine) -> None:
    chat = Chat(engine)
    chat.send("ランサーズ")
    assert chat.where.startswith("lancers:")


def test_free_text_variants_answer_questions(engine: Engine) -> None:
    for answer in ("はい", "うん", "ある", "１", "1", "アル"):
        chat = Chat(engine)
        to_ongoing(chat)
        chat.send(answer)
        assert chat.where == "lancers:ongoing_fix", answer
    for answer in ("いいえ", "ない", "２", "ナイ"):
        chat = Chat(engine)
        to_ongoing(chat)
        chat.send(answer)
        assert chat.where != "lancers:ongoing_fix", answer


def test_unknown_input_reasks_with_the_same_choices(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    before = chat.question
    turn = chat.send("きょうは いい天気")
    assert turn.trace.outcome == "reask"
    assert chat.where == "lancers:ongoing"
    assert chat.question == before
    assert "うまく受け取れません" in texts_in(turn)


def test_back_returns_to_the_previous_question_and_undoes_its_answer(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    assert chat.session is not None and chat.session.answer("lancers", "role") == "worker"
    chat.send("戻る")
    assert chat.where == "lancers:role"
    assert chat.session.answer("lancers", "role") is None
    chat.tap("発注者")
    assert chat.session.answer("lancers", "role") == "client"


def test_back_with_no_history_says_so(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    turn = chat.send("戻る")
    assert "戻れません" in texts_in(turn)
    assert isinstance(turn.replies[-1], Question)


def test_restart_asks_first_then_clears_answers_and_shows_the_menu(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.send("最初から")
    assert chat.where == "common:restart_confirm"
    chat.tap("いいえ")
    assert chat.where == "lancers:ongoing" and chat.session is not None and chat.session.answers
    chat.send("最初から")
    chat.tap("はい")
    assert chat.where == "common:menu"
    assert chat.session is not None and chat.session.answers == {}


def test_restart_without_answers_needs_no_confirmation(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    chat.send("最初から")
    assert chat.where == "common:menu"


def test_i_dont_know_is_never_read_as_no(engine: Engine) -> None:
    for answer in ("わからない", "わかんない", "覚えてない", "知らない"):
        chat = Chat(engine)
        to_ongoing(chat)
        turn = chat.send(answer)
        assert turn.trace.outcome == "unsure", answer
        assert "確認してから答えてください" in texts_in(turn)
        assert chat.session is not None and chat.session.answer("lancers", "ongoing") is None


def test_short_words_inside_other_answers_do_not_match(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    assert chat.send("ないです").trace.outcome == "reask"
    assert chat.where == "common:menu"


def test_greetings_show_the_question_without_a_complaint(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    turn = chat.send("ありがとうございます")
    assert "うまく受け取れません" not in texts_in(turn)
    assert chat.where == "lancers:ongoing" and isinstance(turn.replies[-1], Question)


def test_reask_names_the_number_range(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    count = len(chat.question.options)
    assert f"1〜{count}" in texts_in(chat.send("？？？"))


def test_back_after_moving_to_the_next_platform_keeps_it_queued(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    chat.tap("両方")
    chat.tap("稼げない")
    while chat.session is not None and chat.session.flow == "lancers":
        chat.send("1")
    assert chat.session is not None and chat.session.flow == "crowdworks" and chat.session.queue == ()
    chat.send("戻る")
    assert chat.session.flow == "lancers" and chat.session.queue == ("crowdworks",)
    chat.send("1")
    assert chat.session.flow == "crowdworks", "CrowdWorks is not skipped after 戻る"


def test_names_lose_the_honorific_and_ending_the_template_adds(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    chat.send("田中さん")
    chat.send("HP制作")
    chat.send("山本 太郎です")
    body = templates_in(chat.turns)[-1].body
    assert body.startswith("田中様") and "さん様" not in body
    assert "ですです" not in body and body.rstrip().endswith("山本 太郎")


def test_back_to_a_client_message_shows_it_again(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    for _ in range(3):
        chat.send("スキップ")
    chat.send("次へ")
    turn = chat.send("戻る")
    assert any(isinstance(r, Template) for r in turn.replies)


def test_erase_cancelled_during_fill_ins_resumes_them(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    chat.send("田中")
    chat.send("削除")
    chat.tap("いいえ")
    assert chat.session is not None and chat.session.filling is not None, "the name questions go on"


def test_skipped_fill_ins_get_a_rewrite_note(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    for _ in range(3):
        chat.send("スキップ")
    assert "〇〇の部分を書き換えて" in texts_in(chat.last)


def test_help_anywhere_keeps_the_place(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    turn = chat.send("ヘルプ")
    assert "戻る" in texts_in(turn) and chat.where == "lancers:ongoing"
    assert isinstance(turn.replies[-1], Question)


def test_status_lists_pending_and_done_items(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.send("ある")
    turn = chat.send("状況")
    checklist = next(r for r in turn.replies if isinstance(r, Checklist))
    ongoing = next(i for i in checklist.items if "進行中" in i.label)
    assert ongoing.status in (ItemStatus.PENDING, ItemStatus.UNKNOWN)
    assert chat.where == "lancers:ongoing_fix"


def test_erase_asks_first_then_forgets_everything(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.send("削除")
    assert chat.where == "common:erase_confirm"
    chat.tap("いいえ")
    assert chat.where == "lancers:ongoing", "「いいえ」 returns to where the user was"
    chat.send("削除")
    turn = chat.tap("はい")
    assert turn.session is None and turn.trace.outcome == "erased"
    assert "削除しました" in texts_in(turn)


def test_a_password_is_neither_stored_nor_echoed(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    assert chat.session is not None and chat.session.filling == "client_name"
    turn = chat.send("hunter2pass")
    assert turn.trace.outcome == "secret"
    assert "パスワード" in texts_in(turn)
    assert "hunter2pass" not in repr(turn.replies)
    assert "hunter2pass" not in repr(chat.session)


def test_fill_ins_are_used_and_skipped_ones_stay_placeholders(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    chat.send("山田")  # client
    chat.send("スキップ")  # job title
    chat.send("佐藤")  # user name
    template = templates_in(chat.turns)[-1]
    assert template.body.startswith("山田様")
    assert "「〇〇」" in template.body
    assert template.body.rstrip().endswith("佐藤")


def test_an_old_button_is_recognised_as_stale(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    old = ChoiceInput.decode(chat.question.options[0].value)
    chat.tap("クラウドワークス")
    assert old is not None
    turn = chat.send(old)
    assert turn.trace.outcome == "stale"
    assert chat.where.startswith("crowdworks:")


def test_forged_tap_is_harmless(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    turn = chat.send(ChoiceInput("common", "menu", "no_such_choice"))
    assert turn.trace.outcome == "stale" and chat.where == "common:menu"


def test_returning_user_gets_a_one_line_summary(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.now += 7 * 3600
    turn = chat.send("ない")
    first = turn.replies[0]
    assert isinstance(first, Text) and first.text.startswith("おかえりなさい。前回は「ランサーズ：")


def test_too_long_text_is_refused_politely(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    turn = chat.send("あ" * 5000)
    assert turn.trace.outcome == "too_long" and chat.where == "lancers:ongoing"


def test_emoji_reasks_and_blank_input_shows_the_question_again(engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    for text in ("😀", "👍🏽"):
        assert chat.send(text).trace.outcome == "reask"
    where = chat.where
    blank = chat.send("  \u3000 ")
    assert blank.trace.outcome == "command" and chat.where == where
    assert not any(isinstance(r, Text) and r.text.startswith("すみません") for r in blank.replies)
    assert isinstance(blank.replies[-1], Question)


def test_both_platforms_one_after_the_other(engine: Engine) -> None:
    chat = Chat(engine)
    chat.start()
    chat.tap("両方")
    assert chat.where.startswith("lancers:")
    assert chat.session is not None and chat.session.queue == ("crowdworks",)


def test_templates_are_separate_replies(engine: Engine) -> None:
    chat = to_fill_ins(engine)
    for _ in range(3):
        chat.send("スキップ")
    assert any(isinstance(r, Template) for r in chat.last.replies)


def test_after_erase_the_menu_is_shown(library: Library, engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.command("erase")
    turn = chat.tap("はい、削除する")
    assert turn.session is None
    assert library.texts.erased in texts_in(turn)
    assert chat.question.text == library.state("common:menu").ask  # the menu, not a dead end


def test_back_to_an_advice_step_shows_all_of_its_text(library: Library, engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    chat.tap("仕上げて完了する")  # ongoing_finish: advice with a lone 次へ
    chat.tap("次へ")
    turn = chat.command("back")
    assert chat.where == "lancers:ongoing_finish"
    advice = library.state("lancers:ongoing_finish").says[0]
    assert advice in texts_in(turn)


def test_a_lone_next_button_takes_yes_and_wakarimashita(engine: Engine) -> None:
    for typed in ("はい", "わかりました", "了解です"):
        chat = Chat(engine)
        to_ongoing(chat)
        chat.tap("ある")
        chat.tap("仕上げて完了する")
        assert chat.send(typed).trace.outcome == "answered", typed
        assert chat.where == "lancers:ongoing_check"


def test_a_reask_never_offers_a_range_of_one(library: Library, engine: Engine) -> None:
    chat = Chat(engine)
    to_ongoing(chat)
    chat.tap("ある")
    chat.tap("仕上げて完了する")
    turn = chat.send("ほげほげ")
    assert library.texts.reask_one in texts_in(turn) and "1〜1" not in texts_in(turn)
