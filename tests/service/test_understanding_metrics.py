"""Operators see where users struggle: per-state counts of replies asked back or not understood (never text),
and reminders by kind and outcome."""

from __future__ import annotations

from bot.core.messages import TurnOutcome, TurnTrace
from bot.core.session import SessionKey
from bot.telemetry.metrics import Metrics

USER = SessionKey("line", "-", "U1")


def test_struggles_are_counted_per_state_and_outcome() -> None:
    metrics = Metrics()
    for outcome in ("asked_back", "reask", "reask", "faq", "answered"):
        metrics.turn_done(USER, TurnTrace(TurnOutcome(outcome), "lancers:ongoing", "lancers:ongoing"), 0.001)
    text = metrics.render().decode()
    assert 'taikai_understanding_struggles_total{flow="lancers",outcome="reask",state="ongoing"} 2.0' in text
    assert 'outcome="asked_back",state="ongoing"} 1.0' in text
    assert 'outcome="answered"' not in text.split("taikai_understanding_struggles_total")[-1].split("\n# ")[0]
    assert "まだ" not in text and "U1" not in text


def test_reminders_are_counted_by_kind_and_outcome() -> None:
    metrics = Metrics()
    metrics.reminder("pending", "scheduled")
    metrics.reminder("pending", "delivered")
    assert 'taikai_reminders_total{kind="pending",outcome="delivered"} 1.0' in metrics.render().decode()
