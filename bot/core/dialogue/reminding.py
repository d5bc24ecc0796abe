"""Reminders in a session: scheduling one from a choice, and deciding whether a due one still applies."""

from __future__ import annotations

from bot.core.dates import due_at, in_hours, shown
from bot.core.dialogue.checklist import facts_for
from bot.core.library.model import Library, ReminderKind
from bot.core.messages import CancelReminders, ScheduleReminder
from bot.core.session import MAX_REMINDERS, Reminder, Session
from bot.core.turn import Out


def schedule(library: Library, session: Session, flow: str, remind: tuple[str, str], out: Out) -> Session:
    """Keep one reminder per flow and kind (a newer one replaces it) and at most MAX_REMINDERS."""
    kind, after = remind
    due = in_hours(due_at(out.now, after))
    reminder = Reminder(f"{flow}.{kind}.{out.now:x}", flow, kind, due)  # unique per user: one per flow and kind
    kept = [r for r in session.reminders if (r.flow, r.kind) != (flow, kind)]
    dropped = [r.id for r in session.reminders if r not in kept]
    while len(kept) >= MAX_REMINDERS:
        dropped.append(kept.pop(0).id)
    if dropped:
        out.effects.append(CancelReminders(tuple(dropped)))
    out.effects.append(ScheduleReminder(reminder.id, kind, due))
    spec = library.flows[flow]
    out.say(library.texts.reminder_set.format(flow=spec.title, label=spec.reminders[kind].label, when=shown(due)))
    return session.but(reminders=(*kept, reminder))


def cancel_all(session: Session, out: Out) -> Session:
    if session.reminders:
        out.effects.append(CancelReminders(tuple(r.id for r in session.reminders)))
    return session.but(reminders=())


def due(library: Library, session: Session, reminder_id: str) -> tuple[Reminder | None, ReminderKind | None, Session]:
    """The reminder, its kind if it still applies (None: drop it), and the session without it."""
    reminder = next((r for r in session.reminders if r.id == reminder_id), None)
    rest = session.but(reminders=tuple(r for r in session.reminders if r.id != reminder_id))
    flow = None if reminder is None else library.flows.get(reminder.flow)
    spec = None if flow is None or reminder is None else flow.reminders.get(reminder.kind)
    if reminder is None or spec is None:
        return reminder, None, rest
    if spec.while_ is not None and not spec.while_(facts_for(library, rest, reminder.flow)):
        return reminder, None, rest
    return reminder, spec, rest
