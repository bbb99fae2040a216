"""Who may see an inspection, and how it reads: findings, photos, score and history."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role, User
from backend.audit.tables import AuditEvent
from backend.errors import NotFound
from backend.inspections.assignments import is_unannounced_flight, teams_of, unannounced_flights
from backend.inspections.schemas import (
    ChecklistRef,
    FindingOut,
    HistoryEvent,
    InspectionOut,
    InstitutionRef,
    PhotoOut,
)
from backend.inspections.tables import Finding, FindingRevision, Inspection, InspectionStatus, Photo
from backend.records.schemas import SealOut
from backend.tenancy import can_see_institution, institution_where

INSPECTION_NOT_FOUND = "检查记录不存在或不在您的管辖范围内"


def inspection_where(user: CurrentUser) -> Any:
    """Inspections the user may see (None: all). Managers see their institution's submitted
    inspections, except a 飞行检查 whose window has not started; inspectors and supervisors their
    region's; admins all."""
    scope = institution_where(user, Inspection.institution)
    if user.role == Role.manager:
        return (
            scope
            & (Inspection.status == InspectionStatus.submitted.value)
            & Inspection.assignment.not_in(unannounced_flights())
        )
    return scope


def may_see(user: CurrentUser, institution: dict[str, Any], submitted: bool) -> bool:
    """Whether the user may see an inspection (or photo) of this institution in this state."""
    if user.role == Role.manager and not submitted:
        return False
    return can_see_institution(user, institution)


async def _columns_row(inspection_id: UUID) -> dict[str, Any] | None:
    return (
        await Inspection.select(
            Inspection.all_columns(),
            Inspection.institution.code,
            Inspection.institution.name,
            Inspection.institution.type,
            Inspection.institution.address,
            Inspection.institution.agreement_status,
            Inspection.institution.region,
            Inspection.checklist.checklist_id,
            Inspection.checklist.version,
            Inspection.checklist.title,
            Inspection.submitted_by.username,
            Inspection.assignment.kind.as_alias("assignment_kind"),
            Inspection.assignment.window_start.as_alias("assignment_window_start"),
        )
        .where(Inspection.id == inspection_id)
        .output(load_json=True)
        .first()
    )


async def visible_inspection(user: CurrentUser, inspection_id: UUID) -> dict[str, Any]:
    """The inspection row if the user may see it (404 otherwise, the same as a missing one)."""
    row = await _columns_row(inspection_id)
    if row is None or not may_see(
        user,
        {"id": row["institution"], "region": row["institution.region"]},
        row["status"] == InspectionStatus.submitted.value,
    ):
        raise NotFound(INSPECTION_NOT_FOUND)
    if user.role == Role.manager and is_unannounced_flight(
        row["assignment_kind"], row["assignment_window_start"]
    ):
        raise NotFound(INSPECTION_NOT_FOUND)
    return row


def photo_out(row: dict[str, Any]) -> PhotoOut:
    """A photo row as the API shows it."""
    return PhotoOut(
        id=row["id"],
        item_id=row["item_id"],
        kind=row["kind"],
        signer=row["signer"],
        width=row["width"],
        height=row["height"],
        content_type=row["content_type"],
        captured_at=row["captured_at"],
        url=f"/api/photos/{row['id']}",
        thumbnail_url=f"/api/photos/{row['id']}/thumbnail",
    )


