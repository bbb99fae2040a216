"""The life of a task: answer, review (accept or send back), comments, objections, closing.

::

    open ──answer──► answered ──accept──► accepted        (every task finished: notice closed)
      ▲                 │
      └─────reject──────┘
    open/answered ──objection upheld──► cancelled

A manager answers (their institution only); an inspector or supervisor of the region, or an
admin, reviews; a manager may object to a task once, within the notice's objection window, and a
supervisor decides. Every step writes the task's history and the audit log in one transaction,
then tells the notifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, now
from backend.audit.services import Actor, record
from backend.db import is_sqlite, write_transaction
from backend.errors import Conflict, InvalidInput
from backend.rectification import deadlines
from backend.rectification.access import visible_task
from backend.rectification.events import SYSTEM, EventActor, add_event
from backend.rectification.notify import Notification, notify
from backend.rectification.tables import (
    FINISHED_TASK_STATUSES,
    Attachment,
    NoticeStatus,
    Objection,
    ObjectionStatus,
    RectificationNotice,
    RectificationTask,
    TaskStatus,
)

MAX_TEXT = 4000
MAX_PHOTOS = 20


def _text(value: str, field: str, label: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"请填写{label}", details={"field": field})
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{label}不能超过 {MAX_TEXT} 个字", details={"field": field})
    return text


def is_overdue(task: dict[str, Any], today: date) -> bool:
    """Whether a task is overdue: its deadline has passed and it is neither accepted nor
    withdrawn. A report sent by the deadline that still waits for review is not overdue: the
    institution did its part in time, the wait is the bureau's."""
    if task["status"] in FINISHED_TASK_STATUSES or today <= task["deadline"]:
        return False
    if task["status"] == TaskStatus.answered.value and task["answered_at"] is not None:
        return deadlines.today_in_china(task["answered_at"]) > task["deadline"]
    return True


def days_overdue(task: dict[str, Any], today: date) -> int:
    """Days past the deadline for an overdue task, else 0."""
    return (today - task["deadline"]).days if is_overdue(task, today) else 0


def _message(task: dict[str, Any], kind: str, audience: tuple[str, ...], text: str) -> Notification:
    return Notification(
        kind=kind,
        institution_id=task["institution_id"],
        notice_id=task["notice"],
        notice_number=task["notice_number"],
        task_id=task["id"],
        audience=audience,
        message=text,
    )


def _label(task: dict[str, Any]) -> str:
    return f"{task['notice_number']} 第 {task['seq']} 项"


def _require_issued(task: dict[str, Any]) -> None:
    if task["notice_status"] == NoticeStatus.draft.value:
        raise Conflict("该通知书尚未签发，暂不能办理")
    if task["notice_status"] == NoticeStatus.closed.value:
        raise Conflict("该整改通知书已办结，不能再办理")


async def _set_task(task_id: UUID, at: datetime, changes: dict[Any, Any]) -> None:
    await RectificationTask.update({**changes, RectificationTask.updated_at: at}).where(
        RectificationTask.id == task_id
    )


async def close_if_done(notice_id: UUID, actor: Actor, at: datetime) -> bool:
    """Close an issued notice once every task is accepted or withdrawn (in the caller's
    transaction). Returns whether it closed now."""
    statuses = await RectificationTask.select(RectificationTask.status).where(
        RectificationTask.notice == notice_id
    )
    notice = (
        await RectificationNotice.select(RectificationNotice.status, RectificationNotice.number)
        .where(RectificationNotice.id == notice_id)
        .first()
    )
    assert notice is not None
    if notice["status"] != NoticeStatus.issued.value or any(
        s["status"] not in FINISHED_TASK_STATUSES for s in statuses
    ):
        return False
    await RectificationNotice.update(
        {
            RectificationNotice.status: NoticeStatus.closed.value,
            RectificationNotice.closed_at: at,
            RectificationNotice.updated_at: at,
        }
    ).where(RectificationNotice.id == notice_id)
    await add_event(notice_id, "closed", SYSTEM, status_after="closed", at=at)
    await record(
        actor,
        "rectification_notice.close",
        "rectification_notice",
        notice_id,
        before={"status": "issued"},
        after={"status": "closed", "number": notice["number"]},
    )
    return True


