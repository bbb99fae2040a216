"""The 看板's numbers: coverage, inspections over time, scores and grades, the most-failed items,
open and overdue rectifications, escalations, agreement statuses and physicians' points.

Every function takes resolved :class:`~backend.tracking.filters.Filters` and runs one or two
aggregate queries (see ``docs/tracking.md`` for what each number means and the indexes that
serve it). Each number has a list behind it in :mod:`backend.tracking.lists`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date
from typing import Any
from uuid import UUID

from backend import db
from backend.checklists.tables import ChecklistVersion
from backend.china_time import today_in_china
from backend.inspections.tables import AssignmentKind
from backend.institutions.tables import (
    AGREEMENT_STATUS_LABELS,
    INSTITUTION_TYPE_LABELS,
    AgreementStatus,
    InstitutionType,
)
from backend.rectification.escalation import LADDER
from backend.rectification.tables import TASK_STATUS_LABELS, TaskStatus
from backend.tracking.filters import Filters
from backend.tracking.sql import Query, as_int, china_date
from backend.tracking.tally import inspection_rows, most_failed, task_rows

GRADES = ("优秀", "良好", "合格", "不合格")
FULL_POINTS = 12  # a physician's points at the start of a calendar year
TOP_ITEMS = 10
LOW_PHYSICIANS = 10
# Score bands of the distribution chart: [min, max) with the last one closed at 100.
SCORE_BANDS = tuple((lo, lo + 10) for lo in range(0, 100, 10))

SUBMITTED = "x.status = 'submitted'"


def overdue_condition(today_param: str = "{}") -> str:
    """SQL true for an overdue task ``t`` of notice ``n`` (one ``{}``: today in China).

    The same rule as :func:`backend.rectification.tasks.is_overdue`: an issued notice's task past
    its deadline and not accepted or withdrawn; a report sent by the deadline that waits for
    review is not overdue.
    """
    return (
        f"(n.status = 'issued' AND t.status IN ('open', 'answered') AND t.deadline < {today_param}"
        " AND (t.status = 'open' OR t.answered_at IS NULL"
        f" OR {china_date('t.answered_at')} > t.deadline))"
    )


OPEN_TASK = "t.status NOT IN ('accepted', 'cancelled')"


def _inspections(f: Filters, select: str, *args: Any) -> Query:
    """``SELECT … FROM`` submitted inspections ``x`` of institutions ``i`` in scope and period
    (``args``: the values of the SELECT list's placeholders)."""
    return (
        Query(
            f"SELECT {select} FROM inspection x JOIN institution i ON i.id = x.institution", *args
        )
        .add(f"WHERE {SUBMITTED}")
        .extend(f.period("x.submitted_at"))
        .extend(f.institution_scope())
    )


def _tasks(f: Filters, select: str, *args: Any) -> Query:
    """``SELECT … FROM`` tasks ``t`` of notices ``n`` issued in the period, in scope."""
    return (
        Query(
            f"SELECT {select} FROM rectification_task t"
            " JOIN rectification_notice n ON n.id = t.notice"
            " JOIN institution i ON i.id = n.institution",
            *args,
        )
        .add("WHERE n.issued_at IS NOT NULL")
        .extend(f.period("n.issued_at"))
        .extend(f.institution_scope())
    )


async def agreement_counts(f: Filters) -> dict[str, int]:
    """Institutions of the scope by agreement status (every status present, zeros included)."""
    institutions = (
        await Query(
            "SELECT i.agreement_status AS status, COUNT(*) AS n FROM institution i WHERE 1 = 1"
        )
        .extend(f.institution_scope())
        .add("GROUP BY i.agreement_status")
        .rows()
    )
    by_agreement = {s.value: 0 for s in AgreementStatus}
    for r in institutions:
        by_agreement[r["status"]] = by_agreement.get(r["status"], 0) + as_int(r["n"])
    return by_agreement


async def together(*calls: Awaitable[Any]) -> list[Any]:
    """Await independent reads side by side on PostgreSQL (each on its own pooled connection,
    so the slowest sets the time instead of the sum), one after another on SQLite (one file)."""
    if db.is_sqlite():
        return [await call for call in calls]
    return list(await asyncio.gather(*calls))


async def summary(f: Filters, today: date | None = None) -> dict[str, Any]:
    """The headline numbers (the contract of ``GET /api/dashboard/summary``)."""
    today = today or today_in_china()
    # Inspections, grades and the mean from the inspection tallies (backend/tracking/tally.py);
    # the institutions inspected are distinct institutions, counted on the covering index.
    by_agreement, tallied, seen, tasks, notices, escalations = await together(
        agreement_counts(f),
        inspection_rows(f),
        Query("SELECT COUNT(*) AS n FROM (")
        .extend(_inspections(f, "DISTINCT x.institution"))
        .add(") d")
        .one(),
        task_rows(f, today),
        Query(
            "SELECT n.status AS status, COUNT(*) AS n FROM rectification_notice n"
            " JOIN institution i ON i.id = n.institution WHERE n.issued_at IS NOT NULL"
        )
        .extend(f.period("n.issued_at"))
        .extend(f.institution_scope())
        .add("GROUP BY n.status")
        .rows(),
        Query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT e.institution) AS inst"
            " FROM rectification_escalation e JOIN institution i ON i.id = e.institution WHERE 1 = 1"
        )
        .extend(f.period("e.created_at"))
        .extend(f.institution_scope())
        .one(),
    )
    by_grade = {g: 0 for g in GRADES}
    for r in tallied:
        if r["grade"] in by_grade:
            by_grade[r["grade"]] += as_int(r["inspections"])
    inspections = sum(as_int(r["inspections"]) for r in tallied)
    mean = _mean(tallied)
    notice_counts = {r["status"]: as_int(r["n"]) for r in notices}
    return {
        "filters": f.echo(),
        "institutions": sum(by_agreement.values()),
        "inspected_institutions": as_int(seen.get("n")),
        "inspections": inspections,
        "average_score": _round1(mean) if inspections else None,
        "by_grade": by_grade,
        "tasks": sum(as_int(r["n"]) for r in tasks),
        "tasks_open": sum(as_int(r["open"]) for r in tasks),
        "tasks_overdue": sum(as_int(r["overdue"]) for r in tasks),
        "notices": sum(notice_counts.values()),
        "notices_open": sum(n for s, n in notice_counts.items() if s != "closed"),
        "escalations": as_int(escalations.get("n")),
        "escalated_institutions": as_int(escalations.get("inst")),
        "agreement": by_agreement,
    }


