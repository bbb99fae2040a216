"""Reading notices and tasks as the API shows them: lists, details, history, overdue tasks and
"what is new since" — always within the caller's tenancy."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, now
from backend.accounts.tables import Role
from backend.db import write_transaction
from backend.errors import InvalidInput
from backend.inspections.schemas import ASSIGNMENT_KIND_LABELS
from backend.inspections.tables import AssignmentInspector, AssignmentKind, Finding
from backend.institutions.tables import AGREEMENT_STATUS_LABELS, AgreementStatus, Institution
from backend.rectification import deadlines, numbering, verification
from backend.rectification.access import notice_where, visible_notice, visible_task
from backend.rectification.attachments import attachment_urls
from backend.rectification.config import RectificationSettings
from backend.rectification.escalation import STEPS
from backend.rectification.events import EVENT_LABELS
from backend.rectification.reinspection import reinspection_assignments
from backend.rectification.schemas import (
    EscalationOut,
    EventOut,
    FoundOut,
    InspectorOut,
    InstitutionBrief,
    NoticeDetail,
    NoticeSummary,
    ObjectionOut,
    OverdueTask,
    PhotoLink,
    ReinspectionOut,
    TaskDetail,
    TaskOut,
    UpdatesOut,
)
from backend.rectification.tables import (
    FINISHED_TASK_STATUSES,
    NOTICE_STATUS_LABELS,
    OBJECTION_STATUS_LABELS,
    TASK_STATUS_LABELS,
    Attachment,
    Escalation,
    LastSeen,
    NoticeStatus,
    Objection,
    ObjectionStatus,
    RectificationNotice,
    RectificationTask,
    TaskEvent,
    TaskStatus,
)
from backend.rectification.tasks import days_overdue, flag_overdue, is_overdue

MAX_LIMIT = 200
CENT = Decimal("0.01")
MAX_EVENTS = 500


def _photo(photo_id: UUID | str) -> PhotoLink:
    return PhotoLink(id=UUID(str(photo_id)), **attachment_urls(photo_id))


def _evidence(photo_id: UUID | str) -> PhotoLink:
    # Inspectors' evidence photos are served by the inspections API (managers may see them
    # once the inspection is submitted, which it is for every notice).
    return PhotoLink(
        id=UUID(str(photo_id)),
        url=f"/api/photos/{photo_id}",
        thumbnail_url=f"/api/photos/{photo_id}/thumbnail",
    )


async def _institutions(ids: set[UUID]) -> dict[UUID, InstitutionBrief]:
    if not ids:
        return {}
    rows = await Institution.select(
        Institution.id,
        Institution.code,
        Institution.name,
        Institution.type,
        Institution.agreement_status,
    ).where(Institution.id.is_in(list(ids)))
    return {
        r["id"]: InstitutionBrief(
            **r,
            agreement_status_label=AGREEMENT_STATUS_LABELS[AgreementStatus(r["agreement_status"])],
        )
        for r in rows
    }


async def institutions_brief(ids: set[UUID]) -> dict[UUID, InstitutionBrief]:
    """The institutions named by ``ids`` as notices and queues show them."""
    return await _institutions(ids)


def _task_columns() -> list[Any]:
    return [
        RectificationTask.all_columns(),
        RectificationTask.notice.number.as_alias("notice_number"),
        RectificationTask.notice.status.as_alias("notice_status"),
        RectificationTask.notice.institution.as_alias("institution_id"),
    ]


async def _tasks_of(notice_ids: list[UUID]) -> list[dict[str, Any]]:
    if not notice_ids:
        return []
    return (
        await RectificationTask.select(*_task_columns())
        .where(RectificationTask.notice.is_in(notice_ids))
        .order_by(RectificationTask.seq)
        .output(load_json=True)
    )


async def _objections(task_ids: list[UUID]) -> dict[UUID, ObjectionOut]:
    if not task_ids:
        return {}
    rows = await Objection.select().where(Objection.task.is_in(task_ids))
    return {
        r["task"]: ObjectionOut(
            id=r["id"],
            task_id=r["task"],
            reason=r["reason"],
            status=r["status"],
            status_label=OBJECTION_STATUS_LABELS[ObjectionStatus(r["status"])],
            filed_at=r["filed_at"],
            decided_at=r["decided_at"],
            decision_comment=r["decision_comment"],
        )
        for r in rows
    }


async def _findings(finding_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    if not finding_ids:
        return {}
    rows = (
        await Finding.select(
            Finding.id,
            Finding.result,
            Finding.note,
            Finding.occurrences,
            Finding.sampled,
            Finding.failed,
            Finding.photo_ids,
        )
        .where(Finding.id.is_in(finding_ids))
        .output(load_json=True)
    )
    return {r["id"]: r for r in rows}


def _task_out(
    task: dict[str, Any],
    finding: dict[str, Any] | None,
    objection: ObjectionOut | None,
    today: date,
) -> dict[str, Any]:
    finding = finding or {}
    return {
        "id": task["id"],
        "notice_id": task["notice"],
        "seq": task["seq"],
        "item_id": task["item_id"],
        "section_title": task["section_title"],
        "item_text": task["item_text"],
        "fail_when": task["fail_when"],
        "basis": task["basis"],
        "required_action": task["required_action"],
        "deadline_days": task["deadline_days"],
        "deadline": task["deadline"],
        "deadline_basis": task.get("deadline_basis") or "calendar",
        "deadline_provisional": bool(task.get("deadline_provisional")),
        "amount": task.get("amount"),
        "fraud": bool(task.get("fraud")),
        "days_left": deadlines.days_left(task["deadline"], today),
        "overdue": is_overdue(task, today),
        "days_overdue": days_overdue(task, today),
        "status": task["status"],
        "status_label": TASK_STATUS_LABELS[TaskStatus(task["status"])],
        "found": FoundOut(
            result=finding.get("result", "fail"),
            note=finding.get("note", ""),
            occurrences=finding.get("occurrences"),
            sampled=finding.get("sampled"),
            failed=finding.get("failed"),
            photos=[_evidence(p) for p in finding.get("photo_ids") or []],
        ),
        "answer": task["answer"],
        "answered_at": task["answered_at"],
        "reviewed_at": task["reviewed_at"],
        "review_comment": task["review_comment"],
        "objection": objection,
        "updated_at": task["updated_at"],
    }


async def _task_outs(tasks: list[dict[str, Any]], today: date) -> list[TaskOut]:
    findings = await _findings([t["finding"] for t in tasks])
    objections = await _objections([t["id"] for t in tasks])
    return [
        TaskOut(**_task_out(t, findings.get(t["finding"]), objections.get(t["id"]), today))
        for t in tasks
    ]


def _summary_fields(
    row: dict[str, Any],
    institution: InstitutionBrief,
    tasks: list[dict[str, Any]],
    today: date,
) -> dict[str, Any]:
    unfinished = [t for t in tasks if t["status"] not in FINISHED_TASK_STATUSES]
    next_deadline = min((t["deadline"] for t in unfinished), default=None)
    issued = row["status"] != NoticeStatus.draft.value
    started = row.get("inspection.started_at") or row.get("inspection.submitted_at")
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "status_label": NOTICE_STATUS_LABELS[NoticeStatus(row["status"])],
        "institution": institution,
        "inspection_id": row["inspection"],
        "inspection_date": deadlines.today_in_china(started) if started else None,
        "issued_at": row["issued_at"],
        "issue_date": deadlines.today_in_china(row["issued_at"]) if row["issued_at"] else None,
        "objection_deadline": row["objection_deadline"],
        "objection_open": bool(
            issued
            and row["status"] == NoticeStatus.issued.value
            and row["objection_deadline"] is not None
            and today <= row["objection_deadline"]
        ),
        "task_count": len(tasks),
        "open_count": len(unfinished),
        "answered_count": sum(t["status"] == TaskStatus.answered.value for t in tasks),
        "overdue_count": sum(is_overdue(t, today) for t in tasks) if issued else 0,
        "next_deadline": next_deadline if issued else None,
        "days_left": deadlines.days_left(next_deadline, today)
        if issued and next_deadline
        else None,
        "closed_at": row["closed_at"],
        "updated_at": row["updated_at"],
    }


def _notice_columns() -> list[Any]:
    return [
        RectificationNotice.all_columns(),
        RectificationNotice.inspection.started_at,
        RectificationNotice.inspection.submitted_at,
    ]


async def list_notices(
    user: CurrentUser,
    *,
    status: str | None = None,
    institution_id: UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[NoticeSummary], int]:
    """Notices the user may see, newest first, one page of them.

    Raises:
        InvalidInput: a bad status filter or page bounds.
    """
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise InvalidInput(f"limit 须在 1–{MAX_LIMIT} 之间，offset 不能为负")
    clauses = []
    scope = notice_where(user)
    if scope is not None:
        clauses.append(scope)
    if status:
        try:
            clauses.append(RectificationNotice.status == NoticeStatus(status).value)
        except ValueError:
            raise InvalidInput(
                "status 须为 draft、issued 或 closed", details={"field": "status"}
            ) from None
    if institution_id:
        clauses.append(RectificationNotice.institution == institution_id)
    query = RectificationNotice.select(*_notice_columns()).order_by(
        RectificationNotice.created_at, ascending=False
    )
    count = RectificationNotice.count()
    for clause in clauses:
        query = query.where(clause)
        count = count.where(clause)
    rows = await query.limit(limit).offset(offset)
    total = await count
    tasks = await _tasks_of([r["id"] for r in rows])
    await flag_overdue(tasks)
    by_notice: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for t in tasks:
        by_notice[t["notice"]].append(t)
    institutions = await _institutions({r["institution"] for r in rows})
    today = deadlines.today_in_china()
    items = [
        NoticeSummary(
            **_summary_fields(r, institutions[r["institution"]], by_notice[r["id"]], today)
        )
        for r in rows
    ]
    return items, total


async def _events(where: Any, limit: int = MAX_EVENTS) -> list[EventOut]:
    rows = (
        await TaskEvent.select(
            TaskEvent.all_columns(),
            TaskEvent.notice.number.as_alias("notice_number"),
            TaskEvent.task.seq.as_alias("task_seq"),
        )
        .where(where)
        .order_by(TaskEvent.id)
        .limit(limit)
        .output(load_json=True)
    )
    return [
        EventOut(
            id=r["id"],
            at=r["at"],
            kind=r["kind"],
            label=EVENT_LABELS.get(r["kind"], r["kind"]),
            text=r["text"],
            actor_name=r["actor_name"],
            actor_role=r["actor_role"],
            status_after=r["status_after"],
            notice_id=r["notice"],
            notice_number=r["notice_number"],
            task_id=r["task"],
            task_seq=r["task_seq"],
            photos=[_photo(p) for p in r["photo_ids"] or []],
        )
        for r in rows
    ]


async def _inspectors(assignment_id: UUID) -> list[InspectorOut]:
    rows = await AssignmentInspector.select(
        AssignmentInspector.inspector.display_name,
        AssignmentInspector.inspector.username,
        AssignmentInspector.inspector.enforcement_cert_no,
    ).where(AssignmentInspector.assignment == assignment_id)
    people = [
        InspectorOut(
            name=r["inspector.display_name"] or r["inspector.username"],
            enforcement_cert_no=r["inspector.enforcement_cert_no"] or "",
        )
        for r in rows
    ]
    return sorted(people, key=lambda p: p.name)


def escalation_out(r: dict[str, Any]) -> EscalationOut:
    """An escalation row as the API shows it."""
    step = STEPS.get(r["step"])
    return EscalationOut(
        id=r["id"],
        step=r["step"],
        label=step.label if step else r["step"],
        rule_reference=r["rule_reference"],
        note=r["note"],
        # Two decimals on both engines (SQLite gives back 1280.5 for 1280.50).
        amount=Decimal(r["amount"]).quantize(CENT) if r["amount"] is not None else None,
        decided_on=r.get("decided_on") or deadlines.today_in_china(r["created_at"]),
        document_no=r.get("document_no") or "",
        overdue_tasks=r["overdue_tasks"],
        max_days_overdue=r["max_days_overdue"],
        agreement_before=r["agreement_before"],
        agreement_after=r["agreement_after"],
        created_at=r["created_at"],
    )


def public_base(settings_base: str | None, request_base: str) -> str:
    """The base URL printed in QR codes: the configured public one, else the request's."""
    return (settings_base or request_base).rstrip("/")


