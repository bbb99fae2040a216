"""Who may see which notice and task: the tenancy rules of :mod:`backend.tenancy`, applied to
rectification, plus the row look-ups (locked for writing) every service starts from.

Staff (inspectors, supervisors) see the notices of the institutions in their region, drafts
included; a manager sees their own institution's notices once issued, never a draft nor one of a
飞行检查 whose window has not started; an admin
sees everything. Anything else answers 404, exactly as a record that does not exist.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.db import is_sqlite
from backend.errors import NotFound
from backend.inspections.assignments import unannounced_flights
from backend.inspections.tables import Inspection
from backend.rectification.tables import NoticeStatus, RectificationNotice, RectificationTask
from backend.tenancy import institution_where

NOTICE_NOT_FOUND = "整改通知书不存在或不在您的管辖范围内"
TASK_NOT_FOUND = "整改事项不存在或不在您的管辖范围内"


def notice_where(user: CurrentUser, column: Any = RectificationNotice) -> Any:
    """A WHERE clause for the notices the user may see (None: all).

    Args:
        user: the caller.
        column: the notice table, or a foreign key to it (e.g. ``RectificationTask.notice``),
            through which the clause is built.
    """
    institution = column.institution
    status = column.status
    scope = institution_where(user, institution)
    if user.role == Role.manager:
        # Nor a notice of a 飞行检查 whose window has not started: the institution must not
        # learn of it early (see backend.inspections.assignments.unannounced_flights).
        hidden = Inspection.select(Inspection.id).where(
            Inspection.assignment.is_in(unannounced_flights())
        )
        return scope & (status != NoticeStatus.draft.value) & column.inspection.not_in(hidden)
    return scope


async def visible_notice(
    user: CurrentUser, notice_id: UUID, *, lock: bool = False
) -> dict[str, Any]:
    """The notice row if the user may see it.

    Args:
        user: the caller.
        notice_id: the notice.
        lock: lock the row until the transaction ends (PostgreSQL; SQLite's write transaction
            holds the database already). Only inside a write transaction.

    Raises:
        NotFound: no such notice, or outside the user's tenancy (the same answer).
    """
    query = RectificationNotice.select().where(RectificationNotice.id == notice_id)
    scope = notice_where(user)
    if scope is not None:
        query = query.where(scope)
    if lock and not is_sqlite():
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        raise NotFound(NOTICE_NOT_FOUND)
    return row


async def visible_task(user: CurrentUser, task_id: UUID, *, lock: bool = False) -> dict[str, Any]:
    """The task row (with its notice's number, status, institution and objection deadline) if
    the user may see it; ``lock`` as in :func:`visible_notice`.

    Raises:
        NotFound: no such task, or outside the user's tenancy (the same answer).
    """
    query = RectificationTask.select(
        RectificationTask.all_columns(),
        RectificationTask.notice.number.as_alias("notice_number"),
        RectificationTask.notice.status.as_alias("notice_status"),
        RectificationTask.notice.institution.as_alias("institution_id"),
        RectificationTask.notice.objection_deadline.as_alias("objection_deadline"),
    ).where(RectificationTask.id == task_id)
    scope = notice_where(user, RectificationTask.notice)
    if scope is not None:
        query = query.where(scope)
    row = await query.output(load_json=True).first()
    if row is None:
        raise NotFound(TASK_NOT_FOUND)
    if lock and not is_sqlite():
        # FOR UPDATE can't lock through the join's nullable side: lock the task row itself.
        await (
            RectificationTask.select(RectificationTask.id)
            .where(RectificationTask.id == task_id)
            .lock_rows()
        )
        row = await query.output(load_json=True).first()
        if row is None:  # pragma: no cover - deleted meanwhile (nothing deletes tasks)
            raise NotFound(TASK_NOT_FOUND)
    return row
