"""Silent misreadings (issue 20): each of these once recorded an answer the user did not give, ran a command
they did not ask for, or moved the flow on without an answer. Each test failed before its fix."""

from __future__ import annotations

import pytest

from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.messages import ChoiceInput, TurnOutcome
from bot.evaluation import situation
from tests.flows.driver import Chat
from tests.flows.journeys import JOURNEYS


def at(where: str, engine: Engine) -> Chat:
    """A user at `where` who decided to leave and uses the platform in both roles."""
    session = situation(where)
    return Chat(engine, session=session, now=session.updated)


def shown(chat: Chat) -> list[str]:
    """The choice ids of the buttons just shown, in their order."""
    decoded = [ChoiceInput.decode(option.value) for option in chat.question.options]
    return [d.choice for d in decoded if d is not None]


# --- a number answers the menu that was shown last -------------------------------------------------


@pytest.mark.parametrize("typed", ["1", "２"])
def test_a_number_answers_the_ask_back_menu_in_its_order(engine: Engine, typed: str) -> None:
    chat = at("lancers:related", engine)
    assert chat.send("たぶんしてないと思う").trace.outcome is TurnOutcome.ASKED_BACK
    offered = shown(chat)
    assert len(offered) == 2
    number = int(typed.translate(str.maketrans("１２", "12")))
    assert chat.send(typed).trace.choice == offered[number - 1]


def test_after_another_turn_a_number_answers_the_question_s_own_menu(engine: Engine, library: Library) -> None:
    chat = at("lancers:related", engine)
    chat.send("たぶんしてないと思う")
    chat.send("ヘルプ")  # the question is shown again, in its own order
    first = library.flows["lancers"].states["related"].choices[0].id
    assert shown(chat)[0] == first and chat.send("1").trace.choice == first


def test_a_number_outside_the_ask_back_menu_is_asked_again(engine: Engine) -> None:
    chat = at("lancers:related", engine)
    chat.send("たぶんしてないと思う")
    turn = chat.send("3")
    assert turn.trace.choice is None and turn.trace.outcome is TurnOutcome.REASK


# --- a bare number at a money or count question ---------------------------------------------------


@pytest.mark.parametrize(("typed", "index"), [("1", 0), ("３", 2), ("2", 1)])
def test_a_bare_number_at_a_money_question_is_the_button_number(
    engine: Engine, library: Library, typed: str, index: int
) -> None:
    chat = at("lancers:balance", engine)
    expected = library.flows["lancers"].states["balance"].choices[index].id
    assert chat.send(typed).trace.choice == expected


def test_an_amount_with_its_unit_or_too_large_for_a_button_is_an_amount(engine: Engine) -> None:
    assert at("lancers:balance", engine).send("3500円").trace.choice == "enough"
    assert at("lancers:balance", engine).send("3500").trace.choice == "enough"


def test_a_bare_number_that_may_be_a_count_is_asked_back(engine: Engine) -> None:
    """「1」 at 「何件ありますか」 (0件 / 1件以上): button 1 says 0件, the count says 1件: ask which."""
    chat = at("lancers:task_works", engine)
    assert chat.send("1").trace.outcome is TurnOutcome.ASKED_BACK
    assert set(shown(chat)) == {"zero", "some"}
    assert at("lancers:task_works", engine).send("1件").trace.choice == "some"


# --- confirmations read yes/no by meaning ---------------------------------------------------------


@pytest.mark.parametrize("typed", ["はい、削除してください", "削除", "全部消してください", "はい、お願いします"])
def test_a_yes_in_words_at_the_erase_confirmation_erases(engine: Engine, typed: str) -> None:
    turn = at("common:erase_confirm", engine).send(typed)
    assert turn.session is None and turn.trace.outcome is TurnOutcome.ERASED


@pytest.mark.parametrize(
    "typed",
    [
        "削除はしないでください",
        "消さないで",
        "いや、消さないでください",
        "やっぱりやめておきます",
        "消すかどうか迷ってます",  # erased everything before (found 2026-12-07, not from the held-out set)
        "全部消していいのかな",
    ],
)
def test_a_no_in_words_at_the_erase_confirmation_erases_nothing(engine: Engine, typed: str) -> None:
    turn = at("common:erase_confirm", engine).send(typed)
    assert turn.session is not None and turn.trace.outcome is not TurnOutcome.ERASED


# --- commands inside sentences --------------------------------------------------------------------


def test_asking_for_a_reminder_is_not_stopping_them(engine: Engine) -> None:
    turn = at("lancers:balance", engine).send("振込予定日のあとにお知らせしてほしいです")
    assert turn.trace.choice != "@stop_reminders"