async def notice_detail(
    user: CurrentUser, notice_id: UUID, *, secret_key: str, base_url: str
) -> NoticeDetail:
    """One notice with its tasks, escalations, re-inspections and notice-level history."""
    await visible_notice(user, notice_id)
    row = (
        await RectificationNotice.select(
            *_notice_columns(),
            RectificationNotice.inspection.assignment.as_alias("assignment_id"),
            RectificationNotice.inspection.assignment.kind.as_alias("assignment_kind"),
            RectificationNotice.inspection.checklist.title.as_alias("checklist_title"),
            RectificationNotice.inspection.score_total.as_alias("score_total"),
            RectificationNotice.inspection.grade.as_alias("grade"),
            RectificationNotice.office.name.as_alias("office_name"),
        )
        .where(RectificationNotice.id == notice_id)
        .first()
    )
    assert row is not None
    tasks = await _tasks_of([notice_id])
    await flag_overdue(tasks)
    today = deadlines.today_in_china()
    institution = (await _institutions({row["institution"]}))[row["institution"]]
    escalations = (
        await Escalation.select()
        .where(Escalation.notice == notice_id)
        .order_by(Escalation.created_at)
    )
    reinspections = await reinspection_assignments(notice_id)
    team = await _inspectors(row["assignment_id"])
    amounts = [Decimal(t["amount"]) for t in tasks if t.get("amount") is not None]
    settings = RectificationSettings.from_env()
    summary = _summary_fields(row, institution, tasks, today)
    verify = None
    if row["verify_nonce"]:
        token = verification.make_token(secret_key, row["id"], row["verify_nonce"])
        verify = verification.verify_url(base_url, token)
    return NoticeDetail(
        **summary,
        bureau=numbering.bureau_name({"name": row["office_name"]}),
        inspection_kind=ASSIGNMENT_KIND_LABELS[AssignmentKind(row["assignment_kind"])],
        checklist_title=row["checklist_title"],
        inspectors=[p.name for p in team],
        inspector_details=team,
        served_on=row.get("served_on") or summary["issue_date"],
        service_method=row.get("service_method") or ("electronic" if row["issued_at"] else ""),
        objection_provisional=bool(row.get("objection_provisional")),
        contact=row.get("contact") or "",
        amount_total=str(sum(amounts, Decimal("0.00")).quantize(CENT)) if amounts else None,
        penalty_multiple=str(settings.penalty_multiple),
        score_total=float(row["score_total"]) if row["score_total"] is not None else None,
        grade=row["grade"],
        deadline_basis=row["deadline_basis"],
        tasks=await _task_outs(tasks, today),
        escalations=[escalation_out(e) for e in escalations],
        reinspections=[
            ReinspectionOut(
                assignment_id=r["assignment"],
                status=r["status"],
                window_start=r["window_start"],
                window_end=r["window_end"],
                created_at=r["created_at"],
            )
            for r in reinspections
        ],
        history=await _events((TaskEvent.notice == notice_id) & TaskEvent.task.is_null()),
        verify_url=verify,
        document_url=f"/api/rectification/notices/{notice_id}/document",
        pdf_url=f"/api/rectification/notices/{notice_id}/document.pdf",
    )


