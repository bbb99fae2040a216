"""The answer tallies behind the most-failed items (最常不合格检查项).

Counting 符合/不符合 per checklist item over a period means reading every answer of the period's
inspections (50 per inspection: 3.3 million a year for a province), which no index makes fast.
Two summary tables hold those counts instead, written in the transaction that submits the
inspection (:func:`record_submission`, called from ``backend/inspections/sync.py``):

- ``finding_tally_day`` — per China day of submission, region, institution type, checklist and
  item: how many answers failed and how many were answered (符合 or 不符合; 不适用 is left out).
- ``finding_tally_month`` — the same per China month (``month`` is the month's first day), so
  that a period of whole months (the default: a calendar year) reads a few thousand rows.

A period is read as its whole months from the month table plus its partial months at either end
from the day table (:func:`split_period`).

Region and type are the institution's **at submission**. A submitted inspection's answers never
change afterwards (the sync refuses edits of a submitted inspection) and the services offer no
way to move an institution to another region or type, so the tallies stay equal to the raw rows;
``yibao tracking rebuild`` (:func:`rebuild`) recounts them from the raw rows if either ever
happens (a data repair, a bulk import written straight to the tables).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from backend import db
from backend.audit.services import Actor, record
from backend.tracking.filters import Filters
from backend.tracking.sql import Query, china_date, in_list

FINDING_TABLES = ("finding_tally_day", "finding_tally_month")
INSPECTION_TABLES = ("inspection_tally_day", "inspection_tally_month")
TABLES = FINDING_TABLES + INSPECTION_TABLES
KEY = "region, type, checklist_id, item_id"
INSPECTION_KEY = "region, type, grade, band"
NO_SCORE = -1  # the band of an inspection without an official total
# The score band (lower bound of ten points, 90–100 closed) of inspection x, as the scores chart.
BAND = (
    "CASE WHEN x.score_total IS NULL THEN -1 "
    + " ".join(f"WHEN x.score_total >= {lo} THEN {lo}" for lo in range(90, -10, -10))
    + " ELSE 0 END"
)


def china_month_start(expr: str) -> str:
    """The first day of the China month of a timestamp expression (a date/text)."""
    if db.is_sqlite():
        return f"strftime('%Y-%m-01', {expr}, '+8 hours')"
    return f"(date_trunc('month', ({expr}) AT TIME ZONE 'Asia/Shanghai'))::date"


def _fill(table: str, where: str, *args: Any) -> Query:
    """``INSERT … SELECT`` adding the submitted inspections ``x`` matching ``where`` (their
    answers, or themselves) to ``table`` (rows already there are incremented)."""
    when = "day" if table.endswith("_day") else "month"
    if table in INSPECTION_TABLES:
        return _fill_inspections(table, when, where, *args)
    bucket = china_date("x.submitted_at") if when == "day" else china_month_start("x.submitted_at")
    return Query(
        f"INSERT INTO {table} ({when}, {KEY}, failed, answered)"
        f" SELECT {bucket}, i.region, i.type, cv.checklist_id, f.item_id,"
        " SUM(CASE WHEN f.result = 'fail' THEN 1 ELSE 0 END), COUNT(*)"
        " FROM finding f JOIN inspection x ON x.id = f.inspection"
        " JOIN institution i ON i.id = x.institution"
        " JOIN checklist_version cv ON cv.id = x.checklist"
        f" WHERE x.status = 'submitted' AND f.result IN ('pass', 'fail') AND {where}"
        f" GROUP BY {bucket}, i.region, i.type, cv.checklist_id, f.item_id"
        # One lock order for every writer: two submissions of the same day never deadlock.
        f" ORDER BY {bucket}, i.region, i.type, cv.checklist_id, f.item_id"
        f" ON CONFLICT ({when}, {KEY}) DO UPDATE SET failed = {table}.failed + excluded.failed,"
        f" answered = {table}.answered + excluded.answered",
        *args,
    )


def _fill_inspections(table: str, when: str, where: str, *args: Any) -> Query:
    bucket = china_date("x.submitted_at") if when == "day" else china_month_start("x.submitted_at")
    grade = "COALESCE(x.grade, '')"
    return Query(
        f"INSERT INTO {table} ({when}, {INSPECTION_KEY}, inspections, scored, score_sum)"
        f" SELECT {bucket}, i.region, i.type, {grade}, {BAND}, COUNT(*), COUNT(x.score_total),"
        " COALESCE(SUM(x.score_total), 0)"
        " FROM inspection x JOIN institution i ON i.id = x.institution"
        f" WHERE x.status = 'submitted' AND {where}"
        f" GROUP BY {bucket}, i.region, i.type, {grade}, {BAND}"
        f" ORDER BY {bucket}, i.region, i.type, {grade}, {BAND}"
        f" ON CONFLICT ({when}, {INSPECTION_KEY}) DO UPDATE SET"
        f" inspections = {table}.inspections + excluded.inspections,"
        f" scored = {table}.scored + excluded.scored,"
        f" score_sum = {table}.score_sum + excluded.score_sum",
        *args,
    )


async def record_submission(inspection_id: UUID) -> None:
    """Add a just-submitted inspection's answers to the tallies (in the caller's transaction,
    after the inspection's status is ``submitted``)."""
    if db.engine().current_transaction.get() is None:
        for table in TABLES:
            await _fill(table, "x.id = {}", inspection_id).rows()
        return
    # The same statements, run on the transaction's connection without the ORM's raw query (a
    # sync push submits on the hot path, where building the query cost more than running it).
    for text in _submission_sql():
        await db.run_many(text, [(inspection_id,)])