async def reopen_notice(notice_id: UUID, actor: Actor, at: datetime, reason: str) -> None:
    """Put a closed notice back to issued (a re-inspection found a problem again)."""
    await RectificationNotice.update(
        {
            RectificationNotice.status: NoticeStatus.issued.value,
            RectificationNotice.closed_at: None,
            RectificationNotice.updated_at: at,
        }
    ).where(RectificationNotice.id == notice_id)
    await add_event(notice_id, "reopened", SYSTEM, text=reason, status_after="issued", at=at)
    await record(
        actor,
        "rectification_notice.reopen",
        "rectification_notice",
        notice_id,
        before={"status": "closed"},
        after={"status": "issued", "reason": reason},
    )


async def _touch_notice(notice_id: UUID, at: datetime) -> None:
    # Lists are ordered and "what is new" is found by the notice's updated_at.
    await RectificationNotice.update({RectificationNotice.updated_at: at}).where(
        RectificationNotice.id == notice_id
    )


async def answer_task(
    user: CurrentUser, task_id: UUID, report: str, photo_ids: Sequence[UUID]
) -> dict[str, Any]:
    """The manager's rectification report (整改报告) with photos uploaded for this task.

    Raises:
        NotFound: not a task of the manager's institution.
        Conflict: the task is not waiting for an answer (answered, accepted, withdrawn) or the
            notice is closed.
        InvalidInput: no report, too many photos, or photos not uploaded for this task.
    """
    text = _text(report, "report", "整改报告")
    ids = list(dict.fromkeys(photo_ids))
    if len(ids) > MAX_PHOTOS:
        raise InvalidInput(f"每次最多附 {MAX_PHOTOS} 张照片", details={"field": "photo_ids"})
    async with write_transaction():
        task = await visible_task(user, task_id, lock=True)
        _require_issued(task)
        if task["status"] == TaskStatus.answered.value:
            raise Conflict("该事项已提交整改报告，正在等待验收")
        if task["status"] == TaskStatus.accepted.value:
            raise Conflict("该事项已验收通过，不能再提交整改报告")
        if task["status"] == TaskStatus.cancelled.value:
            raise Conflict("该事项已撤销，无需整改")
        if ids:
            known = {
                r["id"]
                for r in await Attachment.select(Attachment.id).where(
                    Attachment.id.is_in(ids) & (Attachment.task == task_id)
                )
            }
            missing = [str(i) for i in ids if i not in known]
            if missing:
                raise InvalidInput(
                    "照片尚未上传到该事项，请先上传照片再提交",
                    details={"field": "photo_ids", "missing": missing},
                )
        at = now()
        await _set_task(
            task_id,
            at,
            {
                RectificationTask.status: TaskStatus.answered.value,
                RectificationTask.answer: text,
                RectificationTask.answer_photo_ids: [str(i) for i in ids],
                RectificationTask.answered_at: at,
                RectificationTask.answered_by: user.id,
            },
        )
        await _touch_notice(task["notice"], at)
        await add_event(
            task["notice"],
            "answer",
            EventActor.of(user),
            task_id=task_id,
            text=text,
            photo_ids=ids,
            status_after="answered",
            at=at,
        )
        await record(
            user.actor,
            "rectification_task.answer",
            "rectification_task",
            task_id,
            before={"status": task["status"]},
            after={"status": "answered", "photos": [str(i) for i in ids], "report": text},
        )
    await notify(
        _message(task, "task.answered", ("reviewers",), f"{_label(task)}已提交整改报告，请验收。")
    )
    return task


