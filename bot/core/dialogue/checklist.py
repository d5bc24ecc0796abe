"""The 「状況」 checklist, derived from answers and items each time (never stored, so it cannot drift)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.dates import shown
from bot.core.dialogue.heard import told
from bot.core.library.conditions import Facts
from bot.core.library.model import COMMON, ChecklistRule, Flow, Library
from bot.core.messages import Checklist, ChecklistItem, ItemStatus
from bot.core.session import Item, Session

STATUS_ORDER = (ItemStatus.PENDING, ItemStatus.WAITING, ItemStatus.UNKNOWN)


def facts_for(library: Library, session: Session, flow: str) -> Facts:
    """The inputs of `flow`'s conditions; checklist statuses are computed only if a condition asks."""
    answers = session.flow_answers(flow)

    def statuses() -> tuple[ItemStatus, ...]:
        return tuple(line.status for line in lines(library, session, flow))

    def open_flows() -> tuple[str, ...]:
        return tuple(name for name in open_flow_names(library, session) if name != flow)

    return Facts(answers, statuses, session.queue, open_flows)


def status_of(rule: ChecklistRule, value: str | None) -> ItemStatus:
    if value in rule.done:
        return ItemStatus.DONE
    if value in rule.na:
        return ItemStatus.NA
    if value in rule.waiting:
        return ItemStatus.WAITING
    if value in rule.pending:
        return ItemStatus.PENDING
    return ItemStatus.UNKNOWN


def item_title(flow: Flow, session: Session, index: int, short: bool = False) -> str:
    """「進行中の仕事2「LP制作」（コンペ）」 for 「状況」; 「進行中2」 for a button (short)."""
    item = session.items[index]
    kind = flow.items[item.kind]
    number = session.number(index)
    if short:
        return f"{kind.short}{number}"
    name = item.values.get("name")
    note = item.values.get("note")
    return f"{kind.label}{number}" + (f"「{name}」" if name else "") + (f"（{note}）" if note else "")


def lines(library: Library, session: Session, flow_name: str) -> list[ChecklistItem]:
    """The checklist lines of one flow: one per answer rule, or one per item for item rules."""
    flow = library.flows[flow_name]
    answers = session.flow_answers(flow_name)
    plain = Facts(answers, lambda: ())
    marks, words = library.lexicon.status_marks, library.lexicon.status_words
    found: list[ChecklistItem] = []

    def line(label: str, status: ItemStatus, rule: ChecklistRule) -> ChecklistItem:
        word = rule.done_word if rule.done_word and status is ItemStatus.DONE else words[status.value]
        return ChecklistItem(flow.title, label, status, marks[status.value], word)

    for rule in flow.checklist:
        if rule.when is not None and not rule.when(plain):
            continue
        items = session.items_of(flow_name, rule.items) if rule.items else []
        if items:
            for index, item in items:
                found.append(line(item_title(flow, session, index), _item_status(rule, item), rule))
            for number, name in told(session.heard, flow_name, rule.items or "", len(items)):  # said, not reached
                title = f"{flow.items[rule.items or ''].label}{number}" + (f"「{name}」" if name else "")
                found.append(line(title, ItemStatus.UNKNOWN, rule))
        else:
            found.append(line(rule.label, status_of(rule, answers.get(rule.key)), rule))
    return found


def open_rules(library: Library, session: Session) -> set[str]:
    """``flow:key`` of each checklist line still 要対応 or 待ち (a rule's key, or its item kind): what the
    operators' console counts — the flows' own ids, never what the user wrote into a line."""
    found: set[str] = set()
    for flow_name in dict.fromkeys([*session.answers, session.flow]):
        if flow_name not in library.flows or flow_name == COMMON:
            continue
        flow = library.flows[flow_name]
        answers = session.flow_answers(flow_name)
        plain = Facts(answers, lambda: ())
        for rule in flow.checklist:
            if rule.when is not None and not rule.when(plain):
                continue
            items = session.items_of(flow_name, rule.items) if rule.items else []
            statuses = [_item_status(rule, item) for _, item in items] or [status_of(rule, answers.get(rule.key))]
            if any(status in (ItemStatus.PENDING, ItemStatus.WAITING) for status in statuses):
                found.add(f"{flow_name}:{rule.items or rule.key}")
    return found


def _item_status(rule: ChecklistRule, item: Item) -> ItemStatus:
    status = status_of(rule, item.values.get("status"))
    return ItemStatus.PENDING if status is ItemStatus.UNKNOWN else status  # an item exists: it needs looking at


def item_status_open(flow: Flow, item: Item) -> bool:
    """Whether an item still blocks (要対応 or 待ち): it gets a 「済んだ」 button."""
    rule = next((r for r in flow.checklist if r.items == item.kind), None)
    if rule is None:
        return item.values.get("status") not in ("done", "none")
    return not _item_status(rule, item).settled


def open_flow_names(library: Library, session: Session) -> list[str]:
    """Flows the user decided to leave, has not left yet, and whose checklist is not clear."""
    found = []
    for name, answers in session.answers.items():
        if name not in library.flows or name == COMMON:
            continue
        if answers.get("decision") != "leave" or answers.get("withdrawn") == "yes":
            continue
        if not all(line.status.settled for line in lines(library, session, name)):
            found.append(name)
    return found


def build_checklist(library: Library, session: Session) -> Checklist:
    """Every flow the user has touched or queued, in that order, with each line's status."""
    order = list(dict.fromkeys([*session.answers, session.flow, *session.queue]))
    items: list[ChecklistItem] = []
    for flow in order:
        if flow in library.flows:
            items.extend(lines(library, session, flow))
    counts = _counts(items)
    items.extend(reminder_lines(library, session))
    if not items:
        summary = library.texts.status_empty
    elif any(counts.values()):
        summary = library.texts.status_pending_count.format(**{k.value: str(v) for k, v in counts.items()})
    elif all(session.flow_answers(f).get("withdrawn") == "yes" for f in order if f in library.flows and f != COMMON):
        summary = library.texts.status_left  # said to someone who has left: nothing "blocks" any more
    else:
        summary = library.texts.status_clear
    return Checklist(library.texts.status_title, tuple(items), summary)


def reminder_lines(library: Library, session: Session) -> list[ChecklistItem]:
    """The reminders the user asked for, with when they will arrive (「お知らせを止める」 cancels them); one
    whose reason is gone (its `while:` no longer holds: the platform is left, the item done) is not shown, as
    it will not be sent."""
    found = []
    for reminder in session.reminders:
        kind = library.flows[reminder.flow].reminders.get(reminder.kind) if reminder.flow in library.flows else None
        if kind is not None and (kind.while_ is None or kind.while_(facts_for(library, session, reminder.flow))):
            label = f"{library.flows[reminder.flow].title}：{kind.label}（{shown(reminder.due)}）"
            group, word = library.texts.reminders_group, library.texts.reminder_word
            found.append(ChecklistItem(group, label, ItemStatus.WAITING, library.texts.reminder_mark, word))
    return found


def _counts(items: list[ChecklistItem]) -> Mapping[ItemStatus, int]:
    return {status: sum(1 for item in items if item.status is status) for status in STATUS_ORDER}