def _mean(rows: list[dict[str, Any]]) -> float | None:
    """The mean official total of tally rows (None when none has a total)."""
    from decimal import Decimal

    scored = sum(as_int(r["scored"]) for r in rows)
    if not scored:
        return None
    total = sum((Decimal(str(r["score_sum"] or 0)) for r in rows), Decimal(0))
    return float(total / scored)


def _round1(value: float | None) -> float | None:
    from decimal import ROUND_HALF_UP, Decimal

    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _coverage(f: Filters) -> Query:
    """Institutions in scope and those with a submitted inspection in the period, by county and
    type (one pass over the period's inspections; :func:`coverage` rolls it up both ways)."""
    inspected = (
        Query(f"LEFT JOIN (SELECT DISTINCT x.institution AS id FROM inspection x WHERE {SUBMITTED}")
        .extend(f.period("x.submitted_at"))
        .add(") seen ON seen.id = i.id")
    )
    return (
        Query(
            "SELECT r.code AS region, r.name AS region_name, i.type AS type,"
            " COUNT(*) AS institutions, COUNT(seen.id) AS inspected"
            " FROM institution i JOIN region r ON r.id = i.region"
        )
        .extend(inspected)
        .add("WHERE 1 = 1")
        .extend(f.institution_scope())
        .add("GROUP BY r.code, r.name, i.type")
    )


