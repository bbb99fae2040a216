"""The bureau's review queue (待办): answers waiting for 验收, objections (申诉) to decide and
draft notices to confirm, oldest first, within the caller's region; and the counts the desk's
navigation shows.

Only reads: the decisions themselves go through :mod:`backend.rectification.tasks` and
:mod:`backend.rectification.issuing`, as every other client's do.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any, Literal

from backend.accounts.auth import CurrentUser
from backend.errors import InvalidInput
from backend.rectification import deadlines
from backend.rectification.access import notice_where
from backend.rectification.reading import institutions_brief
from backend.rectification.schemas import DeskCounts, QueueItem, QueuePage
from backend.rectification.tables import (
    NoticeStatus,
    Objection,
    ObjectionStatus,
    RectificationNotice,
    RectificationTask,
    TaskStatus,
)
from backend.rectification.tasks import is_overdue

QueueKind = Literal["answers", "objections", "drafts"]
KINDS: tuple[str, ...] = ("answers", "objections", "drafts")
MAX_ITEMS = 500


def _waiting(since: datetime | None, today: date) -> int:
    """Whole days since ``since`` (in China), never negative."""
    if since is None:
        return 0
    return max(0, (today - deadlines.today_in_china(since)).days)


def parse_kind(kind: str) -> QueueKind:
    """The queue named ``kind``.

    Raises:
        InvalidInput: not one of answers, objections, drafts.
    """
    if kind not in KINDS:
        raise InvalidInput(
            "kind 须为 answers（待验收）、objections（待处理申诉）或 drafts（待确认通知书）",
            details={"field": "kind"},
        )
    return kind  # type: ignore[return-value]


def _scoped(query: Any, user: CurrentUser, column: Any) -> Any:
    scope = notice_where(user, column)
    return query.where(scope) if scope is not None else query


async def _answers(user: CurrentUser) -> list[dict[str, Any]]:
    query = RectificationTask.select(
        RectificationTask.all_columns(),
        RectificationTask.notice.number.as_alias("notice_number"),
        RectificationTask.notice.institution.as_alias("institution_id"),
    ).where(
        (RectificationTask.status == TaskStatus.answered.value)
        & (RectificationTask.notice.status == NoticeStatus.issued.value)
    )
    rows = (
        await _scoped(query, user, RectificationTask.notice)
        .order_by(RectificationTask.answered_at)
        .limit(MAX_ITEMS)
    )
    return [
        {
            "kind": "answer",
            "task": r,
            "since": r["answered_at"] or r["updated_at"],
            "text": r["answer"],
        }
        for r in rows
    ]


async def _objections(user: CurrentUser) -> list[dict[str, Any]]:
    query = Objection.select(
        Objection.reason,
        Objection.filed_at,
        Objection.task.all_columns(),
        Objection.task.notice.number.as_alias("notice_number"),
        Objection.task.notice.institution.as_alias("institution_id"),
    ).where(
        (Objection.status == ObjectionStatus.pending.value)
        & (Objection.task.notice.status == NoticeStatus.issued.value)
    )
    rows = (
        await _scoped(query, user, Objection.task.notice)
        .order_by(Objection.filed_at)
        .limit(MAX_ITEMS)
    )
    out = []
    for r in rows:
        task = {k.removeprefix("task."): v for k, v in r.items() if k.startswith("task.")}
        task["notice_number"] = r["notice_number"]
        task["institution_id"] = r["institution_id"]
        out.append({"kind": "objection", "task": task, "since": r["filed_at"], "text": r["reason"]})
    return out


async def _drafts(user: CurrentUser) -> list[dict[str, Any]]:
    query = RectificationNotice.select(
        RectificationNotice.id,
        RectificationNotice.institution,
        RectificationNotice.created_at,
    ).where(RectificationNotice.status == NoticeStatus.draft.value)
    rows = (
        await _scoped(query, user, RectificationNotice)
        .order_by(RectificationNotice.created_at)
        .limit(MAX_ITEMS)
    )
    counts: Counter[Any] = Counter()
    if rows:
        for t in await RectificationTask.select(RectificationTask.notice).where(
            RectificationTask.notice.is_in([r["id"] for r in rows])
        ):
            counts[t["notice"]] += 1
    return [
        {
            "kind": "draft",
            "notice": r,
            "since": r["created_at"],
            "text": f"共 {counts[r['id']]} 个问题",
            "task_count": counts[r["id"]],
        }
        for r in rows
    ]


async def review_queue(user: CurrentUser, kind: str) -> QueuePage:
    """One queue of the desk's 待办, oldest first (the longest wait at the top).

    Args:
        user: a supervisor (their region) or an admin (everything).
        kind: ``answers``, ``objections`` or ``drafts``.

    Raises:
        InvalidInput: an unknown kind.
    """
    which = parse_kind(kind)
    rows = await {"answers": _answers, "objections": _objections, "drafts": _drafts}[which](user)
    today = deadlines.today_in_china()
    institution_ids = {
        (r["task"]["institution_id"] if "task" in r else r["notice"]["institution"]) for r in rows
    }
    institutions = await institutions_brief(institution_ids)
    items = []
    for r in rows:
        task = r.get("task")
        if task is not None:
            items.append(
                QueueItem(
                    kind=r["kind"],
                    notice_id=task["notice"],
                    notice_number=task["notice_number"],
                    task_id=task["id"],
                    seq=task["seq"],
                    item_text=task["item_text"],
                    section_title=task["section_title"],
                    institution=institutions[task["institution_id"]],
                    since=r["since"],
                    days_waiting=_waiting(r["since"], today),
                    deadline=task["deadline"],
                    overdue=is_overdue(task, today),
                    text=r["text"],
                    task_count=None,
                )
            )
        else:
            notice = r["notice"]
            items.append(
                QueueItem(
                    kind="draft",
                    notice_id=notice["id"],
                    notice_number=None,
                    task_id=None,
                    seq=None,
                    item_text="",
                    section_title="",
                    institution=institutions[notice["institution"]],
                    since=r["since"],
                    days_waiting=_waiting(r["since"], today),
                    deadline=None,
                    overdue=False,
                    text=r["text"],
                    task_count=r["task_count"],
                )
            )
    return QueuePage(kind=which, items=items, total=len(items))


async def desk_counts(user: CurrentUser) -> DeskCounts:
    """How many answers, objections and drafts wait, and how many tasks are overdue, in the
    user's scope (the numbers of the desk's navigation)."""
    answers = RectificationTask.count().where(
        (RectificationTask.status == TaskStatus.answered.value)
        & (RectificationTask.notice.status == NoticeStatus.issued.value)
    )
    objections = Objection.count().where(
        (Objection.status == ObjectionStatus.pending.value)
        & (Objection.task.notice.status == NoticeStatus.issued.value)
    )
    drafts = RectificationNotice.count().where(
        RectificationNotice.status == NoticeStatus.draft.value
    )
    today = deadlines.today_in_china()
    late = RectificationTask.select(
        RectificationTask.status,
        RectificationTask.deadline,
        RectificationTask.answered_at,
    ).where(
        (RectificationTask.notice.status == NoticeStatus.issued.value)
        & RectificationTask.status.is_in([TaskStatus.open.value, TaskStatus.answered.value])
        & (RectificationTask.deadline < today)
    )
    # The same rule as the overdue list (an answer sent in time is not overdue while it waits).
    overdue = sum(is_overdue(t, today) for t in await _scoped(late, user, RectificationTask.notice))
    return DeskCounts(
        answers=await _scoped(answers, user, RectificationTask.notice),
        objections=await _scoped(objections, user, Objection.task.notice),
        draft_notices=await _scoped(drafts, user, RectificationNotice),
        overdue=overdue,
    )
