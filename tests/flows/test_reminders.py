"""Reminders in the conversation: asked for where something is waiting, shown in 「状況」, stopped, erased,
delivered as a normal turn — or dropped when their reason is gone."""

from __future__ import annotations

from bot.core.dialogue.checklist import build_checklist
from bot.core.dialogue.engine import Engine
from bot.core.library.model import Library
from bot.core.messages import CancelReminders, Checklist, ReminderInput, ScheduleReminder, StartInput
from tests.flows.driver import Chat, texts_in
from tests.flows.journeys import TO_PAYOUT_WAITING


def waiting_for_payout(engine: Engine) -> Chat:
    chat = Chat(engine)
    chat.start()
    for text in TO_PAYOUT_WAITING[:-1]:  # up to the pending step
        chat.send(text)
    assert chat.where == "lancers:pending"
    chat.tap("あとで続ける")
    assert chat.where == "lancers:waiting"
    return chat


def test_a_payout_wait_offers_the_payday_first_and_schedules_it(library: Library, engine: Engine) -> None:
    chat = waiting_for_payout(engine)
    assert chat.question.options[0].label.startswith("振込予定日")
    turn = chat.tap("振込予定日")
    scheduled = [e for e in turn.effects if isinstance(e, ScheduleReminder)]
    assert len(scheduled) == 1 and chat.session is not None and chat.session.reminders[0].id == scheduled[0].id
    chat.command("status")
    checklist = next(r for r in chat.last.replies if isinstance(r, Checklist))
    assert any(item.group == library.texts.reminders_group for item in checklist.items)


def test_a_due_reminder_continues_the_conversation(library: Library, engine: Engine) -> None:
    chat = waiting_for_payout(engine)
    chat.tap("振込予定日")
    reminder = chat.session.reminders[0] if chat.session else None
    assert reminder is not None
    turn = chat.send(ReminderInput(reminder.id))
    assert turn.trace.outcome == "reminder" and chat.where == "lancers:remind_payout"
    assert chat.session is not None and not chat.session.reminders
    chat.tap("振り込まれた")
    assert chat.where == "lancers:procedure"


def test_a_reminder_whose_reason_is_gone_is_dropped_silently(engine: Engine) -> None:
    chat = waiting_for_payout(engine)
    chat.tap("振込予定日")
    reminder = chat.session.reminders[0] if chat.session else None
    assert reminder is not None
    chat.tap("続きから")
    chat.tap("振込が終わった")  # the payout arrived meanwhile
    chat.tap("退会できた")
    turn = chat.send(ReminderInput(reminder.id))
    assert turn.trace.outcome == "reminder_dropped" and not turn.replies


def test_stop_and_erase_cancel_reminders(library: Library, engine: Engine) -> None:
    chat = waiting_for_payout(engine)
    chat.tap("明日")
    ids = tuple(r.id for r in chat.session.reminders) if chat.session else ()
    stopped = chat.send("お知らせを止める")
    assert CancelReminders(ids) in stopped.effects and library.texts.reminders_stopped in texts_in(stopped)
    assert chat.session is not None and not chat.session.reminders
    chat.tap("続きから")
    chat.tap("あとで続ける")
    chat.tap("1週間後")
    ids = tuple(r.id for r in chat.session.reminders) if chat.session else ()
    chat.command("erase")
    erased = chat.tap("はい、削除する")
    assert erased.session is None and CancelReminders(ids) in erased.effects


def test_a_newer_reminder_of_the_same_kind_replaces_the_older(engine: Engine) -> None:
    chat = waiting_for_payout(engine)
    chat.tap("明日")
    first = chat.session.reminders[0].id if chat.session else ""
    chat.tap("続きから")
    chat.tap("あとで続ける")
    turn = chat.tap("1週間後")
    assert CancelReminders((first,)) in turn.effects
    assert chat.session is not None and len(chat.session.reminders) == 1


def test_the_terminal_s_next_start_delivers_what_fell_due(engine: Engine) -> None:
    chat = waiting_for_payout(engine)
    chat.tap("明日")
    chat.now += 3 * 86_400
    turn = chat.send(StartInput())
    assert turn.trace.outcome == "reminder" and chat.where == "lancers:remind_payout"


def test_after_leaving_the_checklist_shows_no_reminder_for_that_platform(engine: Engine, library: Library) -> None:
    """Issue 17: after 退会できた, 「状況」 still listed the payout reminder, which would never be sent."""
    chat = Chat(engine)
    chat.start()
    for text in [*TO_PAYOUT_WAITING, "明日"]:
        chat.send(text)
    assert chat.session is not None and chat.session.reminders
    shown = build_checklist(library, chat.session)
    assert any(item.group == library.texts.reminders_group for item in shown.items)
    for text in ("続きから", "振込が終わった", "退会できた"):
        chat.send(text)
    assert chat.session is not None
    after = build_checklist(library, chat.session)
    assert not any(item.group == library.texts.reminders_group for item in after.items)