async def review_task(
    user: CurrentUser, task_id: UUID, accept: bool, comment: str
) -> dict[str, Any]:
    """Accept (验收通过) or send back (退回) an answered task; sending back needs a comment.

    Returns:
        The task row as it was before the review.

    Raises:
        NotFound: not a task of the reviewer's region.
        Conflict: the task has no answer waiting for review, or the notice is closed.
        InvalidInput: sending back without a comment.
    """
    text = _text(comment, "comment", "退回意见", required=not accept)
    async with write_transaction():
        task = await visible_task(user, task_id, lock=True)
        _require_issued(task)
        if task["status"] != TaskStatus.answered.value:
            raise Conflict(
                "该事项已验收通过"
                if task["status"] == TaskStatus.accepted.value
                else "该事项没有待验收的整改报告"
            )
        at = now()
        new = TaskStatus.accepted if accept else TaskStatus.open
        await _set_task(
            task_id,
            at,
            {
                RectificationTask.status: new.value,
                RectificationTask.reviewed_at: at,
                RectificationTask.reviewed_by: user.id,
                RectificationTask.review_comment: text,
            },
        )
        await _touch_notice(task["notice"], at)
        await add_event(
            task["notice"],
            "accept" if accept else "reject",
            EventActor.of(user),
            task_id=task_id,
            text=text,
            status_after=new.value,
            at=at,
        )
        await record(
            user.actor,
            "rectification_task.accept" if accept else "rectification_task.reject",
            "rectification_task",
            task_id,
            before={"status": task["status"]},
            after={"status": new.value, "comment": text},
        )
        closed = accept and await close_if_done(task["notice"], user.actor, at)
    if accept:
        message = f"{_label(task)}已验收通过。" + ("整改通知书已全部办结。" if closed else "")
        await notify(_message(task, "task.accepted", ("manager",), message))
    else:
        await notify(_message(task, "task.rejected", ("manager",), f"{_label(task)}被退回：{text}"))
    return task


async def comment_task(user: CurrentUser, task_id: UUID, text: str) -> None:
    """A comment on a task by anyone who may see it (a manager: once the notice is issued)."""
    body = _text(text, "text", "留言内容")
    async with write_transaction():
        # Managers never reach a draft (404 in visible_task); staff may discuss one.
        task = await visible_task(user, task_id)
        at = now()
        await _touch_notice(task["notice"], at)
        await add_event(
            task["notice"], "comment", EventActor.of(user), task_id=task_id, text=body, at=at
        )
        await record(
            user.actor,
            "rectification_task.comment",
            "rectification_task",
            task_id,
            after={"text": body},
        )


async def object_to_task(user: CurrentUser, task_id: UUID, reason: str) -> dict[str, Any]:
    """The manager objects (申诉) to a task, once, within the objection window.

    Raises:
        NotFound: not a task of the manager's institution.
        Conflict: the window has passed, the task is finished, or it was objected to already.
        InvalidInput: no reason given.
    """
    text = _text(reason, "reason", "申诉理由")
    async with write_transaction():
        task = await visible_task(user, task_id, lock=True)
        _require_issued(task)
        today = deadlines.today_in_china()
        if task["objection_deadline"] is not None and today > task["objection_deadline"]:
            raise Conflict(f"申诉期已过（截至 {task['objection_deadline']:%Y年%m月%d日}）")
        if task["status"] in FINISHED_TASK_STATUSES:
            raise Conflict("该事项已办结，不能再申诉")
        if await Objection.exists().where(Objection.task == task_id):
            raise Conflict("该事项已提出过申诉，每个事项只能申诉一次")
        at = now()
        objection = Objection(task=task_id, reason=text, filed_by=user.id, filed_at=at)
        await objection.save()
        await _touch_notice(task["notice"], at)
        await add_event(
            task["notice"], "objection", EventActor.of(user), task_id=task_id, text=text, at=at
        )
        await record(
            user.actor,
            "rectification_task.object",
            "rectification_task",
            task_id,
            after={"objection": str(objection.id), "reason": text},
        )
    await notify(
        _message(task, "task.objected", ("reviewers",), f"{_label(task)}收到申诉，请处理。")
    )
    row = await Objection.select().where(Objection.id == objection.id).first()
    assert row is not None
    return row


