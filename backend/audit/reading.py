"""Reading the audit log: filtered, newest first, one page at a time (admin only; read-only)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from backend.audit.tables import AuditEvent
from backend.china_time import CHINA_TZ
from backend.errors import InvalidInput

ACTION_RE = re.compile(r"^[a-z0-9_.]{1,64}$")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Dates in filters are the bureau's dates (China has one time zone and no DST).


def _day_start(day: date) -> datetime:
    """Midnight of ``day`` in China, in UTC (stored timestamps are compared in UTC)."""
    return datetime.combine(day, time(), tzinfo=CHINA_TZ).astimezone(UTC)


def _parse_day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"日期须为 YYYY-MM-DD 格式，不是 {value!r}", details={"field": field}) from None


async def search(
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    username: str | None = None,
    action: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Audit events matching every filter given, newest first.

    Args:
        entity_type: e.g. ``institution``.
        entity_id: the record's id as stored.
        username: the actor's username.
        action: an action (``institution.update``), or its prefix ending with a dot
            (``institution.`` for every institution action).
        date_from: first day (YYYY-MM-DD, China time), included.
        date_to: last day (YYYY-MM-DD, China time), included.
        limit: 1–200 events.
        offset: events to skip.

    Returns:
        The page of events (before/after parsed) and the number of all matching events.

    Raises:
        InvalidInput: a bad date, range or page bound.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"每页条数须在 1–{MAX_LIMIT} 之间", details={"field": "limit"})
    if offset < 0:
        raise InvalidInput("偏移量不能为负数", details={"field": "offset"})
    start = _parse_day(date_from, "date_from")
    end = _parse_day(date_to, "date_to")
    if start and end and start > end:
        raise InvalidInput("开始日期不能晚于结束日期", details={"field": "date_from"})
    clauses: list[Any] = []
    if entity_type:
        clauses.append(AuditEvent.entity_type == entity_type.strip())
    if entity_id:
        clauses.append(AuditEvent.entity_id == entity_id.strip())
    if username:
        clauses.append(AuditEvent.actor_username == username.strip())
    if action:
        text = action.strip()
        if not ACTION_RE.match(text):
            raise InvalidInput(
                "操作名称只能包含小写字母、数字、下划线和点，如 institution.update",
                details={"field": "action"},
            )
        if text.endswith("."):
            # No LIKE wildcard can come in (checked above); "_" matching any one letter is harmless.
            clauses.append(AuditEvent.action.like(f"{text}%"))
        else:
            clauses.append(AuditEvent.action == text)
    if start:
        clauses.append(AuditEvent.at >= _day_start(start))
    if end:
        clauses.append(AuditEvent.at < _day_start(end + timedelta(days=1)))
    where = None
    for clause in clauses:
        where = clause if where is None else where & clause
    query = (
        AuditEvent.select()
        .order_by(AuditEvent.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    count = AuditEvent.count()
    if where is not None:
        query = query.where(where)
        count = count.where(where)
    return await query, await count


async def actions() -> list[str]:
    """Every action that occurs in the log, sorted (for the filter's choices)."""
    rows = await AuditEvent.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return [r["action"] for r in rows]
