"""Plain SQL for the tracking queries, written once for SQLite and PostgreSQL.

The dashboard, its lists and the exports aggregate over several tables at once; they are written
as parametrised SQL (Piccolo's ``raw`` with ``{}`` placeholders) so that each query can be read,
explained and benchmarked as it runs. The few places where the engines differ (the day and month
of a timestamp in China time) go through :func:`china_date` and :func:`china_month`.

Timestamps: PostgreSQL stores ``timestamptz``; Piccolo stores them on SQLite as UTC text
(``2026-05-01 02:03:04.123456+00:00``), which compares correctly as text against parameters that
Piccolo's adapter writes the same way. A period of China days is therefore turned into a half-open
range of UTC instants before it reaches the database, and indexes on the raw columns serve it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from backend import db
from backend.institutions.tables import Institution


class Query:
    """A SQL text being built with its parameters, in order.

    ``add("x.a = {}", value)`` appends a fragment whose ``{}`` placeholders take the values.
    """

    def __init__(self, text: str = "", *args: Any) -> None:
        self.parts: list[str] = [text] if text else []
        self.args: list[Any] = list(args)

    def add(self, text: str, *args: Any) -> Query:
        """Append a fragment and its values; returns self for chaining."""
        if text.count("{}") != len(args):  # a mismatch would misplace every later value
            raise ValueError(f"placeholders and values differ in {text!r}")
        self.parts.append(text)
        self.args.extend(args)
        return self

    def extend(self, other: Query) -> Query:
        """Append another query's text and values."""
        self.parts.extend(other.parts)
        self.args.extend(other.args)
        return self

    @property
    def text(self) -> str:
        """The SQL with ``{}`` placeholders."""
        return " ".join(self.parts)

    async def rows(self) -> list[dict[str, Any]]:
        """Run the query; rows as dicts."""
        return await Institution.raw(self.text, *self.args)

    async def one(self) -> dict[str, Any]:
        """Run a query that returns one row (an aggregate)."""
        rows = await self.rows()
        return rows[0] if rows else {}


def placeholders(values: Sequence[Any]) -> str:
    """``{}, {}, …`` for an IN list of these values (at least one)."""
    return ", ".join("{}" for _ in values)


def in_list(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column IN (…)`` with its values; a condition that is never true for an empty list."""
    if not values:
        return "1 = 0", []
    return f"{column} IN ({placeholders(values)})", list(values)


def china_date(expr: str) -> str:
    """The calendar day in China (UTC+8, no DST) of a timestamp expression, as a date/text."""
    if db.is_sqlite():
        return f"date({expr}, '+8 hours')"
    return f"(({expr}) AT TIME ZONE 'Asia/Shanghai')::date"


def china_month(expr: str) -> str:
    """The month in China (``YYYY-MM`` text) of a timestamp expression."""
    if db.is_sqlite():
        return f"strftime('%Y-%m', {expr}, '+8 hours')"
    return f"to_char(({expr}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


def as_int(value: Any) -> int:
    """An aggregate as an int (SUM over no rows is NULL; PostgreSQL's SUM may be numeric)."""
    return int(value or 0)


def as_float(value: Any) -> float | None:
    """A numeric value as a float, None kept."""
    return None if value is None else float(value)


def strings(values: Iterable[Any]) -> list[str]:
    """Values as text (for enum members)."""
    return [str(v) for v in values]