async def decide_objection(
    user: CurrentUser, task_id: UUID, upheld: bool, comment: str
) -> dict[str, Any]:
    """A supervisor decides an objection. Upheld: the problem is withdrawn and its task
    cancelled (the notice closes if nothing else is left). Dismissed: the task goes on as it
    was, deadline unchanged. A comment is required either way (the manager reads it).

    Raises:
        NotFound: not a task of the supervisor's region.
        Conflict: no pending objection on this task.
    """
    text = _text(comment, "comment", "处理意见")
    async with write_transaction():
        task = await visible_task(user, task_id, lock=True)
        query = Objection.select().where(Objection.task == task_id)
        if not is_sqlite():
            query = query.lock_rows()
        objection = await query.first()
        if objection is None or objection["status"] != ObjectionStatus.pending.value:
            raise Conflict("该事项没有待处理的申诉")
        at = now()
        status = ObjectionStatus.upheld if upheld else ObjectionStatus.dismissed
        await Objection.update(
            {
                Objection.status: status.value,
                Objection.decided_by: user.id,
                Objection.decided_at: at,
                Objection.decision_comment: text,
            }
        ).where(Objection.id == objection["id"])
        task_status = task["status"]
        if upheld and task_status not in FINISHED_TASK_STATUSES:
            task_status = TaskStatus.cancelled.value
            await _set_task(task_id, at, {RectificationTask.status: task_status})
        await _touch_notice(task["notice"], at)
        await add_event(
            task["notice"],
            "objection_upheld" if upheld else "objection_dismissed",
            EventActor.of(user),
            task_id=task_id,
            text=text,
            status_after=task_status,
            at=at,
        )
        await record(
            user.actor,
            "rectification_task.decide_objection",
            "rectification_task",
            task_id,
            before={"objection": "pending", "status": task["status"]},
            after={"objection": status.value, "status": task_status, "comment": text},
        )
        if upheld:
            # The problem is withdrawn: so are the physician points deducted for it.
            from backend.rules.points import reverse_for_task

            await reverse_for_task(
                user.actor, task_id, deadlines.today_in_china(at), f"申诉成立：{text}"
            )
            await close_if_done(task["notice"], user.actor, at)
    verdict = "申诉成立，该事项已撤销" if upheld else "申诉不成立，请继续按期整改"
    await notify(
        _message(task, "objection.decided", ("manager",), f"{_label(task)}：{verdict}。{text}")
    )
    row = await Objection.select().where(Objection.id == objection["id"]).first()
    assert row is not None
    return row


async def flag_overdue(tasks: Sequence[dict[str, Any]]) -> None:
    """Record and announce, once per task, that a task has become overdue.

    Called by the listings: a task turns overdue by the passing of time, not by a request, so
    the first listing that sees it writes the history entry, the audit event and tells the
    notifier. Needs ``id``, ``notice``, ``seq``, ``status``, ``deadline``, ``answered_at``,
    ``overdue_notified_at``, ``institution_id`` and ``notice_number`` on each task.
    """
    today = deadlines.today_in_china()
    fresh = [
        t
        for t in tasks
        if t["overdue_notified_at"] is None
        and t.get("notice_status", NoticeStatus.issued.value) == NoticeStatus.issued.value
        and is_overdue(t, today)
    ]
    if not fresh:
        return
    announced = []
    async with write_transaction():
        for task in fresh:
            at = now()
            # Only the request that sets the mark announces it (another may have just done so).
            updated = (
                await RectificationTask.update(
                    {RectificationTask.overdue_notified_at: at}, use_auto_update=False
                )
                .where(
                    (RectificationTask.id == task["id"])
                    & RectificationTask.overdue_notified_at.is_null()
                )
                .returning(RectificationTask.id)
            )
            if not updated:
                continue
            days = (today - task["deadline"]).days
            await add_event(
                task["notice"],
                "overdue",
                SYSTEM,
                task_id=task["id"],
                text=f"整改期限 {task['deadline']:%Y年%m月%d日} 已过 {days} 天",
                at=at,
            )
            await record(
                Actor.system("rectification"),
                "rectification_task.overdue",
                "rectification_task",
                task["id"],
                after={"deadline": task["deadline"], "days_overdue": days},
            )
            announced.append((task, days))
    for task, days in announced:
        await notify(
            _message(
                task,
                "task.overdue",
                ("manager", "reviewers"),
                f"{_label(task)}已逾期 {days} 天未完成整改。",
            )
        )
