"""China's official working-day calendar, from three sources in order of trust.

1. **A loaded calendar**: the State Council's notice of a year (国务院办公厅关于某年部分节假日安排
   的通知), loaded with ``yibao holidays load FILE.yaml`` into ``official_calendar``::

       year: 2027
       source: 国办发明电〔2026〕N号          # optional
       holidays: [2027-01-01, 2027-02-05, …]  # days off (weekend days may be listed or not)
       workdays: [2027-02-20, …]              # make-up working days (调休上班)

   It is read from the database whenever deadlines are counted, so a loaded year takes effect at
   once in every worker, without a restart.
2. **The ``chinese-calendar`` package** for the years it covers (it is updated each December).
3. **The computed fallback** for any other year: weekends, plus the statutory holidays of
   《全国年节及纪念日放假办法》(国务院令第798号, 2025 年起施行) that can be computed —
   元旦 (1 January), 春节 (除夕 and 正月初一至初三), 清明节 (the 清明 solar term), 劳动节
   (1–2 May), 端午节 (五月初五), 中秋节 (八月十五), 国庆节 (1–3 October) — with the lunar dates
   and solar terms from the maintained ``lunar-python`` library. It cannot know the year's
   make-up working days or bridged days, so a deadline counted on it is marked provisional
   (暂定) until the year's calendar is loaded.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from backend import db
from backend.errors import InvalidInput

#: Where a day's status came from.
LOADED, PACKAGE, FALLBACK = "loaded", "package", "fallback"


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """The statutory holidays of ``year`` that can be computed (see the module docstring)."""
    from lunar_python import Lunar, Solar

    days = {dt.date(year, 1, 1), dt.date(year, 5, 1), dt.date(year, 5, 2)}
    days |= {dt.date(year, 10, d) for d in (1, 2, 3)}

    def solar(lunar: Any) -> dt.date:
        s = lunar.getSolar()
        return dt.date(s.getYear(), s.getMonth(), s.getDay())

    new_year = solar(Lunar.fromYmd(year, 1, 1))  # 正月初一
    days |= {new_year + dt.timedelta(days=d) for d in (-1, 0, 1, 2)}  # 除夕 to 初三
    days.add(solar(Lunar.fromYmd(year, 5, 5)))  # 端午
    days.add(solar(Lunar.fromYmd(year, 8, 15)))  # 中秋
    qingming = Solar.fromYmd(year, 4, 20).getLunar().getJieQiTable()["清明"]
    days.add(dt.date(qingming.getYear(), qingming.getMonth(), qingming.getDay()))
    return frozenset(d for d in days if d.year == year)


@dataclass(frozen=True)
class LoadedYear:
    """One loaded year of the official calendar."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


@dataclass(frozen=True)
class WorkCalendar:
    """The working-day calendar as known now: the loaded years, then the package, then the
    computed fallback. Build it with :func:`current` before counting deadlines.

    An instance is immutable data, so it remembers what it has worked out (each day's source
    and status, and the deadlines counted on it: :func:`backend.rectification.deadlines.due`);
    :func:`current` hands out the same instance while the loaded years stay the same.
    """

    loaded: dict[int, LoadedYear] = field(default_factory=dict)
    _days: dict[dt.date, tuple[str, bool]] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def _day(self, day: dt.date) -> tuple[str, bool]:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._decide(day)
        return known

    def _decide(self, day: dt.date) -> tuple[str, bool]:
        year = self.loaded.get(day.year)
        if year is not None:
            if day in year.workdays:
                return LOADED, True
            return LOADED, day.weekday() < 5 and day not in year.holidays
        try:
            return PACKAGE, chinese_calendar.is_workday(day)
        except NotImplementedError:
            return FALLBACK, day.weekday() < 5 and day not in statutory_holidays(day.year)

    def source(self, day: dt.date) -> str:
        """Which source decides ``day``: loaded, package or fallback."""
        return self._day(day)[0]

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day: holidays are not, make-up days (调休) are."""
        return self._day(day)[1]


# The calendar last built, by the loaded rows' text: the rows are read on every count (a
# ``yibao holidays load`` in another process takes effect at once), parsed only when they change.
_built: tuple[tuple[Any, ...], WorkCalendar] | None = None


async def current() -> WorkCalendar:
    """The calendar with every loaded year, read now (a handful of rows)."""
    global _built
    from backend.rectification.tables import OfficialCalendar

    if db.engine().current_transaction.get() is not None:
        # A submission issues its notice in its transaction: a plain read on its connection
        # (the ORM's statement building costs more than the read).
        rows = await db.read_rows(
            "SELECT year, holidays, workdays FROM official_calendar ORDER BY year"
        )
    else:
        rows = await OfficialCalendar.select(
            OfficialCalendar.year, OfficialCalendar.holidays, OfficialCalendar.workdays
        ).order_by(OfficialCalendar.year)
    key = tuple((r["year"], str(r["holidays"]), str(r["workdays"])) for r in rows)
    if _built is not None and _built[0] == key:
        return _built[1]
    loaded = {}
    for r in rows:
        loaded[r["year"]] = LoadedYear(
            year=r["year"],
            holidays=frozenset(dt.date.fromisoformat(d) for d in _list(r["holidays"])),
            workdays=frozenset(dt.date.fromisoformat(d) for d in _list(r["workdays"])),
        )
    calendar = WorkCalendar(loaded)
    _built = (key, calendar)
    return calendar


def _list(value: Any) -> list[str]:
    """A JSON list column as read without ``load_json`` (text, or already a list)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value or []


