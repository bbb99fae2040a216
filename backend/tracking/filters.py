"""The filters every tracking view shares: region, institution type and period.

``region`` is a region code (a city covers its counties); none means the caller's own region, or
everything for an admin. A region outside the caller's scope answers 404, exactly as an unknown
one. ``type`` is an institution type code. ``from``/``to`` are China calendar days (inclusive);
none means the current calendar year in China time. The period selects inspections by their
submission day, and notices and their tasks by their issue day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, region_scope
from backend.accounts.tables import Role
from backend.china_time import CHINA_TZ, today_in_china
from backend.errors import InvalidInput, NotFound
from backend.institutions.tables import INSTITUTION_TYPE_LABELS, InstitutionType, Region
from backend.tracking.sql import Query, in_list

REGION_NOT_VISIBLE = "地区不存在或不在您的管辖范围内"
# A period longer than this is almost certainly a typo (and would make the monthly chart huge).
MAX_PERIOD_DAYS = 366 * 10


@dataclass(frozen=True)
class Filters:
    """Resolved filters: the regions in scope, the type and the period."""

    region_ids: tuple[UUID, ...] | None  # None: every region (an admin with no region chosen)
    region_code: str | None
    region_name: str
    type: str | None
    start: date  # first China day of the period
    end: date  # last China day of the period (inclusive)

    @property
    def start_at(self) -> datetime:
        """The period's first instant (UTC)."""
        return datetime.combine(self.start, time(), CHINA_TZ).astimezone(UTC)

    @property
    def end_at(self) -> datetime:
        """The instant after the period's last day (UTC), exclusive."""
        return datetime.combine(self.end + timedelta(days=1), time(), CHINA_TZ).astimezone(UTC)

    @property
    def type_label(self) -> str | None:
        """The type's Chinese name."""
        return INSTITUTION_TYPE_LABELS[InstitutionType(self.type)] if self.type else None

    def institution_scope(self, alias: str = "i") -> Query:
        """``AND …`` conditions restricting institution ``alias`` to the region and type."""
        q = Query()
        if self.region_ids is not None:
            text, args = in_list(f"{alias}.region", list(self.region_ids))
            q.add(f"AND {text}", *args)
        if self.type:
            q.add(f"AND {alias}.type = {{}}", self.type)
        return q

    def period(self, column: str) -> Query:
        """``AND column`` within the period (a timestamp column)."""
        return Query().add(f"AND {column} >= {{}} AND {column} < {{}}", self.start_at, self.end_at)

    def echo(self) -> dict[str, Any]:
        """The filters as the answers repeat them."""
        return {
            "region": self.region_code,
            "region_name": self.region_name,
            "type": self.type,
            "type_label": self.type_label,
            "from": self.start,
            "to": self.end,
        }


def parse_day(value: str | None, field: str) -> date | None:
    """A ``YYYY-MM-DD`` day, or None when empty.

    Raises:
        InvalidInput: not a valid day.
    """
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"日期 {value!r} 无效，应为 YYYY-MM-DD 格式（如 2026-01-31）", details={"field": field}
        ) from None


def parse_type(value: str | None) -> str | None:
    """An institution type code, or None when empty.

    Raises:
        InvalidInput: not a known type.
    """
    if value is None or not value.strip():
        return None
    try:
        return InstitutionType(value.strip()).value
    except ValueError:
        allowed = "、".join(f"{t.value}（{label}）" for t, label in INSTITUTION_TYPE_LABELS.items())
        raise InvalidInput(
            f"机构类型 {value!r} 无效，可选：{allowed}", details={"field": "type"}
        ) from None


async def resolve(
    user: CurrentUser,
    *,
    region: str | None = None,
    type: str | None = None,
    start: str | None = None,
    end: str | None = None,
    today: date | None = None,
) -> Filters:
    """Check and resolve the filters for this caller.

    Args:
        user: the caller (a supervisor or an admin; the routes' guards see to that).
        region: a region code; default the caller's region (an admin: everything).
        type: an institution type code.
        start: first day (``YYYY-MM-DD``); default 1 January of the current year in China.
        end: last day, inclusive; default 31 December of the current year in China.
        today: the China day taken as today (tests).

    Raises:
        NotFound: the region is unknown or outside the caller's scope.
        InvalidInput: a bad type or day, or a period that ends before it starts.
    """
    kind = parse_type(type)
    first = parse_day(start, "from")
    last = parse_day(end, "to")
    year = (today or today_in_china()).year
    first = first or date(year, 1, 1)
    last = last or date(max(year, first.year), 12, 31)
    if last < first:
        raise InvalidInput("结束日期不能早于开始日期", details={"field": "to"})
    if (last - first).days > MAX_PERIOD_DAYS:
        raise InvalidInput("时间范围不能超过十年", details={"field": "from"})

    if region and region.strip():
        row = (
            await Region.select(Region.id, Region.code, Region.name)
            .where(Region.code == region.strip())
            .first()
        )
        if row is None or (user.region_ids is not None and row["id"] not in user.region_ids):
            raise NotFound(REGION_NOT_VISIBLE)
        ids: tuple[UUID, ...] | None = tuple(sorted(await region_scope(row["id"]), key=str))
        code, name = row["code"], row["name"]
    elif user.role == Role.admin or user.region_ids is None:
        ids, code, name = None, None, "全部地区"
    else:
        own = (
            await Region.select(Region.code, Region.name).where(Region.id == user.region_id).first()
            if user.region_id
            else None
        )
        ids = tuple(sorted(user.region_ids, key=str))
        code, name = (own["code"], own["name"]) if own else (None, "本辖区")
    return Filters(
        region_ids=ids, region_code=code, region_name=name, type=kind, start=first, end=last
    )
