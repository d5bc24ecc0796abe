"""When a reminder falls due: pure date arithmetic in Japan time (UTC+9, no daylight saving).

`after` is written in flows/: `1d`, `3d`, `7d`, `30d` (days from now, delivered at 10:00), or `payday`
(the day after the next Lancers payout: 15日締め→月末払い, 月末締め→翌15日払い). Every due time is moved
into the delivery hours (9:00–21:00 JST): a reminder never wakes anyone at night.
"""

from __future__ import annotations

import datetime as dt
import re

JST = dt.timezone(dt.timedelta(hours=9))
OPEN_HOUR, CLOSE_HOUR = 9, 21  # delivery window, JST
SEND_HOUR = 10  # day-based reminders arrive mid-morning
_DAYS = re.compile(r"^(\d{1,3})d$")


class BadDelay(ValueError):
    """An `after:` value flows/ does not allow."""


def valid(after: str) -> bool:
    return after == "payday" or bool(_DAYS.match(after))


def due_at(now: int, after: str) -> int:
    """Unix seconds of the delivery time for a reminder asked for at `now`."""
    today = dt.datetime.fromtimestamp(now, JST)
    if after == "payday":
        day = _payday(today.date()) + dt.timedelta(days=1)
    else:
        found = _DAYS.match(after)
        if found is None:
            raise BadDelay(after)
        day = today.date() + dt.timedelta(days=int(found.group(1)))
    return int(dt.datetime.combine(day, dt.time(SEND_HOUR), JST).timestamp())


def in_hours(when: int) -> int:
    """`when`, or the next moment inside the delivery hours (a reminder due at 23:00 waits for 9:00)."""
    local = dt.datetime.fromtimestamp(when, JST)
    if OPEN_HOUR <= local.hour < CLOSE_HOUR:
        return when
    day = local.date() if local.hour < OPEN_HOUR else local.date() + dt.timedelta(days=1)
    return int(dt.datetime.combine(day, dt.time(OPEN_HOUR), JST).timestamp())


def _payday(today: dt.date) -> dt.date:
    """The next Lancers payout date: requests up to the 15th are paid at the month's end, later ones on
    the 15th of the next month."""
    if today.day <= 15:
        return _month_end(today)
    first_next = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next.replace(day=15)


def _month_end(day: dt.date) -> dt.date:
    first_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def shown(when: int) -> str:
    """「12月1日（月）10:00ごろ」 for 「状況」."""
    local = dt.datetime.fromtimestamp(when, JST)
    weekday = "月火水木金土日"[local.weekday()]
    return f"{local.month}月{local.day}日（{weekday}）{local.hour}:{local.minute:02d}ごろ"