def _actions(user: CurrentUser, task: dict[str, Any], objection: ObjectionOut | None) -> list[str]:
    """What the caller may do with the task now (the PWA shows only these buttons)."""
    if task["notice_status"] != NoticeStatus.issued.value:
        return ["comment"] if task["notice_status"] == NoticeStatus.closed.value else []
    actions = ["comment"]
    status = task["status"]
    if user.role == Role.manager:
        if status == TaskStatus.open.value:
            actions += ["upload_photo", "answer"]
        window = task.get("objection_deadline")
        if (
            objection is None
            and status not in FINISHED_TASK_STATUSES
            and (window is None or deadlines.today_in_china() <= window)
        ):
            actions.append("object")
    else:
        if status == TaskStatus.answered.value:
            actions += ["accept", "reject"]
        if (
            user.role in (Role.admin, Role.supervisor)
            and objection is not None
            and objection.status == ObjectionStatus.pending.value
        ):
            actions.append("decide_objection")
    return actions


async def task_detail(user: CurrentUser, task_id: UUID) -> TaskDetail:
    """One task with what was found, the answer, photos, objection, history and the actions the
    caller may take."""
    task = await visible_task(user, task_id)
    await flag_overdue([task])
    today = deadlines.today_in_china()
    findings = await _findings([task["finding"]])
    objections = await _objections([task_id])
    attachments = (
        await Attachment.select(Attachment.id)
        .where(Attachment.task == task_id)
        .order_by(Attachment.created_at)
    )
    institution = (await _institutions({task["institution_id"]}))[task["institution_id"]]
    return TaskDetail(
        **_task_out(task, findings.get(task["finding"]), objections.get(task_id), today),
        notice_number=task["notice_number"],
        notice_status=task["notice_status"],
        institution=institution,
        answer_photos=[_photo(p) for p in task["answer_photo_ids"] or []],
        attachments=[_photo(a["id"]) for a in attachments],
        history=await _events(TaskEvent.task == task_id),
        actions=_actions(user, task, objections.get(task_id)),
    )


