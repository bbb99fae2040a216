"""The lists behind the 看板's numbers, and the row streams the exports write.

Each list takes the shared :class:`~backend.tracking.filters.Filters` plus its own narrowing
(a grade, a month, a score band, a failed item, a task state, an escalation step …), so that a
click on any number or bar opens exactly the rows it counts. ``page`` gives one page and the
total; ``batches`` walks every row in a stable order by keyset (no OFFSET), for the exports.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from backend.china_time import CHINA_TZ, today_in_china
from backend.errors import InvalidInput
from backend.inspections.schemas import ASSIGNMENT_KIND_LABELS
from backend.inspections.tables import AssignmentKind
from backend.institutions.tables import (
    AGREEMENT_STATUS_LABELS,
    INSTITUTION_TYPE_LABELS,
    PHYSICIAN_STATUS_LABELS,
    AgreementStatus,
    PhysicianStatus,
)
from backend.rectification.escalation import STEPS
from backend.rectification.tables import (
    NOTICE_STATUS_LABELS,
    TASK_STATUS_LABELS,
    NoticeStatus,
    TaskStatus,
)
from backend.tracking.dashboard import (
    FULL_POINTS,
    GRADES,
    OPEN_TASK,
    SUBMITTED,
    overdue_condition,
    score_band,
)
from backend.tracking.filters import Filters
from backend.tracking.sql import Query, as_float, as_int, china_month
from backend.tracking.tally import task_rows

WHATS = ("inspections", "institutions", "tasks", "notices", "escalations", "physicians")
MAX_LIMIT = 500
BATCH = 1000
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_ITEM = re.compile(r"^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9_.-]{1,96}$")


@dataclass
class Narrowing:
    """The list-specific filters, as given in the query string (all optional)."""

    grade: str | None = None
    month: str | None = None
    band: str | None = None
    item: str | None = None
    kind: str | None = None
    institution: UUID | None = None
    inspected: str | None = None
    agreement_status: str | None = None
    state: str | None = None
    step: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _bad(message: str, field_name: str) -> InvalidInput:
    return InvalidInput(message, details={"field": field_name})


def china_day(value: datetime | str | None) -> date | None:
    """The China calendar day of a timestamp (SQLite may hand back text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(CHINA_TZ).date()


def as_day(value: date | str | None) -> date | None:
    """A date column (SQLite may hand back text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


# ---------------------------------------------------------------- inspections


def _inspection_from(f: Filters, n: Narrowing, counting: bool = False) -> Query:
    """Submitted inspections of the filters and narrowing; ``counting``: only the joins the
    conditions need (a count over a year of a province reads the covering index alone)."""
    joins = ["FROM inspection x JOIN institution i ON i.id = x.institution"]
    if not counting:
        joins.append("JOIN region r ON r.id = i.region")
    if not counting or n.kind:
        joins.append("JOIN assignment a ON a.id = x.assignment")
    if not counting or n.item:
        joins.append("JOIN checklist_version cv ON cv.id = x.checklist")
    if not counting:
        joins.append("LEFT JOIN rectification_notice nn ON nn.inspection = x.id")
    q = (
        Query(" ".join(joins))
        .add(f"WHERE {SUBMITTED}")
        .extend(f.period("x.submitted_at"))
        .extend(f.institution_scope())
    )
    if n.grade:
        if n.grade not in GRADES:
            raise _bad(f"等级 {n.grade!r} 无效，可选：{'、'.join(GRADES)}", "grade")
        q.add("AND x.grade = {}", n.grade)
    if n.month:
        if not _MONTH.match(n.month):
            raise _bad("月份应为 YYYY-MM 格式（如 2026-03）", "month")
        q.add(f"AND {china_month('x.submitted_at')} = {{}}", n.month)
    if n.band:
        bounds = score_band(n.band)
        if bounds is None:
            raise _bad("分数段应为 0-10、10-20 … 90-100 之一", "band")
        lo, hi = bounds
        if hi >= 100:
            q.add("AND x.score_total >= {}", lo)
        else:
            q.add("AND x.score_total >= {} AND x.score_total < {}", lo, hi)
    if n.item:
        checklist_id, item_id = _item(n.item)
        q.add(
            "AND cv.checklist_id = {} AND EXISTS (SELECT 1 FROM finding ff"
            " WHERE ff.inspection = x.id AND ff.item_id = {} AND ff.result = 'fail')",
            checklist_id,
            item_id,
        )
    if n.kind:
        try:
            q.add("AND a.kind = {}", AssignmentKind(n.kind).value)
        except ValueError:
            allowed = "、".join(k.value for k in AssignmentKind)
            raise _bad(f"检查方式 {n.kind!r} 无效，可选：{allowed}", "kind") from None
    if n.institution:
        q.add("AND x.institution = {}", n.institution)
    return q


def _item(value: str) -> tuple[str, str]:
    if not _ITEM.match(value):
        raise _bad(
            "检查项应写作 检查表编号:检查项编号（如 pharmacy-routine:signage.designated-sign）",
            "item",
        )
    checklist_id, item_id = value.split(":", 1)
    return checklist_id, item_id


INSPECTION_SELECT = (
    "SELECT x.id AS id, x.submitted_at AS submitted_at, x.score_total AS score_total,"
    " x.grade AS grade, a.kind AS kind, cv.title AS checklist_title,"
    " cv.checklist_id AS checklist_id, x.checklist AS checklist_version,"
    " i.id AS institution_id, i.code AS institution_code, i.name AS institution_name,"
    " i.type AS institution_type, r.name AS region_name, nn.id AS notice_id,"
    " nn.number AS notice_number,"
    " (SELECT COUNT(*) FROM finding fc WHERE fc.inspection = x.id AND fc.result = 'fail')"
    " AS failed_items"
)


def inspection_row(r: dict[str, Any]) -> dict[str, Any]:
    """A submitted inspection as lists and exports show it."""
    kind = r["kind"]
    return {
        "id": r["id"],
        "institution_id": r["institution_id"],
        "institution_code": r["institution_code"],
        "institution_name": r["institution_name"],
        "institution_type": r["institution_type"],
        "institution_type_label": INSTITUTION_TYPE_LABELS.get(
            r["institution_type"], r["institution_type"]
        ),  # type: ignore[call-overload]
        "region_name": r["region_name"],
        "submitted_at": r["submitted_at"],
        "date": china_day(r["submitted_at"]),
        "kind": kind,
        "kind_label": ASSIGNMENT_KIND_LABELS.get(kind, kind),  # type: ignore[call-overload]
        "checklist_title": r["checklist_title"],
        "score_total": as_float(r["score_total"]),
        "grade": r["grade"],
        "failed_items": as_int(r["failed_items"]),
        "notice_id": r["notice_id"],
        "notice_number": r["notice_number"],
        "checklist_id": r["checklist_id"],
        "checklist_version": r["checklist_version"],
    }


# ---------------------------------------------------------------- institutions


def _institution_from(f: Filters, n: Narrowing) -> Query:
    seen = (
        Query(
            "LEFT JOIN (SELECT x.institution AS id, COUNT(*) AS n, MAX(x.submitted_at) AS last_at"
            f" FROM inspection x WHERE {SUBMITTED}"
        )
        .extend(f.period("x.submitted_at"))
        .add("GROUP BY x.institution) seen ON seen.id = i.id")
    )
    q = (
        Query("FROM institution i JOIN region r ON r.id = i.region")
        .extend(seen)
        .add("WHERE 1 = 1")
        .extend(f.institution_scope())
    )
    if n.inspected:
        if n.inspected not in {"yes", "no"}:
            raise _bad("inspected 须为 yes（已检查）或 no（未检查）", "inspected")
        q.add("AND seen.id IS NOT NULL" if n.inspected == "yes" else "AND seen.id IS NULL")
    if n.agreement_status:
        try:
            q.add("AND i.agreement_status = {}", AgreementStatus(n.agreement_status).value)
        except ValueError:
            raise _bad("协议状态须为 normal、suspended 或 terminated", "agreement_status") from None
    return q


INSTITUTION_SELECT = (
    "SELECT i.id AS id, i.code AS code, i.name AS name, i.type AS type, i.level AS level,"
    " r.code AS region_code, r.name AS region_name, i.agreement_status AS agreement_status,"
    " COALESCE(seen.n, 0) AS inspections, seen.last_at AS last_inspected_at"
)


def institution_row(r: dict[str, Any]) -> dict[str, Any]:
    """An institution as the lists show it."""
    return {
        "id": r["id"],
        "code": r["code"],
        "name": r["name"],
        "type": r["type"],
        "type_label": INSTITUTION_TYPE_LABELS.get(r["type"], r["type"]),  # type: ignore[call-overload]
        "level": r["level"],
        "region_code": r["region_code"],
        "region_name": r["region_name"],
        "agreement_status": r["agreement_status"],
        "agreement_status_label": AGREEMENT_STATUS_LABELS.get(
            r["agreement_status"], r["agreement_status"]
        ),  # type: ignore[call-overload]
        "inspections": as_int(r["inspections"]),
        "last_inspected_on": china_day(r["last_inspected_at"]),
    }


# ---------------------------------------------------------------- tasks


def _task_from(f: Filters, n: Narrowing, today: date) -> Query:
    q = (
        Query(
            "FROM rectification_task t JOIN rectification_notice n ON n.id = t.notice"
            " JOIN institution i ON i.id = n.institution JOIN region r ON r.id = i.region"
        )
        .add("WHERE n.issued_at IS NOT NULL")
        .extend(f.period("n.issued_at"))
        .extend(f.institution_scope())
    )
    state = n.state or "all"
    if state == "open":
        q.add(f"AND {OPEN_TASK}")
    elif state == "overdue":
        q.add(f"AND {overdue_condition()}", today)
    elif state in {s.value for s in TaskStatus}:
        q.add("AND t.status = {}", state)
    elif state != "all":
        raise _bad("state 须为 all、open（未完成）、overdue（逾期）或整改事项状态", "state")
    if n.item:
        checklist_id, item_id = _item(n.item)
        q.add(
            "AND t.item_id = {} AND EXISTS (SELECT 1 FROM inspection xi"
            " JOIN checklist_version cvi ON cvi.id = xi.checklist"
            " WHERE xi.id = n.inspection AND cvi.checklist_id = {})",
            item_id,
            checklist_id,
        )
    if n.institution:
        q.add("AND n.institution = {}", n.institution)
    return q


TASK_SELECT = (
    "SELECT t.id AS id, t.seq AS seq, t.item_id AS item_id, t.item_text AS item_text,"
    " t.section_title AS section_title, t.basis AS basis, t.deadline AS deadline,"
    " t.status AS status, t.answered_at AS answered_at, t.reviewed_at AS reviewed_at,"
    " n.id AS notice_id, n.number AS notice_number, n.issued_at AS issued_at,"
    " n.status AS notice_status, i.id AS institution_id, i.code AS institution_code,"
    " i.name AS institution_name, r.name AS region_name"
)


def task_row(r: dict[str, Any], today: date) -> dict[str, Any]:
    """A rectification task as lists and exports show it (overdue per the rectification rule)."""
    from backend.rectification.tasks import days_overdue, is_overdue

    deadline = as_day(r["deadline"])
    answered_at = r["answered_at"]
    if isinstance(answered_at, str):
        answered_at = datetime.fromisoformat(answered_at)
    probe = {"status": r["status"], "deadline": deadline, "answered_at": answered_at}
    overdue = r["notice_status"] == NoticeStatus.issued.value and is_overdue(probe, today)
    return {
        "id": r["id"],
        "notice_id": r["notice_id"],
        "notice_number": r["notice_number"],
        "issued_on": china_day(r["issued_at"]),
        "seq": as_int(r["seq"]),
        "item_id": r["item_id"],
        "item_text": r["item_text"],
        "section_title": r["section_title"],
        "basis": r["basis"],
        "deadline": deadline,
        "status": r["status"],
        "status_label": TASK_STATUS_LABELS.get(r["status"], r["status"]),  # type: ignore[call-overload]
        "overdue": overdue,
        "days_overdue": days_overdue(probe, today) if overdue else 0,
        "answered_on": china_day(r["answered_at"]),
        "reviewed_on": china_day(r["reviewed_at"]),
        "institution_id": r["institution_id"],
        "institution_code": r["institution_code"],
        "institution_name": r["institution_name"],
        "region_name": r["region_name"],
    }


# ---------------------------------------------------------------- notices


def _notice_from(f: Filters, n: Narrowing) -> Query:
    q = (
        Query(
            "FROM rectification_notice n JOIN institution i ON i.id = n.institution"
            " JOIN region r ON r.id = i.region"
        )
        .add("WHERE n.issued_at IS NOT NULL")
        .extend(f.period("n.issued_at"))
        .extend(f.institution_scope())
    )
    state = n.state or "all"
    if state == "open":
        q.add("AND n.status <> 'closed'")
    elif state == "closed":
        q.add("AND n.status = 'closed'")
    elif state != "all":
        raise _bad("state 须为 all、open（整改中）或 closed（已办结）", "state")
    return q


NOTICE_SELECT = (
    "SELECT n.id AS id, n.number AS number, n.status AS status, n.issued_at AS issued_at,"
    " n.closed_at AS closed_at, i.id AS institution_id, i.code AS institution_code,"
    " i.name AS institution_name, r.name AS region_name,"
    " (SELECT COUNT(*) FROM rectification_task tc WHERE tc.notice = n.id) AS tasks,"
    f" (SELECT COUNT(*) FROM rectification_task tc WHERE tc.notice = n.id AND {OPEN_TASK.replace('t.', 'tc.')})"
    " AS tasks_open"
)


def notice_row(r: dict[str, Any]) -> dict[str, Any]:
    """A notice as the lists show it."""
    return {
        "id": r["id"],
        "number": r["number"],
        "status": r["status"],
        "status_label": NOTICE_STATUS_LABELS.get(r["status"], r["status"]),  # type: ignore[call-overload]
        "issued_on": china_day(r["issued_at"]),
        "closed_on": china_day(r["closed_at"]),
        "tasks": as_int(r["tasks"]),
        "tasks_open": as_int(r["tasks_open"]),
        "institution_id": r["institution_id"],
        "institution_code": r["institution_code"],
        "institution_name": r["institution_name"],
        "region_name": r["region_name"],
    }


# ---------------------------------------------------------------- escalations


def _escalation_from(f: Filters, n: Narrowing) -> Query:
    q = (
        Query(
            "FROM rectification_escalation e JOIN institution i ON i.id = e.institution"
            " JOIN region r ON r.id = i.region JOIN rectification_notice n ON n.id = e.notice"
        )
        .add("WHERE 1 = 1")
        .extend(f.period("e.created_at"))
        .extend(f.institution_scope())
    )
    if n.step:
        if n.step not in STEPS:
            raise _bad(f"处理措施 {n.step!r} 无效，可选：{'、'.join(STEPS)}", "step")
        q.add("AND e.step = {}", n.step)
    return q


ESCALATION_SELECT = (
    "SELECT e.id AS id, e.step AS step, e.decided_on AS decided_on, e.created_at AS created_at,"
    " e.document_no AS document_no, e.note AS note, e.amount AS amount,"
    " e.agreement_after AS agreement_after, n.id AS notice_id, n.number AS notice_number,"
    " i.id AS institution_id, i.code AS institution_code, i.name AS institution_name,"
    " r.name AS region_name"
)


def escalation_row(r: dict[str, Any]) -> dict[str, Any]:
    """An escalation step as the lists show it."""
    step = STEPS.get(r["step"])
    return {
        "id": r["id"],
        "step": r["step"],
        "step_label": step.label if step else r["step"],
        "decided_on": as_day(r["decided_on"]) or china_day(r["created_at"]),
        "document_no": r["document_no"] or "",
        "note": r["note"] or "",
        "amount": as_float(r["amount"]),
        "agreement_after": r["agreement_after"] or "",
        "notice_id": r["notice_id"],
        "notice_number": r["notice_number"],
        "institution_id": r["institution_id"],
        "institution_code": r["institution_code"],
        "institution_name": r["institution_name"],
        "region_name": r["region_name"],
    }


# ---------------------------------------------------------------- physicians


def _physician_from(f: Filters, n: Narrowing) -> Query:
    q = Query(
        "FROM physician p JOIN institution i ON i.id = p.institution"
        " JOIN region r ON r.id = i.region WHERE p.year_points < {}",
        FULL_POINTS,
    ).extend(f.institution_scope())
    if n.institution:
        q.add("AND p.institution = {}", n.institution)
    return q


PHYSICIAN_SELECT = (
    "SELECT p.id AS id, p.name AS name, p.department AS department, p.title AS title,"
    " p.status AS status, p.year_points AS year_points, i.id AS institution_id,"
    " i.code AS institution_code, i.name AS institution_name, r.name AS region_name"
)


def physician_row(r: dict[str, Any]) -> dict[str, Any]:
    """A 医保医师 with this year's remaining points."""
    return {
        **{k: r[k] for k in ("id", "name", "department", "title", "institution_id")},
        "status": r["status"],
        "status_label": PHYSICIAN_STATUS_LABELS.get(PhysicianStatus(r["status"]), r["status"]),
        "year_points": as_int(r["year_points"]),
        "institution_code": r["institution_code"],
        "institution_name": r["institution_name"],
        "region_name": r["region_name"],
    }


# ---------------------------------------------------------------- paging and streaming


@dataclass(frozen=True)
class ListSpec:
    """How one list is read: its SELECT, FROM/WHERE, display order and keyset columns."""

    select: str
    order: str  # ORDER BY for pages (ends with a unique column: stable)
    key: tuple[str, ...]  # keyset columns, in ``order``'s order, ascending
    key_fields: tuple[str, ...]  # the row fields holding those columns' values


SPECS = {
    "inspections": ListSpec(
        INSPECTION_SELECT,
        "x.submitted_at DESC, x.id DESC",
        ("x.submitted_at", "x.id"),
        ("submitted_at", "id"),
    ),
    "institutions": ListSpec(INSTITUTION_SELECT, "i.code", ("i.code",), ("code",)),
    "tasks": ListSpec(
        TASK_SELECT,
        "n.issued_at DESC, t.notice, t.seq, t.id",
        ("n.issued_at", "t.id"),
        ("issued_at", "id"),
    ),
    "notices": ListSpec(
        NOTICE_SELECT, "n.issued_at DESC, n.id DESC", ("n.issued_at", "n.id"), ("issued_at", "id")
    ),
    "escalations": ListSpec(
        ESCALATION_SELECT,
        "e.created_at DESC, e.id DESC",
        ("e.created_at", "e.id"),
        ("created_at", "id"),
    ),
    "physicians": ListSpec(PHYSICIAN_SELECT, "p.year_points, p.name, p.id", ("p.id",), ("id",)),
}


def _from(what: str, f: Filters, n: Narrowing, today: date) -> Query:
    if what == "inspections":
        return _inspection_from(f, n)
    if what == "institutions":
        return _institution_from(f, n)
    if what == "tasks":
        return _task_from(f, n, today)
    if what == "notices":
        return _notice_from(f, n)
    if what == "escalations":
        return _escalation_from(f, n)
    if what == "physicians":
        return _physician_from(f, n)
    raise _bad(f"列表 {what!r} 不存在，可选：{'、'.join(WHATS)}", "what")


def shape(what: str, r: dict[str, Any], today: date) -> dict[str, Any]:
    """A raw row of list ``what`` as the API shows it."""
    if what == "inspections":
        return inspection_row(r)
    if what == "institutions":
        return institution_row(r)
    if what == "tasks":
        return task_row(r, today)
    if what == "notices":
        return notice_row(r)
    if what == "escalations":
        return escalation_row(r)
    return physician_row(r)


async def _tallied_task_total(f: Filters, n: Narrowing, today: date) -> int | None:
    """The tasks list's total from the task tally (the number it is opened from, kept equal to
    the raw rows by triggers), when nothing narrows it beyond the state; None otherwise."""
    if n.item or n.institution:
        return None
    state = n.state or "all"
    rows = await task_rows(f, today)
    if state == "all":
        return sum(as_int(r["n"]) for r in rows)
    if state == "open":
        return sum(as_int(r["open"]) for r in rows)
    if state == "overdue":
        return sum(as_int(r["overdue"]) for r in rows)
    return sum(as_int(r["n"]) for r in rows if r["status"] == state)


async def page(
    what: str, f: Filters, n: Narrowing, *, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """One page of list ``what`` and the number of rows it holds.

    Raises:
        InvalidInput: an unknown list, a bad narrowing value or bad page bounds.
    """
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise InvalidInput(f"limit 须在 1–{MAX_LIMIT} 之间，offset 不能为负")
    today = today_in_china()
    spec = SPECS.get(what)
    base = (
        _inspection_from(f, n, counting=True) if what == "inspections" else _from(what, f, n, today)
    )
    assert spec is not None  # _from refused unknown lists
    tallied = await _tallied_task_total(f, n, today) if what == "tasks" else None
    if tallied is not None:
        total = tallied
    else:
        total = as_int((await Query("SELECT COUNT(*) AS n").extend(base).one()).get("n"))
    rows = await (
        Query(spec.select)
        .extend(_from(what, f, n, today))
        .add(f"ORDER BY {spec.order} LIMIT {{}} OFFSET {{}}", limit, offset)
        .rows()
    )
    return [shape(what, r, today) for r in rows], total


async def batches(
    what: str, f: Filters, n: Narrowing, size: int = BATCH, first: int | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of list ``what``, in batches, oldest first, by keyset (each batch one query
    that starts after the last row of the one before, so a large export stays fast).

    ``first``: a smaller first batch, so that a download starts at once however large it is.
    """
    today = today_in_china()
    spec = SPECS[what]
    after: tuple[Any, ...] | None = None
    order = ", ".join(spec.key)
    limit = min(first or size, size)
    while True:
        q = Query(spec.select).extend(_from(what, f, n, today))
        if after is not None:
            q.extend(_after(spec.key, after))
        rows = await q.add(f"ORDER BY {order} LIMIT {{}}", limit).rows()
        if not rows:
            return
        yield [shape(what, r, today) for r in rows]
        if len(rows) < limit:
            return
        after = tuple(rows[-1][k] for k in spec.key_fields)
        limit = size


def _after(columns: tuple[str, ...], values: tuple[Any, ...]) -> Query:
    """``AND (a, b) > (va, vb)`` written out (row comparison differs between engines)."""
    if len(columns) == 1:
        return Query().add(f"AND {columns[0]} > {{}}", values[0])
    a, b = columns
    return Query().add(
        f"AND ({a} > {{}} OR ({a} = {{}} AND {b} > {{}}))", values[0], values[0], values[1]
    )
