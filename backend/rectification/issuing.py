"""Issuing notices: on an inspection's submission (same transaction as its score), or by a
supervisor confirming a draft (``YIBAO_NOTICE_MODE=draft``).

A notice is made only when the inspection has failed items, with one task per failed item in
checklist order. Its number, its tasks' deadlines and its objection window are fixed when it is
issued (for a draft: when it is confirmed), counted from that day in China.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, now
from backend.audit.services import Actor, record
from backend.checklists.schema import Checklist
from backend.db import write_transaction
from backend.errors import Conflict
from backend.inspections.tables import Finding, FindingResult, Inspection
from backend.institutions.tables import Region
from backend.rectification import deadlines, numbering, verification
from backend.rectification.access import visible_notice
from backend.rectification.config import RectificationSettings
from backend.rectification.events import SYSTEM, EventActor, add_event
from backend.rectification.notify import Notification, notify
from backend.rectification.reinspection import apply_reinspection
from backend.rectification.tables import (
    NoticeStatus,
    RectificationNotice,
    RectificationTask,
    Reinspection,
)


async def on_inspection_submitted(
    actor: Actor, user_id: UUID, inspection_id: UUID, checklist: Checklist, submitted_at: datetime
) -> dict[str, Any] | None:
    """Called by the sync service inside the submission's transaction, after the score is stored.

    A re-inspection (复查) first updates the tasks of the notice it verifies (see
    :func:`~backend.rectification.reinspection.apply_reinspection`); the failed items left (all
    of them for an ordinary inspection) get a new notice, issued at once or as a draft.

    Returns:
        The new notice row, or None when there was nothing to put on one.
    """
    settings = RectificationSettings.from_env()
    inspection = (
        await Inspection.select(
            Inspection.id,
            Inspection.assignment,
            Inspection.institution,
            Inspection.institution.region.as_alias("region"),
        )
        .where(Inspection.id == inspection_id)
        .first()
    )
    assert inspection is not None
    findings = await Finding.select(Finding.id, Finding.item_id, Finding.result).where(
        Finding.inspection == inspection_id
    )
    event_actor = await EventActor.by_id(user_id)
    messages: list[Notification] = []
    handled: set[str] = set()
    link = (
        await Reinspection.select(Reinspection.notice)
        .where(Reinspection.assignment == inspection["assignment"])
        .first()
    )
    if link is not None:
        handled, messages = await apply_reinspection(
            actor, event_actor, link["notice"], findings, submitted_at
        )

    failed = [
        f
        for f in findings
        if f["result"] == FindingResult.failed.value and f["item_id"] not in handled
    ]
    notice = None
    if failed:
        notice = await _create(actor, event_actor, inspection, checklist, failed, settings)
        if settings.notice_mode == "auto":
            notice, message = await _issue(notice, actor, None, settings, submitted_at)
            messages.append(message)
    # Inside the submission's transaction, which commits right after: see notify.py.
    for message in messages:
        await notify(message)
    return notice


async def _create(
    actor: Actor,
    event_actor: EventActor,
    inspection: dict[str, Any],
    checklist: Checklist,
    failed: list[dict[str, Any]],
    settings: RectificationSettings,
) -> dict[str, Any]:
    """The notice as a draft with its tasks (deadlines provisional until it is issued)."""
    office = await numbering.issuing_office(inspection["region"], settings.office_level)
    today = deadlines.today_in_china()
    order = {item.id: n for n, (_, item) in enumerate(checklist.all_items())}
    items = {item.id: (section, item) for section, item in checklist.all_items()}
    failed = sorted(failed, key=lambda f: order.get(f["item_id"], len(order)))
    notice_id = uuid.uuid4()
    await RectificationNotice.insert(
        RectificationNotice(
            id=notice_id,
            inspection=inspection["id"],
            institution=inspection["institution"],
            office=office["id"],
            status=NoticeStatus.draft.value,
            deadline_basis=settings.deadline_basis,
        )
    )
    tasks = []
    for seq, finding in enumerate(failed, start=1):
        section, item = items[finding["item_id"]]
        tasks.append(
            RectificationTask(
                notice=notice_id,
                finding=finding["id"],
                item_id=item.id,
                seq=seq,
                section_title=section.title[:128],
                item_text=item.text,
                fail_when=item.fail_when,
                basis=item.basis,
                # The item's own wording of what to do; otherwise the reverse of its failure.
                required_action=item.action or f"针对“{item.fail_when}”的问题进行整改",
                deadline_days=item.deadline_days,
                deadline=deadlines.deadline(today, item.deadline_days, settings.deadline_basis),
            )
        )
    await RectificationTask.insert(*tasks)
    await add_event(notice_id, "drafted", event_actor, text=f"共 {len(tasks)} 个问题")
    await record(
        actor,
        "rectification_notice.create",
        "rectification_notice",
        notice_id,
        after={
            "inspection": str(inspection["id"]),
            "office": office["office_short_name"],
            "items": [t.item_id for t in tasks],
            "mode": settings.notice_mode,
        },
    )
    row = await RectificationNotice.select().where(RectificationNotice.id == notice_id).first()
    assert row is not None
    return row


async def _issue(
    notice: dict[str, Any],
    actor: Actor,
    issued_by: UUID | None,
    settings: RectificationSettings,
    at: datetime,
) -> tuple[dict[str, Any], Notification]:
    """Number and issue a draft (inside the caller's write transaction): the number, the task
    deadlines and the objection window are fixed now, counted from today in China."""
    today = deadlines.today_in_china(at)
    office = await Region.select().where(Region.id == notice["office"]).first()
    assert office is not None
    seq = await numbering.next_seq(office["id"], today.year)
    number = numbering.format_number(office["office_short_name"], today.year, seq)
    objection_deadline = deadlines.add_working_days(today, settings.objection_working_days)
    tasks = await RectificationTask.select(
        RectificationTask.id, RectificationTask.deadline_days
    ).where(RectificationTask.notice == notice["id"])
    for task in tasks:
        await RectificationTask.update(
            {
                RectificationTask.deadline: deadlines.deadline(
                    today, task["deadline_days"], settings.deadline_basis
                ),
                RectificationTask.updated_at: at,
            }
        ).where(RectificationTask.id == task["id"])
    changes = {
        RectificationNotice.status: NoticeStatus.issued.value,
        RectificationNotice.year: today.year,
        RectificationNotice.seq: seq,
        RectificationNotice.number: number,
        RectificationNotice.issued_at: at,
        RectificationNotice.issued_by: issued_by,
        RectificationNotice.objection_deadline: objection_deadline,
        RectificationNotice.verify_nonce: verification.new_nonce(),
        RectificationNotice.deadline_basis: settings.deadline_basis,
        RectificationNotice.updated_at: at,
    }
    await RectificationNotice.update(changes).where(RectificationNotice.id == notice["id"])
    issuer = await EventActor.by_id(issued_by) if issued_by else SYSTEM
    await add_event(notice["id"], "issued", issuer, text=number, status_after="issued", at=at)
    await record(
        actor,
        "rectification_notice.issue",
        "rectification_notice",
        notice["id"],
        before={"status": notice["status"]},
        after={
            "status": "issued",
            "number": number,
            "tasks": len(tasks),
            "objection_deadline": objection_deadline,
            "deadline_basis": settings.deadline_basis,
            "confirmed": issued_by is not None,
        },
    )
    # Physician points take effect with the notice (医保医师记分), in this same transaction.
    from backend.rules.points import deduct_for_notice

    await deduct_for_notice(actor, notice["id"], today)
    row = await RectificationNotice.select().where(RectificationNotice.id == notice["id"]).first()
    assert row is not None
    message = Notification(
        kind="notice.issued",
        institution_id=row["institution"],
        notice_id=row["id"],
        notice_number=number,
        audience=("manager",),
        message=f"贵单位收到整改通知书 {number}，共 {len(tasks)} 个问题，请按期整改。",
    )
    return row, message


async def confirm_notice(user: CurrentUser, notice_id: UUID) -> dict[str, Any]:
    """A supervisor confirms a draft notice: it gets its number and is issued now.

    Raises:
        NotFound: not a notice of the supervisor's region.
        Conflict: it is no longer a draft.
    """
    settings = RectificationSettings.from_env()
    async with write_transaction():
        notice = await visible_notice(user, notice_id, lock=True)
        if notice["status"] != NoticeStatus.draft.value:
            raise Conflict(f"该通知书已签发（{notice['number']}），不能重复签发")
        notice, message = await _issue(notice, user.actor, user.id, settings, now())
    await notify(message)
    return notice