async def coverage(f: Filters) -> dict[str, list[dict[str, Any]]]:
    """Coverage by county (the region an institution belongs to) and by institution type."""
    by_region: dict[str, dict[str, Any]] = {}
    by_type: dict[str, dict[str, Any]] = {}
    for r in await _coverage(f).rows():
        region = by_region.setdefault(
            r["region"],
            {
                "region": r["region"],
                "region_name": r["region_name"],
                "institutions": 0,
                "inspected": 0,
            },
        )
        kind = by_type.setdefault(
            r["type"],
            {
                "type": r["type"],
                "type_label": INSTITUTION_TYPE_LABELS.get(r["type"], r["type"]),  # type: ignore[call-overload]
                "institutions": 0,
                "inspected": 0,
            },
        )
        for row in (region, kind):
            row["institutions"] += as_int(r["institutions"])
            row["inspected"] += as_int(r["inspected"])
    order = {t.value: n for n, t in enumerate(InstitutionType)}
    return {
        "by_region": [by_region[k] for k in sorted(by_region)],
        "by_type": sorted(by_type.values(), key=lambda r: order.get(r["type"], 99)),
    }


def months_between(start: date, end: date) -> list[str]:
    """``YYYY-MM`` of every month from ``start``'s to ``end``'s."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


async def trend(f: Filters) -> list[dict[str, Any]]:
    """Submitted inspections per month (China time) with their mean score and grades; every
    month of the period is present, empty ones with zeros (from the inspection tallies)."""
    by_month: dict[str, list[dict[str, Any]]] = {}
    for r in await inspection_rows(f):
        by_month.setdefault(str(r["at"])[:7], []).append(r)
    out = []
    for key in months_between(f.start, f.end):
        rows = by_month.get(key, [])
        grades = {g: 0 for g in GRADES}
        for r in rows:
            if r["grade"] in grades:
                grades[r["grade"]] += as_int(r["inspections"])
        out.append(
            {
                "month": key,
                "inspections": sum(as_int(r["inspections"]) for r in rows),
                "average_score": _round1(_mean(rows)) if rows else None,
                "by_grade": grades,
            }
        )
    return out


def score_band(label: str) -> tuple[float, float] | None:
    """``"60-70"`` → (60, 70); None when it is not one of :data:`SCORE_BANDS`."""
    for lo, hi in SCORE_BANDS:
        if label == f"{lo}-{hi}":
            return float(lo), float(hi)
    return None


async def scores(f: Filters) -> list[dict[str, Any]]:
    """How many submitted inspections scored in each band of ten points (90–100 closed), from
    the inspection tallies."""
    counts: dict[int, int] = {}
    for r in await inspection_rows(f):
        band = as_int(r["band"])
        counts[band] = counts.get(band, 0) + as_int(r["inspections"])
    return [
        {"band": f"{lo}-{hi}", "min": lo, "max": hi, "inspections": counts.get(lo, 0)}
        for lo, hi in SCORE_BANDS
    ]


_ITEM_TEXT: dict[Any, dict[str, tuple[str, str]]] = {}


async def item_texts(version_ids: set[Any]) -> dict[Any, dict[str, tuple[str, str]]]:
    """Per checklist version: item id → (section title, item text). A version's content never
    changes once loaded, so each worker keeps what it has read."""
    missing = [v for v in version_ids if v not in _ITEM_TEXT]
    if missing:
        for row in (
            await ChecklistVersion.select(ChecklistVersion.id, ChecklistVersion.content)
            .where(ChecklistVersion.id.is_in(missing))
            .output(load_json=True)
        ):
            _ITEM_TEXT[row["id"]] = {
                item["id"]: (section.get("title", ""), item.get("text", ""))
                for section in (row["content"] or {}).get("sections", [])
                for item in section.get("items", [])
            }
    return {v: _ITEM_TEXT.get(v, {}) for v in version_ids}


async def latest_texts(checklist_ids: set[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(checklist id, item id) → (section title, text) from the newest version naming the item."""
    if not checklist_ids:
        return {}
    versions = (
        await ChecklistVersion.select(ChecklistVersion.id, ChecklistVersion.checklist_id)
        .where(ChecklistVersion.checklist_id.is_in(list(checklist_ids)))
        .order_by(ChecklistVersion.version)
    )
    texts = await item_texts({v["id"] for v in versions})
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for v in versions:  # oldest first: newer versions overwrite
        for item_id, pair in texts[v["id"]].items():
            out[(v["checklist_id"], item_id)] = pair
    return out