def test_stopping_reminders_in_a_sentence_still_stops_them(engine: Engine) -> None:
    assert at("lancers:balance", engine).send("お知らせを止めてください").trace.choice == "@stop_reminders"


# --- 「違う」 after an echo -------------------------------------------------------------------------


def test_chigau_answers_a_next_question_that_offers_a_no(engine: Engine, library: Library) -> None:
    """The echo then tells the user to undo with 「戻る」, so 「違う」 is free to be the answer."""
    chat = at("lancers:ongoing", engine)
    turn = chat.send("進行中の案件はひとつもないです")
    assert chat.where == "lancers:proposal"
    label = library.flows["lancers"].states["ongoing"].choices[1].label
    assert library.texts.understood_back.format(label=label) in [getattr(r, "text", "") for r in turn.replies]
    assert chat.send("違う").trace.choice == "none" and chat.where != "lancers:ongoing"


def test_chigau_still_undoes_an_echo_where_the_next_question_has_no_no(engine: Engine, library: Library) -> None:
    chat = at("lancers:ongoing", engine)
    turn = chat.send("まだ終わってない案件が1件あります")
    assert chat.where == "lancers:ongoing_fix"
    label = library.flows["lancers"].states["ongoing"].choices[0].label
    assert library.texts.understood.format(label=label) in [getattr(r, "text", "") for r in turn.replies]
    assert chat.send("違う").trace.choice == "@back" and chat.where == "lancers:ongoing"


# --- a screen with a lone 「次へ」 -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["宛名がおかしいです。木村様にしたい", "クライアントから、退会後は直接LINEでやり取りしようって言われてる"]
)
def test_free_text_on_a_next_screen_does_not_move_on(engine: Engine, typed: str) -> None:
    chat = at("lancers:task_pause", engine)
    turn = chat.send(typed)
    assert chat.where == "lancers:task_pause" and turn.trace.choice is None


@pytest.mark.parametrize("typed", ["わかりました", "送りました", "確認しました！", "うん", "次へ"])
def test_consent_on_a_next_screen_moves_on(engine: Engine, typed: str) -> None:
    chat = at("lancers:task_pause", engine)
    chat.send(typed)
    assert chat.where != "lancers:task_pause"


def test_a_question_on_a_next_screen_is_answered_and_the_screen_stays(engine: Engine) -> None:
    chat = at("lancers:task_pause", engine)
    turn = chat.send("これって何日くらいかかりますか？")
    assert turn.trace.outcome in (TurnOutcome.FAQ, TurnOutcome.FAQ_UNKNOWN) and chat.where == "lancers:task_pause"


# --- items closed by free text --------------------------------------------------------------------


def two_jobs(engine: Engine) -> Chat:
    """A worker with two jobs in progress, the second named 「記事作成」 (its cancellation message was made),
    at the menu of what is still to do (one 「済んだ」 button per open job)."""
    steps = JOURNEYS["lancers_worker_two_jobs"]
    chat = Chat(engine)
    chat.start()
    for text in steps[: steps.index("進行中2が済んだ")]:
        chat.send(text)
    assert chat.where == "lancers:pending"
    return chat


def statuses(chat: Chat) -> list[str | None]:
    assert chat.session is not None
    return [item.values.get("status") for item in chat.session.items]


def test_the_done_buttons_name_the_items(engine: Engine) -> None:
    assert any(option.label.startswith("記事作成") for option in two_jobs(engine).question.options)


@pytest.mark.parametrize("typed", ["記事作成の案件が終わりました", "記事作成、キャンセルしてもらえました"])
def test_a_reply_that_names_a_finished_item_closes_that_one(engine: Engine, typed: str) -> None:
    chat = two_jobs(engine)
    before = statuses(chat)
    chat.send(typed)
    assert statuses(chat) == [before[0], "done"]


@pytest.mark.parametrize("typed", ["完了しました", "済みました"])
def test_done_without_a_name_asks_which_item(engine: Engine, typed: str) -> None:
    chat = two_jobs(engine)
    before = statuses(chat)
    assert chat.send(typed).trace.outcome is TurnOutcome.ASKED_BACK and statuses(chat) == before


@pytest.mark.parametrize("typed", ["まだ終わってないです", "もう1件あります"])
def test_not_yet_or_another_one_closes_nothing(engine: Engine, typed: str) -> None:
    chat = two_jobs(engine)
    before = statuses(chat)
    chat.send(typed)
    assert statuses(chat) == before


