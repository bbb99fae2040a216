"""The official calendar: the computed fallback across 元旦 2027 (provisional), a loaded 2027
calendar followed exactly and at once (``yibao holidays load``), and refused calendar files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from backend.errors import InvalidInput
from backend.rectification import deadlines, holidays
from backend.rectification.tables import OfficialCalendar
from tests.cli_helpers import run_yibao

# A made-up 2027 schedule, so that following it "exactly" differs from any computation: 元旦
# bridged to Monday 4 January, and Saturday 9 January a make-up working day.
CALENDAR_2027 = """\
year: 2027
source: 测试用安排
holidays: [2027-01-01, 2027-01-02, 2027-01-03, 2027-01-04]
workdays: [2027-01-09]
"""


def test_statutory_days_computed_for_2027() -> None:
    days = holidays.statutory_holidays(2027)
    assert date(2027, 1, 1) in days
    assert {date(2027, 5, 1), date(2027, 5, 2)} <= days
    assert {date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)} <= days
    # 春节 2027: 除夕 5 February, 正月初一 6 February to 初三 8 February.
    assert {date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)} <= days
    assert date(2027, 4, 5) in days  # 清明
    assert date(2027, 6, 9) in days  # 端午
    assert date(2027, 9, 15) in days  # 中秋
    assert len(days) == 13


def test_without_a_calendar_deadlines_across_new_year_2027_skip_1_january() -> None:
    empty = holidays.WorkCalendar()
    assert not deadlines.calendar_covers(date(2027, 1, 1), empty)
    assert not deadlines.is_working_day(date(2027, 1, 1), empty)  # a Friday, 元旦
    due = deadlines.due(date(2026, 12, 31), 1, "working", empty)
    assert due == deadlines.Due(date(2027, 1, 4), True)  # provisional
    due = deadlines.due(date(2026, 12, 25), 7, "calendar", empty)
    assert due == deadlines.Due(date(2027, 1, 4), True)  # 1 January moved on to Monday
    # Within 2026 (the package's year) nothing is provisional; 0 days is the day itself.
    assert deadlines.due(date(2026, 12, 1), 5, "working", empty).provisional is False
    assert deadlines.due(date(2026, 12, 31), 0, "working", empty) == deadlines.Due(
        date(2026, 12, 31), False
    )


async def test_a_loaded_calendar_is_followed_exactly_and_at_once(
    database: None, tmp_path: Path
) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(CALENDAR_2027, encoding="utf-8")
    try:
        result = run_yibao("holidays", "load", str(path))
        assert result.returncode == 0, result.stderr
        assert "2027 年节假日安排已载入：放假 4 天，调休上班 1 天" in result.stdout
        calendar = await holidays.current()  # read now, no restart
        assert deadlines.due(date(2026, 12, 31), 1, "working", calendar) == deadlines.Due(
            date(2027, 1, 5), False
        )
        # 5, 6, 7, 8 January and the make-up Saturday the 9th.
        assert deadlines.due(date(2026, 12, 31), 5, "working", calendar).day == date(2027, 1, 9)
        assert deadlines.due(date(2026, 12, 25), 7, "calendar", calendar).day == date(2027, 1, 5)
        assert deadlines.is_working_day(date(2027, 1, 9), calendar)
        again = run_yibao("holidays", "load", str(path))
        assert again.returncode == 0 and "已更新" in again.stdout
        assert await OfficialCalendar.count().where(OfficialCalendar.year == 2027) == 1
    finally:
        await OfficialCalendar.delete().where(OfficialCalendar.year == 2027)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("year: 2027\nholidays: [2026-12-31]\n", "不在 2027 年"),
        ("year: 2027\nholidays: [2027-13-01]\n", "不是日期"),
        ("year: 2027\nholidays: [2027-01-01]\nworkdays: [2027-01-01]\n", "既是假日又是调休上班日"),
        ("year: twenty\nholidays: [2027-01-01]\n", "year 应为"),
        ("year: 2027\nholiday: [2027-01-01]\n", "未知的项"),
        ("year: 2027\nholidays: [\n", "不是有效的 YAML"),
    ],
)
def test_bad_calendar_files_are_refused_in_chinese(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        holidays.parse_calendar(text)
    assert words in refused.value.message


def test_the_cli_refuses_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("year: 2027\nholidays: []\n", encoding="utf-8")
    result = run_yibao("holidays", "load", str(path))
    assert result.returncode == 1 and "holidays 不能为空" in result.stderr
