"""Deadlines on China's official calendar: holidays, make-up working days (调休), year ends,
calendar-day deadlines moved off rest days, and the fallback for years the calendar lacks."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from backend.rectification import deadlines
from backend.rectification.config import RectificationSettings
from backend.settings import SettingsError


def test_national_day_with_make_up_saturday() -> None:
    # 2026 国庆: 10-01..10-07 off; Saturday 10-10 is a working day (调休).
    # From Friday 09-25: 09-28, 09-29, 09-30, 10-08, 10-09, 10-10 (Sat), 10-12.
    assert deadlines.is_working_day(date(2026, 10, 10))
    assert not deadlines.is_working_day(date(2026, 10, 5))
    assert deadlines.add_working_days(date(2026, 9, 25), 7) == date(2026, 10, 12)
    # Weekends only would have said 10-06, in the middle of the holiday.
    assert deadlines.add_working_days(date(2026, 9, 25), 6) == date(2026, 10, 10)


def test_spring_festival_with_make_up_saturdays() -> None:
    # 2026 春节: 02-15..02-23 off; Saturdays 02-14 and 02-28 are working days.
    assert deadlines.is_working_day(date(2026, 2, 14))
    assert deadlines.is_working_day(date(2026, 2, 28))
    assert not deadlines.is_working_day(date(2026, 2, 18))
    # From Wednesday 02-11: 02-12, 02-13, 02-14 (Sat), then 02-24, 02-25, 02-26, 02-27.
    assert deadlines.add_working_days(date(2026, 2, 11), 7) == date(2026, 2, 27)
    assert deadlines.add_working_days(date(2026, 2, 11), 8) == date(2026, 2, 28)


def test_across_the_year_boundary() -> None:
    # 2025-12-25 (Thu) + 10 working days: 12-26, 12-29, 12-30, 12-31, then 元旦 01-01..01-03
    # off and Sunday 01-04 a make-up working day, then 01-05..01-09.
    assert not deadlines.is_working_day(date(2026, 1, 1))
    assert deadlines.is_working_day(date(2026, 1, 4))
    assert deadlines.add_working_days(date(2025, 12, 25), 10) == date(2026, 1, 9)


def test_calendar_days_move_off_holidays() -> None:
    # 09-24 + 7 calendar days = 10-01, a holiday: the deadline is the next working day (民法典 203).
    assert deadlines.add_calendar_days(date(2026, 9, 24), 7) == date(2026, 10, 8)
    assert deadlines.add_calendar_days(date(2026, 3, 2), 3) == date(2026, 3, 5)
    assert deadlines.deadline(date(2026, 3, 2), 3, "calendar") == date(2026, 3, 5)
    assert deadlines.deadline(date(2026, 3, 2), 3, "working") == date(2026, 3, 5)
    with pytest.raises(ValueError):
        deadlines.deadline(date(2026, 3, 2), 3, "lunar")


def test_a_year_the_calendar_lacks_counts_monday_to_friday(monkeypatch, caplog) -> None:
    monkeypatch.setattr(deadlines, "_warned_years", set())
    assert not deadlines.calendar_covers(date(2099, 1, 1))
    with caplog.at_level(logging.WARNING, logger="backend.rectification.deadlines"):
        # 2099-01-02 is a Friday: + 3 working days → Wednesday 01-07 (no holiday known).
        assert deadlines.add_working_days(date(2099, 1, 2), 3) == date(2099, 1, 7)
        deadlines.add_working_days(date(2099, 3, 2), 3)
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1  # once per year, not per day


def test_today_is_china_time() -> None:
    # 2026-12-31 17:00 UTC is already 2027-01-01 in China: the notice's year is 2027.
    assert deadlines.today_in_china(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == date(2027, 1, 1)
    assert deadlines.days_left(date(2026, 3, 10), date(2026, 3, 12)) == -2


def test_settings_are_checked() -> None:
    assert RectificationSettings.from_env({}) == RectificationSettings()
    custom = RectificationSettings.from_env(
        {
            "YIBAO_NOTICE_MODE": "draft",
            "YIBAO_DEADLINE_DAYS": "calendar",
            "YIBAO_OBJECTION_WORKING_DAYS": "15",
            "YIBAO_NOTICE_OFFICE": "county",
            "YIBAO_PUBLIC_BASE_URL": "https://yb.example.cn/",
        }
    )
    assert (custom.notice_mode, custom.deadline_basis, custom.objection_working_days) == (
        "draft",
        "calendar",
        15,
    )
    assert custom.office_level == "county" and custom.public_base_url == "https://yb.example.cn"
    for bad in (
        {"YIBAO_NOTICE_MODE": "later"},
        {"YIBAO_OBJECTION_WORKING_DAYS": "ten"},
        {"YIBAO_DEADLINE_DAYS": "lunar"},
        {"YIBAO_PUBLIC_BASE_URL": "yb.example.cn"},
    ):
        with pytest.raises(SettingsError):
            RectificationSettings.from_env(bad)
