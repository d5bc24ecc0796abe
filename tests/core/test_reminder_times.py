"""When reminders fall due: days at 10:00 JST, the Lancers payday, never at night."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.dates import JST, due_at, in_hours


def at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=JST).timestamp())


def local(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, JST).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("now", "after", "due"),
    [
        ("2026-11-28 23:30", "1d", "2026-11-29 10:00"),
        ("2026-11-28 08:00", "3d", "2026-12-01 10:00"),
        ("2026-11-10 12:00", "payday", "2026-12-01 10:00"),  # 15日締め → 月末払い, the day after
        ("2026-11-15 12:00", "payday", "2026-12-01 10:00"),
        ("2026-11-16 12:00", "payday", "2026-12-16 10:00"),  # 月末締め → 翌15日払い
        ("2026-12-20 12:00", "payday", "2027-01-16 10:00"),
        ("2026-02-03 12:00", "payday", "2026-03-01 10:00"),
    ],
)
def test_due_times(now: str, after: str, due: str) -> None:
    assert local(due_at(at(now), after)) == due


@pytest.mark.parametrize(
    ("when", "delivered"),
    [
        ("2026-11-28 22:00", "2026-11-29 09:00"),
        ("2026-11-28 03:00", "2026-11-28 09:00"),
        ("2026-11-28 12:00", "2026-11-28 12:00"),
    ],
)
def test_quiet_hours_move_a_reminder_to_the_morning(when: str, delivered: str) -> None:
    assert local(in_hours(at(when))) == delivered


@given(st.integers(min_value=1_700_000_000, max_value=2_000_000_000))
def test_delivery_is_always_between_nine_and_nine(ts: int) -> None:
    hour = dt.datetime.fromtimestamp(in_hours(ts), JST).hour
    assert 9 <= hour < 21 and in_hours(ts) >= ts