def _dates(value: Any, name: str, year: int) -> list[dt.date]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{name} 应为日期列表（YYYY-MM-DD）")
    days = []
    for raw in value:
        if isinstance(raw, dt.datetime) or not isinstance(raw, (dt.date, str)):
            raise InvalidInput(f"{name} 中的 {raw!r} 不是日期，应写作 YYYY-MM-DD")
        try:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise InvalidInput(f"{name} 中的 {raw!r} 不是日期，应写作 YYYY-MM-DD") from None
        if day.year != year:
            raise InvalidInput(f"{name} 中的 {day.isoformat()} 不在 {year} 年")
        days.append(day)
    return sorted(set(days))


def parse_calendar(text: str) -> tuple[int, list[dt.date], list[dt.date], str]:
    """A calendar file's year, holidays, make-up working days and source.

    Raises:
        InvalidInput: not YAML, a missing or bad year, a bad date, a date in two lists.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"节假日文件不是有效的 YAML：{exc}") from None
    except ValueError as exc:  # YAML reads 2027-13-01 as a date and fails on it
        raise InvalidInput(f"节假日文件中有不是日期的值，应写作 YYYY-MM-DD：{exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("节假日文件应包含 year、holidays、workdays 三项")
    unknown = set(data) - {"year", "holidays", "workdays", "source"}
    if unknown:
        raise InvalidInput(f"节假日文件有未知的项：{'、'.join(sorted(map(str, unknown)))}")
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise InvalidInput(f"year 应为 2000 至 2100 之间的年份，收到 {year!r}")
    holidays = _dates(data.get("holidays"), "holidays", year)
    workdays = _dates(data.get("workdays"), "workdays", year)
    both = set(holidays) & set(workdays)
    if both:
        raise InvalidInput(
            f"{'、'.join(d.isoformat() for d in sorted(both))} 不能既是假日又是调休上班日"
        )
    if not holidays:
        raise InvalidInput("holidays 不能为空：请按国务院办公厅当年的放假通知填写")
    source = str(data.get("source") or "")[:256]
    return year, holidays, workdays, source


async def load_file(path: Path) -> dict[str, Any]:
    """Store the year of a calendar file (replacing that year if loaded before), audited.

    Returns:
        ``{"year", "holidays", "workdays", "replaced"}``.

    Raises:
        InvalidInput: the file is missing or not a valid calendar.
    """
    from backend.audit.services import Actor, record
    from backend.db import write_transaction
    from backend.rectification.tables import OfficialCalendar

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"无法读取节假日文件 {path}：{exc.strerror}") from None
    year, holidays, workdays, source = parse_calendar(text)
    async with write_transaction():
        before = await OfficialCalendar.select().where(OfficialCalendar.year == year).first()
        values = {
            "holidays": [d.isoformat() for d in holidays],
            "workdays": [d.isoformat() for d in workdays],
            "source": source,
        }
        if before is None:
            await OfficialCalendar.insert(OfficialCalendar(year=year, **values))
        else:
            await OfficialCalendar.update(
                {
                    OfficialCalendar.holidays: values["holidays"],
                    OfficialCalendar.workdays: values["workdays"],
                    OfficialCalendar.source: source,
                    OfficialCalendar.loaded_at: dt.datetime.now(dt.UTC),
                }
            ).where(OfficialCalendar.year == year)
        await record(
            Actor.system("cli"),
            "holidays.load",
            "official_calendar",
            str(year),
            before={"holidays": len(before["holidays"]), "workdays": len(before["workdays"])}
            if before
            else None,
            after={"year": year, "holidays": len(holidays), "workdays": len(workdays)},
        )
    return {
        "year": year,
        "holidays": len(holidays),
        "workdays": len(workdays),
        "replaced": before is not None,
    }
