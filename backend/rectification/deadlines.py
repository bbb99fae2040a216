"""Deadlines: calendar or working days on China's official calendar, and today in China.

Working days follow the State Council's yearly holiday schedule (法定节假日 and the make-up
working days, 调休, often Saturdays or Sundays) through the maintained ``chinese-calendar``
package. A year the installed package does not cover yet (it is updated each December, when the
next year's schedule is published) falls back to Monday–Friday, with a warning in the log: the
deadline may then be a day or two off around that year's holidays, until the package is updated.

Counting: the day of service does not count (期间开始的当日不计入); the deadline is the N-th
working day after it. In calendar mode a deadline that falls on a rest day or holiday moves to
the next working day (《民法典》第二百零三条: 期间的最后一日是法定休假日的, 以法定休假日结束的
次日为期间的最后一日).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar

CHINA_TZ = timezone(timedelta(hours=8))  # Asia/Shanghai: one time zone, no daylight saving

_log = logging.getLogger(__name__)
_warned_years: set[int] = set()


def today_in_china(now: datetime | None = None) -> date:
    """The date in China at ``now`` (default: the current time)."""
    return (now or datetime.now(UTC)).astimezone(CHINA_TZ).date()


def calendar_covers(day: date) -> bool:
    """Whether the official holiday calendar of ``day``'s year is known to the package."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in China: holidays are not, make-up days (调休) are.

    For a year the package does not cover, Monday to Friday (logged once per year).
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            _log.warning(
                "chinese-calendar has no holiday schedule for %s: counting Monday-Friday as "
                "working days for that year; update the chinese-calendar package",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted).

    Args:
        start: the day of service (e.g. the notice's issue date).
        days: at least 1.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def add_calendar_days(start: date, days: int) -> date:
    """``start`` + ``days``, moved to the next working day when it falls on a rest day."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start + timedelta(days=days)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def deadline(start: date, days: int, basis: str) -> date:
    """The deadline ``days`` after ``start``, counted as ``basis`` (``working`` or ``calendar``)."""
    if basis == "calendar":
        return add_calendar_days(start, days)
    if basis == "working":
        return add_working_days(start, days)
    raise ValueError(f"unknown deadline basis {basis!r}")


def days_left(due: date, today: date) -> int:
    """Calendar days from ``today`` to ``due``: 0 on the day itself, negative once past."""
    return (due - today).days