async def failed_items(f: Filters, limit: int = TOP_ITEMS) -> list[dict[str, Any]]:
    """The checklist items failed most often in submitted inspections of the period, with how
    often they were answered (符合 or 不符合) and the share failed (region and type: the
    institution's when the inspection was submitted)."""
    # From the answer tallies written with each submission (backend/tracking/tally.py): the
    # raw answers are 50 per inspection, too many to count within the dashboard's time.
    rows = await most_failed(f, limit)
    texts = await latest_texts({r["checklist_id"] for r in rows})
    out = []
    for r in rows:
        section, text = texts.get((r["checklist_id"], r["item_id"]), ("", ""))
        failed, answered = as_int(r["failed"]), as_int(r["answered"])
        out.append(
            {
                "item": f"{r['checklist_id']}:{r['item_id']}",
                "checklist_id": r["checklist_id"],
                "item_id": r["item_id"],
                "section_title": section,
                "item_text": text or r["item_id"],
                "failed": failed,
                "answered": answered,
                "fail_rate": round(failed / answered, 3) if answered else 0.0,
            }
        )
    return out


async def task_statuses(f: Filters, today: date | None = None) -> list[dict[str, Any]]:
    """Tasks of notices issued in the period by status, with the overdue ones among them (from
    the task tally, kept by triggers: backend/tracking/task_tally.py)."""
    found = {r["status"]: r for r in await task_rows(f, today or today_in_china())}
    return [
        {
            "status": s.value,
            "status_label": TASK_STATUS_LABELS[s],
            "tasks": as_int(found[s.value]["n"]) if s.value in found else 0,
            "overdue": as_int(found[s.value]["overdue"]) if s.value in found else 0,
        }
        for s in TaskStatus
    ]


async def escalations(f: Filters) -> list[dict[str, Any]]:
    """Escalation steps (处理措施) recorded in the period, by step, in ladder order."""
    rows = (
        await Query(
            "SELECT e.step AS step, COUNT(*) AS n, COUNT(DISTINCT e.institution) AS inst"
            " FROM rectification_escalation e JOIN institution i ON i.id = e.institution WHERE 1 = 1"
        )
        .extend(f.period("e.created_at"))
        .extend(f.institution_scope())
        .add("GROUP BY e.step")
        .rows()
    )
    found = {r["step"]: r for r in rows}
    return [
        {
            "step": s.code,
            "step_label": s.label,
            "escalations": as_int(found[s.code]["n"]) if s.code in found else 0,
            "institutions": as_int(found[s.code]["inst"]) if s.code in found else 0,
        }
        for s in LADDER
    ]


def agreement(summary_agreement: dict[str, int]) -> list[dict[str, Any]]:
    """The institutions by agreement status (协议状态), labelled."""
    return [
        {
            "status": s.value,
            "status_label": AGREEMENT_STATUS_LABELS[s],
            "institutions": summary_agreement.get(s.value, 0),
        }
        for s in AgreementStatus
    ]


async def physicians(f: Filters, limit: int = LOW_PHYSICIANS) -> dict[str, Any]:
    """医保医师 who have lost points this year (fewer than 12 left), lowest first.

    Points are a yearly balance (``physician.year_points``), not bound to the period.
    """
    base = Query(
        "FROM physician p JOIN institution i ON i.id = p.institution WHERE p.year_points < {}",
        FULL_POINTS,
    ).extend(f.institution_scope())
    count = await Query("SELECT COUNT(*) AS n").extend(base).one()
    rows = await (
        Query(
            "SELECT p.id AS id, p.name AS name, p.department AS department, p.status AS status,"
            " p.year_points AS year_points, i.id AS institution_id, i.name AS institution_name"
        )
        .extend(base)
        .add("ORDER BY p.year_points, p.name LIMIT {}", limit)
        .rows()
    )
    return {"count": as_int(count.get("n")), "lowest": rows}


KIND_ORDER = tuple(k.value for k in AssignmentKind)


async def regions_for(region_ids: frozenset[Any] | None) -> list[dict[str, Any]]:
    """The regions the caller may choose in the 地区 filter (all for an admin), cities first."""
    from backend.institutions.tables import Region

    query = Region.select(Region.code, Region.name, Region.parent.code.as_alias("parent_code"))
    if region_ids is not None:
        query = query.where(Region.id.is_in(list(region_ids) or [UUID(int=0)]))
    rows = await query.order_by(Region.code)
    return sorted(rows, key=lambda r: (r["parent_code"] is not None, r["code"]))