async def inspection_out(user: CurrentUser, inspection_id: UUID) -> InspectionOut:
    """An inspection with its findings, photos and score, if the user may see it."""
    row = await visible_inspection(user, inspection_id)
    findings = (
        await Finding.select(Finding.all_columns(), Finding.updated_by.username)
        .where(Finding.inspection == inspection_id)
        .order_by(Finding.item_id)
        .output(load_json=True)
    )
    photos = (
        await Photo.select().where(Photo.assignment == row["assignment"]).order_by(Photo.created_at)
    )
    teams = await teams_of([row["assignment"]])
    return InspectionOut(
        id=row["id"],
        assignment_id=row["assignment"],
        institution=InstitutionRef(
            id=row["institution"],
            code=row["institution.code"],
            name=row["institution.name"],
            type=row["institution.type"],
            address=row["institution.address"],
            agreement_status=row["institution.agreement_status"],
        ),
        checklist=ChecklistRef(
            version_id=row["checklist"],
            checklist_id=row["checklist.checklist_id"],
            version=row["checklist.version"],
            title=row["checklist.title"],
            content_hash=row["checklist_hash"],
        ),
        status=row["status"],
        started_at=row["started_at"],
        submitted_at=row["submitted_at"],
        submitted_by=row["submitted_by.username"],
        representative_name=row["representative_name"],
        signature_refused_reason=row["signature_refused_reason"],
        signatures=row["signatures"] or [],
        note=row["note"],
        revision=row["revision"],
        score_total=float(row["score_total"]) if row["score_total"] is not None else None,
        grade=row["grade"],
        score=row["score_detail"],
        findings=[
            FindingOut(
                id=f["id"],
                item=f["item_id"],
                result=f["result"],
                occurrences=f["occurrences"],
                sampled=f["sampled"],
                failed=f["failed"],
                population=f["population"],
                note=f["note"],
                amount=f.get("amount"),
                physician_id=f["physician"],
                physician_ids=f.get("physician_ids") or ([f["physician"]] if f["physician"] else []),
                photo_ids=f["photo_ids"] or [],
                revision=f["revision"],
                device_id=f["device_id"],
                client_updated_at=f["client_updated_at"],
                updated_by=f["updated_by.username"],
            )
            for f in findings
        ],
        photos=[photo_out(p) for p in photos],
        inspectors=teams.get(row["assignment"], []),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        seal=await _seal(inspection_id),
    )


async def _seal(inspection_id: UUID) -> SealOut | None:
    """The inspection's current seal as the API shows it (None before submission)."""
    from backend.records.seal import latest_seal, seal_out

    row = await latest_seal(inspection_id, with_record=False)
    return SealOut(**seal_out(row)) if row is not None else None


async def list_inspections(
    user: CurrentUser, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Inspections the user may see, newest first (summary rows)."""
    query = Inspection.select(
        Inspection.id,
        Inspection.assignment,
        Inspection.status,
        Inspection.started_at,
        Inspection.submitted_at,
        Inspection.score_total,
        Inspection.grade,
        Inspection.institution.id,
        Inspection.institution.code,
        Inspection.institution.name,
        Inspection.checklist.checklist_id,
        Inspection.checklist.version,
    ).order_by(Inspection.updated_at, ascending=False)
    scope = inspection_where(user)
    if scope is not None:
        query = query.where(scope)
    if status:
        query = query.where(Inspection.status == status)
    rows = await query.limit(limit).offset(offset)
    for r in rows:
        r["score_total"] = float(r["score_total"]) if r["score_total"] is not None else None
    return rows


async def history(user: CurrentUser, inspection_id: UUID) -> list[HistoryEvent]:
    """Every audit event of the inspection and every finding write that reached the server,
    including writes that lost a conflict, oldest first."""
    await visible_inspection(user, inspection_id)
    events = (
        await AuditEvent.select()
        .where(
            (AuditEvent.entity_type == "inspection") & (AuditEvent.entity_id == str(inspection_id))
        )
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    writes = (
        await FindingRevision.select()
        .where(FindingRevision.inspection == inspection_id)
        .order_by(FindingRevision.id)
        .output(load_json=True)
    )
    users = {
        str(r["id"]): r["username"]
        for r in await User.select(User.id, User.username).where(
            User.id.is_in(
                list({UUID(w["user_id"]) for w in writes if w["user_id"]}) or [UUID(int=0)]
            )
        )
    }
    out = [
        HistoryEvent(
            at=e["at"],
            kind="audit",
            action=e["action"],
            actor=e["actor_username"],
            device_id=e["device_id"],
            detail={"before": e["before"], "after": e["after"]},
        )
        for e in events
    ] + [
        HistoryEvent(
            at=w["received_at"],
            kind="finding_write",
            action=f"finding.{w['outcome']}",
            actor=users.get(w["user_id"] or ""),
            device_id=w["device_id"],
            detail={
                "item": w["item_id"],
                "finding_id": str(w["finding_id"]),
                "answer": w["payload"],
                "client_updated_at": w["client_updated_at"],
                "client_revision": w["client_revision"],
            },
        )
        for w in writes
    ]
    return sorted(out, key=lambda e: e.at)
