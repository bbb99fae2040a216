"""The working-day calendar is parsed once per content of the loaded years: unchanged rows give
the same calendar (with what it has counted), a year loaded by another process a new one at
once, and a deleted year is forgotten."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from backend.rectification import deadlines, holidays
from backend.rectification.tables import OfficialCalendar
from tests.cli_helpers import run_yibao
from tests.rectification.test_holidays import CALENDAR_2027


async def test_the_calendar_follows_its_rows_and_is_kept_while_they_stay(
    database: None, tmp_path: Path
) -> None:
    before = await holidays.current()
    # Without 2027 loaded: 1 January is 元旦 by the computed fallback, so provisional.
    fallback = deadlines.Due(date(2027, 1, 4), True)
    assert deadlines.due(date(2026, 12, 31), 1, "working", before) == fallback
    assert await holidays.current() is before  # the same rows: the same calendar
    path = tmp_path / "2027.yaml"
    path.write_text(CALENDAR_2027, encoding="utf-8")
    try:
        result = run_yibao("holidays", "load", str(path))  # another process
        assert result.returncode == 0, result.stderr
        loaded = await holidays.current()
        assert loaded is not before
        # 4 January is a holiday in the loaded year: the next working day, final.
        expected = deadlines.Due(date(2027, 1, 5), False)
        assert deadlines.due(date(2026, 12, 31), 1, "working", loaded) == expected
        assert deadlines.due(date(2026, 12, 31), 1, "working", loaded) == expected  # remembered
    finally:
        await OfficialCalendar.delete().where(OfficialCalendar.year == 2027)
    after = await holidays.current()
    assert deadlines.due(date(2026, 12, 31), 1, "working", after) == fallback