# --- everyday forms (issue 20) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "typed", "expected"),
    [
        ("lancers:ongoing", "ひとつもないです", "none"),
        ("lancers:ongoing", "1件もありません", "none"),
        ("lancers:ongoing_more", "あとひとつ", "has"),
        ("lancers:ongoing", "ございません", "none"),
        ("lancers:compe_cancel", "応募ゼロです", "none"),
        ("crowdworks:balance_payout", "申請済みです", "done"),
        ("crowdworks:external_password", "あとでやります", "later"),
        ("crowdworks:balance_payout", "週末にやります", "later"),
        ("crowdworks:escrow_fix", "まだです、あとでやります", "later"),
        ("lancers:balance_payout", "3000円でももったいないので出金します", "payout"),
    ],
)
def test_everyday_forms_are_read(engine: Engine, where: str, typed: str, expected: str) -> None:
    assert at(where, engine).send(typed).trace.choice == expected


def test_a_past_report_is_not_a_command(engine: Engine) -> None:
    assert at("lancers:profile", engine).send("写真だけ消した、次").trace.choice != "@erase"


# --- questions about the bot itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "asks"),
    [
        ("途中でやめても、あとで続きからできますか？", "続きから"),
        ("削除したらランサーズのアカウントも消えちゃいますか？", "アカウント"),
        ("お知らせってLINEで来るんですか？", "お知らせ"),
    ],
)
def test_questions_about_the_bot_are_answered_mid_flow(engine: Engine, library: Library, typed: str, asks: str) -> None:
    faq = next(f for f in library.flows["common"].faq if asks in f.asks)
    chat = at("lancers:balance", engine)
    turn = chat.send(typed)
    assert turn.trace.outcome is TurnOutcome.FAQ and chat.where == "lancers:balance"
    assert faq.say in [getattr(r, "text", "") for r in turn.replies]


def test_everyday_synonyms_of_the_flows_words_are_understood(engine: Engine, library: Library) -> None:
    """Lexicon `synonyms` (Rasa's entity synonyms): 「引き出す」 reads as 出金."""
    assert "引き出す" in library.lexicon.synonyms["出金"]
    assert at("lancers:balance_payout", engine).send("全部引き出します").trace.choice == "payout"


# --- a command guessed from words is never a yes (review of this change) ---------------------------


@pytest.mark.parametrize(
    ("where", "typed"),
    [
        ("common:restart_confirm", "リセットしないで"),
        ("common:erase_confirm", "削除はまた今度"),
        ("common:erase_confirm", "あとで消します"),
        ("lancers:balance", "お知らせを止めないで"),
        ("lancers:balance", "リマインドは停止しないで"),
    ],
)
def test_a_negated_or_deferred_command_does_nothing_destructive(engine: Engine, where: str, typed: str) -> None:
    turn = at(where, engine).send(typed)
    assert turn.session is not None and turn.trace.outcome is not TurnOutcome.ERASED
    assert turn.trace.choice not in ("restart", "erase", "@stop_reminders"), "at most the confirmation again"


def test_a_month_in_kana_is_not_a_count() -> None:
    from bot.core.japanese.quantities import parse_quantities

    assert parse_quantities("ひとつき前に出した") == ()


# --- a request is not a yes to "is it done?"; "still to do" is not consent ---------------------------


def test_asking_for_a_cancellation_does_not_close_the_job(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine)
    chat.send("ある")
    chat.tap("キャンセル")
    chat.tap("作らない")
    assert chat.where == "lancers:ongoing_check"
    turn = chat.send("キャンセルをお願いしたいです")
    assert turn.trace.choice != "done", "「片づきましたか？」 answered with a request is not 「片づいた」"


def test_still_to_do_under_a_lone_next_answers_the_next_question(engine: Engine) -> None:
    chat = at("lancers:ongoing", engine)
    chat.send("ある")
    chat.tap("仕上げて")
    assert chat.where == "lancers:ongoing_finish"
    chat.send("まだ作業が残ってます")
    assert chat.session is not None
    statuses = [item.values.get("status") for _, item in chat.session.items_of("lancers", "ongoing")]
    assert statuses == ["yes"], "the job is still to do, not taken as consent and asked again"


# --- one word in common with one choice: taken (echoed), never for erasing, numbers or hedges -------


def test_one_shared_word_picks_the_only_choice_that_has_it(engine: Engine) -> None:
    turn = at("lancers:project_status", engine).send("まだ募集してる")
    assert turn.trace.choice == "recruiting"


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("common:finish_waiting", "7日後に知らせて"),  # a number is read against ranges, not as a word
        ("common:login_lancers", "入れたような入れてないような"),  # undecided
        ("lancers:ongoing_check", "キャンセルをお願いしたいです"),  # not 「キャンセルした」
    ],
)
def test_one_shared_word_is_not_enough_when_the_reply_says_otherwise(engine: Engine, where: str, text: str) -> None:
    turn = at(where, engine).send(text)
    assert turn.trace.choice not in ("remind_3d", "stuck", "done")


