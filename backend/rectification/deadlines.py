"""Deadlines: calendar or working days on China's official calendar, and today in China.

Working days come from :mod:`backend.rectification.holidays`: a loaded State Council calendar
first, then the ``chinese-calendar`` package, then a computed fallback of the statutory holidays.
A deadline whose counting touched a fallback day is provisional (暂定).

Counting: the day of service does not count (期间开始的当日不计入); the deadline is the N-th
working day after it. In calendar mode a deadline that falls on a rest day or holiday moves to
the next working day (《民法典》第二百零三条: 期间的最后一日是法定休假日的, 以法定休假日结束的
次日为期间的最后一日). ``0`` days is 立即整改: the deadline is the day of service itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

# Deadlines count China's days; the clock is shared with the other domains (and kept here as
# ``deadlines.today_in_china`` for the rectification modules).
from backend.china_time import today_in_china as today_in_china
from backend.rectification.holidays import FALLBACK, WorkCalendar

_log = logging.getLogger(__name__)
_warned_years: set[int] = set()


def calendar_covers(day: date, calendar: WorkCalendar | None = None) -> bool:
    """Whether ``day``'s year has an official calendar (loaded or in the package)."""
    return (calendar or WorkCalendar()).source(day) != FALLBACK


def is_working_day(day: date, calendar: WorkCalendar | None = None) -> bool:
    """Whether ``day`` is a working day in China: holidays are not, make-up days (调休) are.

    ``calendar``: the loaded years (:func:`backend.rectification.holidays.current`); without it,
    the package, then the computed fallback (logged once per year).
    """
    cal = calendar or WorkCalendar()
    if cal.source(day) == FALLBACK and day.year not in _warned_years:
        _warned_years.add(day.year)
        _log.warning(
            "no official holiday calendar for %s: counting weekends and the computable statutory "
            "holidays only (provisional); load it with `yibao holidays load`",
            day.year,
        )
    return cal.is_working_day(day)


@dataclass(frozen=True)
class Due:
    """A deadline and whether it is provisional (counted on the fallback calendar)."""

    day: date
    provisional: bool


def due(start: date, days: int, basis: str, calendar: WorkCalendar | None = None) -> Due:
    """The deadline ``days`` after ``start`` counted as ``basis`` (``calendar`` or ``working``);
    ``days == 0`` is 立即整改 (``start`` itself, final)."""
    cal = calendar or WorkCalendar()
    if basis not in ("calendar", "working"):
        raise ValueError(f"unknown deadline basis {basis!r}")
    if days < 0:
        raise ValueError("days must not be negative")
    if days == 0:
        return Due(start, False)
    # A notice counts the same few (days, basis) from the same day for each of its tasks.
    key = ("due", start, days, basis)
    known = cal.memo.get(key)
    if known is None:
        if len(cal.memo) > 10_000:  # a long-lived calendar: a few new keys a day, kept bounded
            cal.memo.clear()
        known = cal.memo[key] = _count(start, days, basis, cal)
    return known


def _count(start: date, days: int, basis: str, cal: WorkCalendar) -> Due:
    provisional = False
    day = start
    if basis == "working":
        left = days
        while left:
            day += timedelta(days=1)
            provisional |= cal.source(day) == FALLBACK
            if is_working_day(day, cal):
                left -= 1
    else:
        day = start + timedelta(days=days)
        provisional |= cal.source(day) == FALLBACK
        while not is_working_day(day, cal):
            day += timedelta(days=1)
            provisional |= cal.source(day) == FALLBACK
    return Due(day, provisional)


def add_working_days(start: date, days: int, calendar: WorkCalendar | None = None) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted; ``days`` ≥ 1)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    return due(start, days, "working", calendar).day


def add_calendar_days(start: date, days: int, calendar: WorkCalendar | None = None) -> date:
    """``start`` + ``days``, moved to the next working day when it falls on a rest day."""
    if days < 1:
        raise ValueError("days must be at least 1")
    return due(start, days, "calendar", calendar).day


def deadline(start: date, days: int, basis: str, calendar: WorkCalendar | None = None) -> date:
    """The deadline ``days`` after ``start``, counted as ``basis`` (``working`` or ``calendar``)."""
    return due(start, days, basis, calendar).day


def days_left(due: date, today: date) -> int:
    """Calendar days from ``today`` to ``due``: 0 on the day itself, negative once past."""
    return (due - today).days
