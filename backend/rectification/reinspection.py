"""Re-inspection (复查): an assignment planned from a notice to verify its rectification on site,
and what its findings do to the notice's tasks.

The rule, item by item, when the re-inspection is submitted:

- an item that **passes** accepts its task (unless already accepted): verified on site;
- an item that **fails** keeps its task open, sends an answered task back to open, and reopens an
  accepted task (and a closed notice): the problem is still there, with its original deadline;
- an item answered **not applicable**, and tasks withdrawn after an upheld objection, stay as
  they are.

Failed items that have no task on the notice (new problems) get a new notice of their own, as
for any inspection. The notice closes when every task is finished.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, now
from backend.accounts.tables import Role, User
from backend.audit.services import Actor, record
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput
from backend.inspections import assignments
from backend.inspections.schemas import AssignmentCreate, AssignmentOut
from backend.inspections.tables import (
    AssignmentKind,
    AssignmentStatus,
    FindingResult,
    Inspection,
)
from backend.rectification import deadlines
from backend.rectification.access import visible_notice
from backend.rectification.events import EventActor, add_event
from backend.rectification.notify import Notification
from backend.rectification.tables import (
    NoticeStatus,
    RectificationNotice,
    RectificationTask,
    Reinspection,
    TaskStatus,
)

OPEN_ASSIGNMENT = (AssignmentStatus.planned.value, AssignmentStatus.in_progress.value)


async def team_ids(ids: list[UUID], usernames: list[str]) -> list[UUID]:
    """The team of a re-inspection, given by user ids or by inspectors' usernames (the desk
    picks them by name); both may be given and are merged.

    Raises:
        InvalidInput: a username that names no inspector, or fewer than two people.
    """
    team = list(ids)
    names = list(dict.fromkeys(u.strip() for u in usernames if u.strip()))
    if names:
        rows = await User.select(User.id, User.username).where(
            User.username.is_in(names) & (User.role == Role.inspector.value)
        )
        found = {r["username"]: r["id"] for r in rows}
        unknown = [n for n in names if n not in found]
        if unknown:
            raise InvalidInput(
                f"不是检查人员：{'、'.join(unknown)}", details={"field": "inspectors"}
            )
        team += [found[n] for n in names]
    team = list(dict.fromkeys(team))
    if len(team) < 2:
        raise InvalidInput("执法检查人员不得少于两人", details={"field": "inspectors"})
    return team


async def plan_reinspection(
    user: CurrentUser,
    notice_id: UUID,
    *,
    window_start: date,
    window_end: date,
    inspector_ids: list[UUID],
    note: str = "",
) -> AssignmentOut:
    """Create a 复查 assignment for an issued (or closed) notice: the same institution and the
    same checklist version as the inspection that led to it, so its items match the tasks.

    The assignment is created by the assignments service (its own rules: a team of two or more
    inspectors covering the institution, a valid window), then linked to the notice. Should the
    link fail, the assignment is cancelled again.

    Raises:
        NotFound: not a notice of the supervisor's region.
        Conflict: the notice is a draft, or a re-inspection of it is already planned.
        InvalidInput: the assignment's rules (window, team).
    """
    notice = await visible_notice(user, notice_id)
    if notice["status"] == NoticeStatus.draft.value:
        raise Conflict("通知书尚未签发，不能安排复查")
    await _refuse_open_reinspection(notice_id)
    inspection = (
        await Inspection.select(
            Inspection.checklist.checklist_id.as_alias("checklist_id"),
            Inspection.checklist.version.as_alias("version"),
        )
        .where(Inspection.id == notice["inspection"])
        .first()
    )
    assert inspection is not None
    text = f"复查：{notice['number']}" + (f"。{note.strip()}" if note.strip() else "")
    created = await assignments.create_assignment(
        user,
        AssignmentCreate(
            institution_id=notice["institution"],
            checklist_id=inspection["checklist_id"],
            checklist_version=inspection["version"],
            window_start=window_start,
            window_end=window_end,
            inspector_ids=inspector_ids,
            kind=AssignmentKind.reinspection,
            note=text[:2000],
        ),
    )
    try:
        async with write_transaction():
            await _refuse_open_reinspection(notice_id, except_assignment=created.id)
            link = Reinspection(notice=notice_id, assignment=created.id, created_by=user.id)
            await link.save()
            at = now()
            await RectificationNotice.update({RectificationNotice.updated_at: at}).where(
                RectificationNotice.id == notice_id
            )
            await add_event(
                notice_id,
                "reinspection_planned",
                EventActor.of(user),
                text=f"{window_start:%Y年%m月%d日}至{window_end:%Y年%m月%d日}",
                at=at,
            )
            await record(
                user.actor,
                "rectification_notice.plan_reinspection",
                "rectification_notice",
                notice_id,
                after={"assignment": str(created.id), "window": [window_start, window_end]},
            )
    except Exception:
        await assignments.cancel_assignment(user, created.id, "复查任务未能关联到整改通知书")
        raise
    return created


async def _refuse_open_reinspection(notice_id: UUID, except_assignment: UUID | None = None) -> None:
    query = Reinspection.select(Reinspection.assignment).where(
        (Reinspection.notice == notice_id)
        & Reinspection.assignment.status.is_in(list(OPEN_ASSIGNMENT))
    )
    rows = [r for r in await query if r["assignment"] != except_assignment]
    if rows:
        raise Conflict("该通知书已安排复查，尚未完成，不能重复安排")


async def apply_reinspection(
    actor: Actor,
    inspector: EventActor,
    notice_id: UUID,
    findings: list[dict[str, Any]],
    submitted_at: datetime,
) -> tuple[set[str], list[Notification]]:
    """Apply a submitted re-inspection's findings to its notice's tasks (see the module rule),
    inside the submission's transaction.

    Returns:
        The item ids that matched a task (they need no new notice), and the notifications.
    """
    from backend.rectification.tasks import close_if_done, reopen_notice

    notice = await RectificationNotice.select().where(RectificationNotice.id == notice_id).first()
    assert notice is not None
    tasks = {
        t["item_id"]: t
        for t in await RectificationTask.select().where(RectificationTask.notice == notice_id)
    }
    by_item = {f["item_id"]: f for f in findings}
    handled: set[str] = set()
    changed: list[tuple[dict[str, Any], str, str]] = []
    on = f"{deadlines.today_in_china(submitted_at):%Y年%m月%d日}现场复查"
    for item_id, task in tasks.items():
        finding = by_item.get(item_id)
        if finding is None or task["status"] == TaskStatus.cancelled.value:
            continue
        handled.add(item_id)
        result = finding["result"]
        if result == FindingResult.passed.value and task["status"] != TaskStatus.accepted.value:
            new, kind, text = TaskStatus.accepted.value, "reinspection_pass", f"{on}合格，验收通过"
            extra = {
                RectificationTask.reviewed_at: submitted_at,
                RectificationTask.reviewed_by: inspector.id,
                RectificationTask.review_comment: text,
            }
        elif result == FindingResult.failed.value:
            new, kind, text = (
                TaskStatus.open.value,
                "reinspection_fail",
                f"{on}仍不符合，须继续整改",
            )
            extra = {}
        else:
            continue
        await RectificationTask.update(
            {RectificationTask.status: new, RectificationTask.updated_at: submitted_at, **extra}
        ).where(RectificationTask.id == task["id"])
        await add_event(
            notice_id,
            kind,
            inspector,
            task_id=task["id"],
            text=text,
            status_after=new,
            at=submitted_at,
        )
        await record(
            actor,
            f"rectification_task.{kind}",
            "rectification_task",
            task["id"],
            before={"status": task["status"]},
            after={"status": new},
        )
        changed.append((task, kind, text))

    if changed:
        await RectificationNotice.update({RectificationNotice.updated_at: submitted_at}).where(
            RectificationNotice.id == notice_id
        )
        reopened = (
            any(kind == "reinspection_fail" for _, kind, _ in changed)
            and notice["status"] == NoticeStatus.closed.value
        )
        if reopened:
            await reopen_notice(notice_id, actor, submitted_at, "复查发现问题仍未整改到位")
        await close_if_done(notice_id, actor, submitted_at)
    messages = [
        Notification(
            kind="task.accepted" if kind == "reinspection_pass" else "task.reopened",
            institution_id=notice["institution"],
            notice_id=notice_id,
            notice_number=notice["number"],
            task_id=task["id"],
            audience=("manager",),
            message=f"{notice['number']} 第 {task['seq']} 项：{text}。",
        )
        for task, kind, text in changed
    ]
    return handled, messages


async def reinspection_assignments(notice_id: UUID) -> list[dict[str, Any]]:
    """The re-inspection assignments of a notice with their status, newest first."""
    return (
        await Reinspection.select(
            Reinspection.assignment,
            Reinspection.created_at,
            Reinspection.assignment.status.as_alias("status"),
            Reinspection.assignment.window_start.as_alias("window_start"),
            Reinspection.assignment.window_end.as_alias("window_end"),
        )
        .where(Reinspection.notice == notice_id)
        .order_by(Reinspection.created_at, ascending=False)
    )
