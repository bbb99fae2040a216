"""Planning assignments and reading them, within the caller's tenancy."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from backend.accounts.auth import CurrentUser, now, region_scope
from backend.accounts.tables import Role, User
from backend.audit.services import record
from backend.checklists.tables import ChecklistVersion
from backend.db import write_transaction
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.inspections.schemas import (
    ASSIGNMENT_KIND_LABELS,
    ASSIGNMENT_STATUS_LABELS,
    AssignmentCreate,
    AssignmentOut,
    ChecklistRef,
    InspectionSummary,
    InstitutionRef,
    PersonRef,
)
from backend.inspections.tables import (
    Assignment,
    AssignmentInspector,
    AssignmentKind,
    AssignmentStatus,
    Inspection,
)
from backend.tenancy import institution_where, visible_institution

ASSIGNMENT_NOT_FOUND = "检查任务不存在或不在您的管辖范围内"
CHINA_TZ = ZoneInfo("Asia/Shanghai")


def _today_in_china() -> date:
    return datetime.now(UTC).astimezone(CHINA_TZ).date()


def unannounced_flights() -> Any:
    """A subquery of the 飞行检查 assignments whose window has not started yet (in China).

    An institution must not learn of a flight inspection before it begins: every read a manager
    can reach (inspections, photos, notices, tasks, updates) leaves out whatever hangs on one of
    these. Staff see them as any other assignment.
    """
    return Assignment.select(Assignment.id).where(
        (Assignment.kind == AssignmentKind.flight.value)
        & (Assignment.window_start > _today_in_china())
    )


def is_unannounced_flight(kind: str, window_start: date) -> bool:
    """Whether an assignment of this kind and window is a flight not yet begun (see above)."""
    return kind == AssignmentKind.flight.value and window_start > _today_in_china()


def assignment_columns() -> list[Any]:
    """The columns every assignment read selects (with its institution and checklist)."""
    return [
        Assignment.id,
        Assignment.kind,
        Assignment.window_start,
        Assignment.window_end,
        Assignment.status,
        Assignment.note,
        Assignment.created_at,
        Assignment.updated_at,
        Assignment.institution.id,
        Assignment.institution.code,
        Assignment.institution.name,
        Assignment.institution.type,
        Assignment.institution.address,
        Assignment.institution.agreement_status,
        Assignment.institution.region,
        Assignment.checklist.id,
        Assignment.checklist.checklist_id,
        Assignment.checklist.version,
        Assignment.checklist.title,
        Assignment.checklist.content_hash,
    ]


def assignment_scope(user: CurrentUser) -> Any:
    """A WHERE clause for the assignments the user may see (None: all).

    Inspectors see the assignments they are on; supervisors those of institutions in their
    region; admins all. Managers see none (they are not told about planned inspections).
    """
    if user.role == Role.inspector:
        mine = AssignmentInspector.select(AssignmentInspector.assignment).where(
            AssignmentInspector.inspector == user.id
        )
        return Assignment.id.is_in(mine)
    if user.role == Role.manager:
        raise Forbidden("机构医保负责人不能查看检查任务")
    return institution_where(user, Assignment.institution)


async def teams_of(ids: list[UUID]) -> dict[UUID, list[PersonRef]]:
    """The inspectors of each assignment, by username."""
    teams: dict[UUID, list[PersonRef]] = defaultdict(list)
    if not ids:
        return teams
    rows = await AssignmentInspector.select(
        AssignmentInspector.assignment,
        AssignmentInspector.inspector.id,
        AssignmentInspector.inspector.username,
        AssignmentInspector.inspector.display_name,
    ).where(AssignmentInspector.assignment.is_in(ids))
    for r in sorted(rows, key=lambda r: r["inspector.username"]):
        teams[r["assignment"]].append(
            PersonRef(
                id=r["inspector.id"],
                username=r["inspector.username"],
                display_name=r["inspector.display_name"],
            )
        )
    return teams


async def _inspections(ids: list[UUID]) -> dict[UUID, InspectionSummary]:
    if not ids:
        return {}
    rows = await Inspection.select(
        Inspection.id,
        Inspection.assignment,
        Inspection.status,
        Inspection.score_total,
        Inspection.grade,
        Inspection.submitted_at,
    ).where(Inspection.assignment.is_in(ids))
    return {
        r["assignment"]: InspectionSummary(
            id=r["id"],
            status=r["status"],
            score_total=float(r["score_total"]) if r["score_total"] is not None else None,
            grade=r["grade"],
            submitted_at=r["submitted_at"],
        )
        for r in rows
    }


async def to_out(rows: list[dict[str, Any]]) -> list[AssignmentOut]:
    """Assignment rows (selected with :func:`assignment_columns`) as API objects."""
    ids = [r["id"] for r in rows]
    teams = await teams_of(ids)
    inspections = await _inspections(ids)
    return [
        AssignmentOut(
            id=r["id"],
            institution=InstitutionRef(
                id=r["institution.id"],
                code=r["institution.code"],
                name=r["institution.name"],
                type=r["institution.type"],
                address=r["institution.address"],
                agreement_status=r["institution.agreement_status"],
            ),
            checklist=ChecklistRef(
                version_id=r["checklist.id"],
                checklist_id=r["checklist.checklist_id"],
                version=r["checklist.version"],
                title=r["checklist.title"],
                content_hash=r["checklist.content_hash"],
            ),
            kind=AssignmentKind(r["kind"]),
            kind_label=ASSIGNMENT_KIND_LABELS[AssignmentKind(r["kind"])],
            window_start=r["window_start"],
            window_end=r["window_end"],
            status=AssignmentStatus(r["status"]),
            status_label=ASSIGNMENT_STATUS_LABELS[AssignmentStatus(r["status"])],
            inspectors=teams.get(r["id"], []),
            note=r["note"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            inspection=inspections.get(r["id"]),
        )
        for r in rows
    ]


async def list_assignments(
    user: CurrentUser, *, status: AssignmentStatus | None = None, updated_after: Any = None
) -> list[AssignmentOut]:
    """The assignments the user may see, newest window first."""
    query = Assignment.select(*assignment_columns()).order_by(
        Assignment.window_start, ascending=False
    )
    scope = assignment_scope(user)
    if scope is not None:
        query = query.where(scope)
    if status is not None:
        query = query.where(Assignment.status == status.value)
    if updated_after is not None:
        query = query.where(Assignment.updated_at > updated_after)
    return await to_out(await query)


async def visible_assignment(user: CurrentUser, assignment_id: UUID) -> dict[str, Any]:
    """An assignment row the user may see (404 otherwise, the same as a missing one)."""
    query = Assignment.select(*assignment_columns()).where(Assignment.id == assignment_id)
    scope = assignment_scope(user)
    if scope is not None:
        query = query.where(scope)
    row = await query.first()
    if row is None:
        raise NotFound(ASSIGNMENT_NOT_FOUND)
    return row


async def get_assignment(user: CurrentUser, assignment_id: UUID) -> AssignmentOut:
    """One assignment as the API shows it."""
    return (await to_out([await visible_assignment(user, assignment_id)]))[0]


async def _checklist_for(data: AssignmentCreate, institution_type: str) -> dict[str, Any]:
    query = ChecklistVersion.select(
        ChecklistVersion.id, ChecklistVersion.version, ChecklistVersion.applies_to
    ).where(ChecklistVersion.checklist_id == data.checklist_id)
    if data.checklist_version is not None:
        query = query.where(ChecklistVersion.version == data.checklist_version)
    rows = await query.order_by(ChecklistVersion.version, ascending=False).output(load_json=True)
    if not rows:
        version = f" 第 {data.checklist_version} 版" if data.checklist_version else ""
        raise InvalidInput(
            f"检查表 {data.checklist_id}{version} 不存在", details={"field": "checklist_id"}
        )
    checklist = rows[0]
    if institution_type not in checklist["applies_to"]:
        raise InvalidInput(
            f"检查表 {data.checklist_id} 不适用于该类型的机构",
            details={"field": "checklist_id"},
        )
    return checklist


async def create_assignment(user: CurrentUser, data: AssignmentCreate) -> AssignmentOut:
    """Plan an inspection: an institution in the planner's region, a checklist that applies to
    it, a date window and a team of at least two inspectors who cover that institution.

    Raises:
        NotFound: the institution is outside the planner's region.
        InvalidInput: any rule broken (the message names it).
    """
    institution = await visible_institution(user, data.institution_id)
    if data.window_end < data.window_start:
        raise InvalidInput(
            "检查时间窗口的结束日期不能早于开始日期", details={"field": "window_end"}
        )
    checklist = await _checklist_for(data, institution["type"])
    team_ids = list(dict.fromkeys(data.inspector_ids))
    if len(team_ids) < 2:
        raise InvalidInput("执法检查人员不得少于两人", details={"field": "inspector_ids"})
    inspectors = await User.select(
        User.id, User.username, User.role, User.region, User.is_active
    ).where(User.id.is_in(team_ids))
    by_id = {r["id"]: r for r in inspectors}
    problems = []
    for inspector_id in team_ids:
        row = by_id.get(inspector_id)
        if row is None or row["role"] != Role.inspector.value:
            problems.append(f"{inspector_id} 不是检查人员")
        elif not row["is_active"]:
            problems.append(f"检查人员 {row['username']} 的账户已停用")
        elif not await _covers(row["region"], institution["region"]):
            problems.append(f"检查人员 {row['username']} 不负责该机构所在区域")
    # 回避: an inspector recorded as related to the institution is never on its team.
    from backend.planning.tables import InspectorRelation  # planning builds on this module

    for r in await InspectorRelation.select(
        InspectorRelation.inspector.username, InspectorRelation.reason
    ).where(
        (InspectorRelation.institution == institution["id"])
        & InspectorRelation.inspector.is_in(team_ids)
    ):
        problems.append(f"检查人员 {r['inspector.username']} 须回避该机构（{r['reason']}）")
    if problems:
        raise InvalidInput(
            "；".join(problems), details={"field": "inspector_ids", "problems": problems}
        )

    async with write_transaction():
        assignment = Assignment(
            institution=institution["id"],
            checklist=checklist["id"],
            kind=data.kind.value,
            window_start=data.window_start,
            window_end=data.window_end,
            note=data.note,
            created_by=user.id,
        )
        await assignment.save()
        await AssignmentInspector.insert(
            *[AssignmentInspector(assignment=assignment.id, inspector=i) for i in team_ids]
        )
        await record(
            user.actor,
            "assignment.create",
            "assignment",
            assignment.id,
            after={
                "institution": institution["code"],
                "checklist": f"{data.checklist_id} v{checklist['version']}",
                "window": [data.window_start, data.window_end],
                "inspectors": [by_id[i]["username"] for i in team_ids],
                "kind": data.kind.value,
            },
        )
    return await get_assignment(user, assignment.id)


async def _covers(inspector_region: UUID | None, institution_region: UUID) -> bool:
    """Whether an inspector's region is the institution's region or one above it."""
    return inspector_region is not None and institution_region in await region_scope(
        inspector_region
    )


async def cancel_assignment(user: CurrentUser, assignment_id: UUID, reason: str) -> AssignmentOut:
    """Cancel a planned assignment that has no submitted inspection."""
    row = await visible_assignment(user, assignment_id)
    async with write_transaction():
        submitted = await Inspection.exists().where(
            (Inspection.assignment == assignment_id) & (Inspection.status == "submitted")
        )
        if submitted:
            raise InvalidInput("该任务的检查已提交，不能取消")
        if row["status"] == AssignmentStatus.cancelled.value:
            raise InvalidInput("该任务已取消")
        await Assignment.update(
            {Assignment.status: AssignmentStatus.cancelled.value, Assignment.updated_at: now()}
        ).where(Assignment.id == assignment_id)
        await record(
            user.actor,
            "assignment.cancel",
            "assignment",
            assignment_id,
            before={"status": row["status"]},
            after={"status": "cancelled", "reason": reason},
        )
    return await get_assignment(user, assignment_id)
