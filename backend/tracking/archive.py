"""机构档案: one institution's page, and the short history of its inspections and notices.

Identity and agreement status with its history (every change of 协议状态, from an administrator
or an escalation step, and every escalation step recorded), every submitted inspection with its
date, kind, score and grade (the score's trend), notices with their tasks, physicians with the
chosen year's points (remaining, deducted) and status (暂停 until, 取消 and the re-application
bar), the mean official score per year (re-inspections left out, as the annual assessment counts
it) and the chosen year's 年度考核 (backend/rules/assessment.py).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser
from backend.audit.tables import AuditEvent
from backend.china_time import today_in_china
from backend.institutions import services as institutions
from backend.institutions.tables import (
    AGREEMENT_STATUS_LABELS,
    INSTITUTION_TYPE_LABELS,
    PHYSICIAN_STATUS_LABELS,
    AgreementStatus,
    InstitutionType,
    PhysicianStatus,
)
from backend.rectification.tables import NOTICE_STATUS_LABELS
from backend.rules import assessment, points
from backend.tracking import lists
from backend.tracking.sql import Query


def _label(labels: dict[Any, str], value: str) -> str:
    return labels.get(value, value)


async def inspections_of(institution_id: UUID) -> list[dict[str, Any]]:
    """The institution's submitted inspections, newest first."""
    rows = await (
        Query(lists.INSPECTION_SELECT)
        .add(
            "FROM inspection x JOIN institution i ON i.id = x.institution"
            " JOIN region r ON r.id = i.region JOIN assignment a ON a.id = x.assignment"
            " JOIN checklist_version cv ON cv.id = x.checklist"
            " LEFT JOIN rectification_notice nn ON nn.inspection = x.id"
        )
        .add("WHERE x.status = 'submitted' AND x.institution = {}", institution_id)
        .add("ORDER BY x.submitted_at DESC, x.id DESC")
        .rows()
    )
    return [lists.inspection_row(r) for r in rows]


async def notices_of(institution_id: UUID, with_tasks: bool = True) -> list[dict[str, Any]]:
    """The institution's notices (drafts included), newest first, each with its tasks."""
    rows = await (
        Query(
            "SELECT n.id AS id, n.number AS number, n.status AS status, n.issued_at AS issued_at,"
            " n.closed_at AS closed_at, n.created_at AS created_at, n.inspection AS inspection_id"
            " FROM rectification_notice n WHERE n.institution = {}",
            institution_id,
        )
        .add("ORDER BY n.created_at DESC, n.id DESC")
        .rows()
    )
    tasks: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    if with_tasks and rows:
        today = today_in_china()
        task_rows = await (
            Query(lists.TASK_SELECT)
            .add(
                "FROM rectification_task t JOIN rectification_notice n ON n.id = t.notice"
                " JOIN institution i ON i.id = n.institution JOIN region r ON r.id = i.region"
                " WHERE n.institution = {}",
                institution_id,
            )
            .add("ORDER BY t.notice, t.seq")
            .rows()
        )
        for t in task_rows:
            tasks[t["notice_id"]].append(lists.task_row(t, today))
    out = []
    for r in rows:
        mine = tasks.get(r["id"], [])
        out.append(
            {
                "id": r["id"],
                "number": r["number"],
                "status": r["status"],
                "status_label": _label(NOTICE_STATUS_LABELS, r["status"]),  # type: ignore[arg-type]
                "issued_on": lists.china_day(r["issued_at"]),
                "closed_on": lists.china_day(r["closed_at"]),
                "created_at": r["created_at"],
                "inspection_id": r["inspection_id"],
                "tasks": mine,
                "tasks_open": sum(t["status"] not in ("accepted", "cancelled") for t in mine),
                "tasks_overdue": sum(t["overdue"] for t in mine),
            }
        )
    return out