# --- 「X、Yじゃなくて」: a correction takes X ---------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "text", "expected"),
    [
        ("lancers:role", "発注者、受注者じゃなくて", "client"),
        ("lancers:role", "受注者じゃなくて発注者です", "client"),
        ("lancers:role", "受注者ではなく発注者", "client"),
        ("lancers:request_format", "プロジェクトじゃなくてコンペでした", "compe"),
    ],
)
def test_a_correction_takes_the_word_it_keeps(engine: Engine, where: str, text: str, expected: str) -> None:
    assert at(where, engine).send(text).trace.choice == expected


def test_what_a_reply_says_it_is_not_is_never_its_answer(engine: Engine) -> None:
    assert at("lancers:role", engine).send("受注者じゃないです").trace.choice != "worker"


# --- a question is answered from the text just shown before the FAQ is searched -------------------


def test_a_question_about_the_text_just_shown_is_answered_from_it(engine: Engine, library: Library) -> None:
    turn = at("lancers:ongoing_fix", engine).send("途中まで書いた分はお金もらえるの？")
    assert turn.trace.outcome is TurnOutcome.FAQ
    said = "\n".join(r.text for r in turn.replies if hasattr(r, "text"))
    fix = library.flows["lancers"].states["ongoing_fix"]
    line = next(part.strip(" ・") for text in fix.says for part in text.splitlines() if "報酬をどうするか" in part)
    assert library.texts.faq_from_text.format(text="").strip() in said and line in said


# --- a topic word alone asks about it; the tax answer keeps its conditions ------------------------


def test_a_topic_word_alone_is_answered(engine: Engine) -> None:
    assert at("lancers:balance", engine).send("手数料").trace.outcome is TurnOutcome.FAQ


def test_the_tax_answer_keeps_its_conditions(engine: Engine, library: Library) -> None:
    turn = at("crowdworks:tax_kind", engine).send("確定申告って必要？")
    said = "\n".join(r.text for r in turn.replies if hasattr(r, "text"))
    faq = next(f for f in library.flows["crowdworks"].faq if "確定申告" in f.asks)
    assert faq.say in said
    assert all(fact in faq.facts for fact in ("X-TAX-20MAN", "X-TAX-JUMINZEI"))
    for caveat in ("1か所", "2,000万円", "住民税", "医療費控除"):
        assert caveat in faq.say


# --- 「あと2つ」 is two more, not "later"; questions no FAQ answers ----------------------------------


@pytest.mark.parametrize("text", ["あと3件ある", "あと２つあります"])
def test_a_count_after_ato_is_more_not_later(engine: Engine, text: str) -> None:
    assert at("lancers:ongoing_more", engine).send(text).trace.choice == "has"


def test_asking_where_one_is_shows_the_status(engine: Engine) -> None:
    assert at("lancers:payment_wait", engine).send("今どこまで進んだ？").trace.choice == "@status"


def test_wondering_about_the_answer_offers_the_likely_choices(engine: Engine) -> None:
    assert at("crowdworks:contract_check", engine).send("片づいたかな？").trace.outcome is TurnOutcome.ASKED_BACK


@pytest.mark.parametrize(
    ("text", "expected"), [("らんさーず退会したいです", "lancers"), ("くらうどわーくす辞めたい", "crowdworks")]
)
def test_a_platform_typed_in_hiragana_is_read(engine: Engine, text: str, expected: str) -> None:
    assert at("common:menu", engine).send(text).trace.choice == expected


# --- its words say one choice, its yes/no another: ask; a leading いや with words that say which --------


def test_words_and_yes_no_that_disagree_are_asked_back(engine: Engine) -> None:
    turn = at("lancers:ongoing_check", engine).send("まだ返事きてないです")
    assert turn.trace.outcome is TurnOutcome.ASKED_BACK and turn.trace.choice is None


def test_a_leading_iya_with_a_whole_phrase_is_that_phrase(engine: Engine) -> None:
    assert at("lancers:stay_tips", engine).send("いやもういいです退会します").trace.choice == "leave"


@pytest.mark.parametrize("text", ["はい、でもまだです", "いや、あります"])
def test_yes_and_no_in_one_reply_without_words_are_asked_back(engine: Engine, text: str) -> None:
    assert at("lancers:ongoing", engine).send(text).trace.outcome is TurnOutcome.ASKED_BACK