async def overdue_tasks(user: CurrentUser) -> list[OverdueTask]:
    """The overdue tasks of issued notices in the user's scope, most days overdue first."""
    today = deadlines.today_in_china()
    query = RectificationTask.select(*_task_columns()).where(
        (RectificationTask.notice.status == NoticeStatus.issued.value)
        & RectificationTask.status.is_in([TaskStatus.open.value, TaskStatus.answered.value])
        & (RectificationTask.deadline < today)
    )
    scope = notice_where(user, RectificationTask.notice)
    if scope is not None:
        query = query.where(scope)
    tasks = [t for t in await query.output(load_json=True) if is_overdue(t, today)]
    await flag_overdue(tasks)
    institutions = await _institutions({t["institution_id"] for t in tasks})
    steps: dict[UUID, list[str]] = defaultdict(list)
    notice_ids = list({t["notice"] for t in tasks})
    if notice_ids:
        for e in (
            await Escalation.select(Escalation.notice, Escalation.step)
            .where(Escalation.notice.is_in(notice_ids))
            .order_by(Escalation.created_at)
        ):
            steps[e["notice"]].append(STEPS[e["step"]].label if e["step"] in STEPS else e["step"])
    out = [
        OverdueTask(
            task_id=t["id"],
            notice_id=t["notice"],
            notice_number=t["notice_number"],
            seq=t["seq"],
            item_text=t["item_text"],
            institution=institutions[t["institution_id"]],
            deadline=t["deadline"],
            days_overdue=days_overdue(t, today),
            status=t["status"],
            status_label=TASK_STATUS_LABELS[TaskStatus(t["status"])],
            escalations=steps[t["notice"]],
        )
        for t in tasks
    ]
    return sorted(out, key=lambda o: (-o.days_overdue, o.notice_number or "", o.seq))