def _submission_sql() -> list[str]:
    """The statements of :func:`record_submission` (``$1``: the inspection's id), per engine."""
    engine = "sqlite" if db.is_sqlite() else "pg"
    cached = _SUBMISSION_SQL.get(engine)
    if cached is None:
        texts = [_fill(table, "x.id = {}", None).text for table in TABLES]
        if any(t.count("{}") != 1 for t in texts):  # the id must be the only value
            raise ValueError("a tally statement has more than one placeholder")
        cached = _SUBMISSION_SQL[engine] = [t.replace("{}", "$1") for t in texts]
    return cached


_SUBMISSION_SQL: dict[str, list[str]] = {}


async def refill(tables: tuple[str, ...] = TABLES) -> dict[str, int]:
    """Empty the tallies and count every submitted inspection (and its answers) again, in the
    caller's transaction (a migration's); rows per table."""
    counts: dict[str, int] = {}
    for table in tables:
        await Query(f"DELETE FROM {table}").rows()
        await _fill(table, "1 = 1").rows()
        row = await Query(f"SELECT COUNT(*) AS n FROM {table}").one()
        counts[table] = int(row.get("n") or 0)
    return counts


async def refill_tasks() -> int:
    """Empty the task tally (kept by triggers, see :mod:`backend.tracking.task_tally`) and count
    every task of every issued notice again, in the caller's transaction; its rows."""
    from backend.tracking.task_tally import refill_sql

    for statement in refill_sql("sqlite" if db.is_sqlite() else "pg"):
        await Query(statement).rows()
    row = await Query("SELECT COUNT(*) AS n FROM task_tally").one()
    return int(row.get("n") or 0)


async def rebuild(actor: Actor) -> dict[str, int]:
    """:func:`refill` in one write transaction, audited (``yibao tracking rebuild``); rows per
    table."""
    async with db.write_transaction():
        before = {}
        for table in TABLES:
            row = await Query(f"SELECT COUNT(*) AS n FROM {table}").one()
            before[table] = int(row.get("n") or 0)
        counts = await refill()
        counts["task_tally"] = await refill_tasks()
        await record(
            actor, "tracking.tally_rebuild", "finding_tally", "all", before=before, after=counts
        )
    return counts