async def agreement_history(institution_id: UUID) -> list[dict[str, Any]]:
    """Every change of the agreement status (from the audit log), oldest first."""
    events = (
        await AuditEvent.select(
            AuditEvent.at, AuditEvent.actor_username, AuditEvent.before, AuditEvent.after
        )
        .where(
            (AuditEvent.entity_type == "institution")
            & (AuditEvent.entity_id == str(institution_id))
            & (AuditEvent.action == "institution.set_agreement_status")
        )
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    out = []
    for e in events:
        before = (e["before"] or {}).get("agreement_status", "")
        after = (e["after"] or {}).get("agreement_status", "")
        out.append(
            {
                "at": e["at"],
                "by": e["actor_username"],
                "from_status": before,
                "from_label": _label(AGREEMENT_STATUS_LABELS, before),  # type: ignore[arg-type]
                "to_status": after,
                "to_label": _label(AGREEMENT_STATUS_LABELS, after),  # type: ignore[arg-type]
                "reason": (e["after"] or {}).get("reason", "") or "",
            }
        )
    return out


async def escalations_of(institution_id: UUID) -> list[dict[str, Any]]:
    """The escalation steps recorded against the institution's notices, oldest first."""
    rows = await (
        Query(lists.ESCALATION_SELECT)
        .add(
            "FROM rectification_escalation e JOIN institution i ON i.id = e.institution"
            " JOIN region r ON r.id = i.region JOIN rectification_notice n ON n.id = e.notice"
            " WHERE e.institution = {}",
            institution_id,
        )
        .add("ORDER BY e.created_at, e.id")
        .rows()
    )
    return [lists.escalation_row(r) for r in rows]


async def physicians_of(institution_id: UUID, year: int | None = None) -> list[dict[str, Any]]:
    """The institution's 医保医师 with the year's points deducted and remaining and the status
    (as ``GET /api/physicians/{id}/points`` gives them), the fewest remaining first."""
    year = year or today_in_china().year
    standing = await points.institution_points(institution_id, year)
    rows = await Query(
        "SELECT p.id AS id, p.name AS name, p.department AS department, p.title AS title,"
        " p.certificate_no AS certificate_no FROM physician p WHERE p.institution = {}"
        " ORDER BY p.department, p.name",
        institution_id,
    ).rows()
    out = []
    for r in rows:
        key = r["id"] if isinstance(r["id"], UUID) else UUID(str(r["id"]))
        s = standing[key]
        status = PhysicianStatus(s["status"])
        out.append(
            {
                **{k: r[k] for k in ("id", "name", "department", "title", "certificate_no")},
                "status": status.value,
                "status_label": PHYSICIAN_STATUS_LABELS.get(status, status.value),
                "year": year,
                "year_points": s["remaining"],
                "deducted": s["deducted"],
                "suspended_until": s["suspended_until"],
                "reapply_after": s["reapply_after"],
            }
        )
    out.sort(key=lambda p: p["year_points"])  # stable: department and name within
    return out


def yearly_means(inspections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per calendar year: the mean official total of the submitted inspections, re-inspections
    left out, rounded half up to one decimal once (the annual assessment's mean)."""
    totals: dict[int, list[float]] = defaultdict(list)
    for x in inspections:
        if x["kind"] != "reinspection" and x["score_total"] is not None and x["date"]:
            totals[x["date"].year].append(x["score_total"])
    out = []
    for year in sorted(totals, reverse=True):
        values = totals[year]
        mean = Decimal(str(sum(values))) / Decimal(len(values))
        out.append(
            {
                "year": year,
                "inspections": len(values),
                "mean": float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)),
            }
        )
    return out


async def archive(
    user: CurrentUser, institution_id: UUID, year: int | None = None
) -> dict[str, Any]:
    """The whole 机构档案 of one institution the caller may see; physicians' points and the
    年度考核 for ``year`` (default: the current year in China).

    Raises:
        NotFound: the institution does not exist or lies outside the caller's tenancy.
    """
    row = await institutions.get_institution(user, institution_id)
    year = year or today_in_china().year
    inspections = await inspections_of(institution_id)
    status = AgreementStatus(row["agreement_status"])
    kind = InstitutionType(row["type"])
    return {
        "institution": {
            "id": row["id"],
            "code": row["code"],
            "name": row["name"],
            "type": kind.value,
            "type_label": INSTITUTION_TYPE_LABELS[kind],
            "level": row["level"],
            "region_code": row["region_code"],
            "region_name": row["region_name"],
            "address": row["address"],
            "contact_name": row["contact_name"],
            "contact_phone": row["contact_phone"],
            "agreement_status": status.value,
            "agreement_status_label": AGREEMENT_STATUS_LABELS[status],
            "physician_count": row["physician_count"],
        },
        "agreement_history": await agreement_history(institution_id),
        "escalations": await escalations_of(institution_id),
        "inspections": inspections,
        "yearly": yearly_means(inspections),
        "notices": await notices_of(institution_id),
        "year": year,
        "physicians": await physicians_of(institution_id, year),
        "assessment": await assessment.assess(institution_id, year),
    }


async def history(user: CurrentUser, institution_id: UUID) -> dict[str, Any]:
    """The institution's inspections (id, date, kind, total, grade) and notices (id, number,
    status), newest first.

    Raises:
        NotFound: the institution does not exist or lies outside the caller's tenancy.
    """
    await institutions.get_institution(user, institution_id)
    inspections = await inspections_of(institution_id)
    notices = await notices_of(institution_id, with_tasks=False)
    return {
        "institution_id": institution_id,
        "inspections": [
            {
                "id": x["id"],
                "date": x["date"],
                "kind": x["kind"],
                "kind_label": x["kind_label"],
                "total": x["score_total"],
                "grade": x["grade"],
            }
            for x in inspections
        ],
        "notices": [
            {
                "id": n["id"],
                "number": n["number"],
                "status": n["status"],
                "status_label": n["status_label"],
                "issued_on": n["issued_on"],
            }
            for n in notices
        ],
    }
