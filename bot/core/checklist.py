"""The 「状況」 checklist, derived from answers each time (never stored, so it cannot drift from them)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.conditions import Facts
from bot.core.messages import Checklist, ChecklistItem, ItemStatus
from bot.core.model import ChecklistRule, Library
from bot.core.session import Session


def facts_for(library: Library, session: Session, flow: str) -> Facts:
    """The inputs of `flow`'s conditions; checklist statuses are computed only if a condition asks."""
    answers = session.answers.get(flow, {})

    def statuses() -> tuple[ItemStatus, ...]:
        return tuple(status for _, status in _items(library, flow, answers))

    return Facts(answers, statuses, session.queue)


def _items(library: Library, flow: str, answers: Mapping[str, str]) -> list[tuple[ChecklistRule, ItemStatus]]:
    rules = library.flows[flow].checklist
    found: list[tuple[ChecklistRule, ItemStatus]] = []
    plain = Facts(answers, lambda: ())
    for rule in rules:
        if rule.when is not None and not rule.when(plain):
            continue
        value = answers.get(rule.key)
        if value in rule.done:
            status = ItemStatus.DONE
        elif value in rule.pending:
            status = ItemStatus.PENDING
        else:
            status = ItemStatus.UNKNOWN
        found.append((rule, status))
    return found


def build_checklist(library: Library, session: Session) -> Checklist:
    """Every flow the user has touched or queued, in that order, with each item's status."""
    order = list(dict.fromkeys([*session.answers, session.flow, *session.queue]))
    marks, words = library.lexicon.status_marks, library.lexicon.status_words
    items: list[ChecklistItem] = []
    for flow in order:
        if flow not in library.flows:
            continue
        title = library.flows[flow].title
        for rule, status in _items(library, flow, session.answers.get(flow, {})):
            items.append(ChecklistItem(title, rule.label, status, marks[status.value], words[status.value]))
    pending = sum(1 for item in items if item.status is ItemStatus.PENDING)
    unknown = sum(1 for item in items if item.status is ItemStatus.UNKNOWN)
    if not items:
        summary = library.text("status_empty")
    elif pending or unknown:
        summary = library.text("status_pending_count", pending=str(pending), unknown=str(unknown))
    else:
        summary = library.text("status_clear")
    return Checklist(library.text("status_title"), tuple(items), summary)