def _month_after(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def split_period(
    start: date, end: date
) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The whole months of ``[start, end]`` as ``[first month, first month after)`` and the
    inclusive day ranges left at either end.

    >>> split_period(date(2026, 1, 1), date(2026, 12, 31))
    ((datetime.date(2026, 1, 1), datetime.date(2027, 1, 1)), [])
    """
    first = start if start.day == 1 else _month_after(start)
    after_end = end + timedelta(days=1)
    stop = after_end if after_end.day == 1 else after_end.replace(day=1)
    if first >= stop:
        return None, [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first - timedelta(days=1)))
    if stop <= end:
        edges.append((stop, end))
    return (first, stop), edges


def _scope(f: Filters) -> Query:
    q = Query()
    if f.region_ids is not None:
        text, args = in_list("t.region", list(f.region_ids))
        q.add(f"AND {text}", *args)
    if f.type:
        q.add("AND t.type = {}", f.type)
    return q


def _day(value: date) -> Any:
    """A day as the engine stores it in the tally (text on SQLite, a date on PostgreSQL)."""
    return value.isoformat() if db.is_sqlite() else value


async def most_failed(f: Filters, limit: int) -> list[dict[str, Any]]:
    """(checklist id, item id, failed, answered) of the items failed most often in the period
    and scope, most failed first (ties by checklist and item)."""
    months, edges = split_period(f.start, f.end)
    parts: list[Query] = []
    if months:
        parts.append(
            Query(
                "SELECT checklist_id, item_id, failed, answered FROM finding_tally_month t"
                " WHERE t.month >= {} AND t.month < {}",
                _day(months[0]),
                _day(months[1]),
            ).extend(_scope(f))
        )
    for lo, hi in edges:
        parts.append(
            Query(
                "SELECT checklist_id, item_id, failed, answered FROM finding_tally_day t"
                " WHERE t.day >= {} AND t.day <= {}",
                _day(lo),
                _day(hi),
            ).extend(_scope(f))
        )
    union = Query(
        "SELECT checklist_id, item_id, SUM(failed) AS failed, SUM(answered) AS answered FROM ("
    )
    for n, part in enumerate(parts):
        if n:
            union.add("UNION ALL")
        union.extend(part)
    return await (
        union.add(") u GROUP BY checklist_id, item_id HAVING SUM(failed) > 0")
        .add("ORDER BY failed DESC, checklist_id, item_id LIMIT {}", limit)
        .rows()
    )


async def inspection_rows(f: Filters) -> list[dict[str, Any]]:
    """The period's submitted inspections in scope from the inspection tallies: rows of ``at``
    (a month's first day for a whole month, a day at the period's partial ends), ``grade``
    (``''``: none), ``band`` (:data:`NO_SCORE`: no total), ``inspections``, ``scored`` and
    ``score_sum``, for the callers to roll up by month, grade or band."""
    months, edges = split_period(f.start, f.end)
    parts: list[Query] = []
    for table, when, lo, hi, upto in (
        *((("inspection_tally_month", "month", months[0], months[1], "<"),) if months else ()),
        *(("inspection_tally_day", "day", lo, hi, "<=") for lo, hi in edges),
    ):
        parts.append(
            Query(
                f"SELECT t.{when} AS at, grade, band, SUM(inspections) AS inspections,"
                f" SUM(scored) AS scored, SUM(score_sum) AS score_sum FROM {table} t"
                f" WHERE t.{when} >= {{}} AND t.{when} {upto} {{}}",
                _day(lo),
                _day(hi),
            )
            .extend(_scope(f))
            .add(f"GROUP BY t.{when}, grade, band")
        )
    rows: list[dict[str, Any]] = []
    for part in parts:
        rows.extend(await part.rows())
    return rows


def _task_period(f: Filters) -> Query:
    return Query("WHERE t.day >= {} AND t.day <= {}", _day(f.start), _day(f.end)).extend(_scope(f))


OPEN_TALLIED = "t.task_status NOT IN ('accepted', 'cancelled')"


def overdue_tallied() -> str:
    """The overdue rule (``dashboard.overdue_condition``) on task tally rows ``t`` (one ``{}``:
    today in China): an issued notice's task past its deadline, open, or answered late."""
    return (
        "(t.notice_status = 'issued' AND t.task_status IN ('open', 'answered')"
        " AND t.deadline < {} AND (t.task_status = 'open' OR t.answered_late = 1))"
    )


async def task_rows(f: Filters, today: date) -> list[dict[str, Any]]:
    """Tasks of the notices issued in the period, in scope, by status: ``status``, ``n``
    (tasks), ``open`` and ``overdue`` among them, from the task tally."""
    return await (
        Query(
            "SELECT t.task_status AS status, SUM(t.tasks) AS n,"
            f" SUM(CASE WHEN {OPEN_TALLIED} THEN t.tasks ELSE 0 END) AS open,"
            f" SUM(CASE WHEN {overdue_tallied()} THEN t.tasks ELSE 0 END) AS overdue"
            " FROM task_tally t",
            _day(today),
        )
        .extend(_task_period(f))
        .add("GROUP BY t.task_status")
        .rows()
    )