async def updates(user: CurrentUser, since: datetime | None) -> UpdatesOut:
    """History entries of visible notices after ``since`` (default: when the user last marked
    the updates as seen; everything when never), oldest first, at most 500, leaving out the
    user's own actions.

    Drafts' entries are left out for managers, as the drafts themselves are.
    """
    server_time = now()
    if since is None:
        seen = await LastSeen.select(LastSeen.seen_at).where(LastSeen.user == user.id).first()
        since = seen["seen_at"] if seen else None
    where = TaskEvent.notice.is_in(_visible_notice_ids(user))
    # One's own actions are not news (a manager who just answered a task knows it). System
    # events have no actor: kept.
    where = where & (TaskEvent.actor.is_null() | (TaskEvent.actor != user.id))
    if since is not None:
        where = where & (TaskEvent.at > since)
    if user.role == Role.manager:
        where = where & (TaskEvent.kind != "drafted")
    events = await _events(where)
    return UpdatesOut(server_time=server_time, since=since, events=events, count=len(events))


def _visible_notice_ids(user: CurrentUser) -> Any:
    query = RectificationNotice.select(RectificationNotice.id)
    scope = notice_where(user)
    return query.where(scope) if scope is not None else query


async def mark_seen(user: CurrentUser, at: datetime | None) -> datetime:
    """Remember that the user has read the updates up to ``at`` (default: now)."""
    moment = min(at, now()) if at is not None else now()
    async with write_transaction():
        if await LastSeen.exists().where(LastSeen.user == user.id):
            await LastSeen.update({LastSeen.seen_at: moment}).where(LastSeen.user == user.id)
        else:
            await LastSeen.insert(LastSeen(user=user.id, seen_at=moment))
    return moment