@pytest.mark.parametrize(("text", "expected"), [("退会すすめてください", "proceed"), ("ほぞんしました", "done")])
def test_words_typed_in_hiragana_are_read(engine: Engine, text: str, expected: str) -> None:
    where = "lancers:reregister" if expected == "proceed" else "lancers:csv"
    assert at(where, engine).send(text).trace.choice == expected


# --- everyday forms: a first clause that answers, a plan after 「まだです」 ------------------------------


@pytest.mark.parametrize(
    ("where", "text", "expected"),
    [
        ("crowdworks:contract", "あります。途中でやめたい", "has"),
        ("lancers:payout", "まだです。これから申請します", "none"),
        ("lancers:balance_payout", "3000円でももったいないので出金します", "payout"),
        ("lancers:ongoing", "ございません", "none"),
        ("crowdworks:contract_check", "契約は終わりました", "done"),
    ],
)
def test_everyday_forms_are_read_by_their_answering_clause(
    engine: Engine, where: str, text: str, expected: str
) -> None:
    assert at(where, engine).send(text).trace.choice == expected


def test_a_reply_that_negates_the_no_choice_s_verb_is_the_other_choice(engine: Engine) -> None:
    assert at("lancers:reregister", engine).send("残しません").trace.choice == "proceed"
    assert at("lancers:request_check", engine).send("まだやってない").trace.choice == "later"


# --- 2026-12-07: what generalized after content v3 -------------------------------------------------


def test_a_delay_in_days_answers_the_reminder_question_by_its_schedule(engine: Engine) -> None:
    """「7日後」 is the 「1週間後」 button (its `remind: after: 7d`); a delay no button offers is asked back,
    never read as another delay (「2週間後でお願いします」 was read as 明日)."""
    assert at("common:finish_waiting", engine).send("7日後に知らせて").trace.choice == "remind_7d"
    assert at("lancers:waiting", engine).send("3日後で").trace.choice == "remind_3d"
    asked = at("lancers:waiting", engine).send("2週間後でお願いします").trace
    assert asked.outcome is TurnOutcome.ASKED_BACK and asked.choice is None


def test_a_reply_naming_the_only_button_takes_it(engine: Engine) -> None:
    assert at("common:bye", engine).send("もう一回メニュー見せて").trace.choice == "menu"
    # still not consent: a statement about something else under a lone button
    assert at("common:bye", engine).send("宛名がおかしいです。木村様にしたい").trace.choice is None


def test_keeping_said_in_everyday_words_keeps_everything(engine: Engine) -> None:
    for typed in ("やっぱ残しといて", "消さないで残して", "残します"):
        turn = at("common:erase_confirm", engine).send(typed)
        assert turn.trace.choice == "keep" and turn.session is not None, typed
    assert at("common:restart_confirm", engine).send("ううん、このままで").trace.choice == "keep"


def test_show_me_is_to_see(engine: Engine) -> None:
    assert at("lancers:remind_client", engine).send("見せて").trace.choice == "show"


def test_a_hedged_erase_at_its_own_confirmation_is_asked_back(engine: Engine) -> None:
    """At 「削除しますか？」 the erase command said in a hedged sentence is the question's own subject: asked
    back, nothing erased, the command not run again."""
    for typed in ("消していいのかな", "うーん消していいのかな…やめとこうかな"):
        turn = at("common:erase_confirm", engine).send(typed)
        assert turn.trace.outcome is TurnOutcome.ASKED_BACK and turn.session is not None, typed


def test_asking_to_erase_under_a_lone_button_is_not_consent(engine: Engine) -> None:
    """「データ削除して」 under 「メニューへ戻る」 asks to erase (which then asks for confirmation); it is not a
    yes to the button."""
    turn = at("common:bye", engine).send("データ削除して")
    assert turn.trace.outcome is TurnOutcome.COMMAND and turn.session is not None
    assert turn.session.state == "erase_confirm"


def test_one_step_back_is_not_one_more_item(engine: Engine) -> None:
    """「ひとつ戻って」 at 「ほかにも…ありますか？」 counts steps back, not another payment-waiting job."""
    turn = at("lancers:payment_wait_more", engine).send("ひとつ戻って")
    assert turn.trace.outcome is TurnOutcome.COMMAND and turn.trace.choice == "@back"
    assert at("lancers:payment_wait_more", engine).send("あと1件あります").trace.choice == "has"


def test_a_polite_no_thanks_declines_an_offer(engine: Engine) -> None:
    for typed in ("結構です", "今はいいです", "もういいです", "なしで"):
        assert at("crowdworks:contract_hourly", engine).send(typed).trace.choice == "skip", typed
