"""Issuing notices: on an inspection's submission (same transaction as its score), or by a
supervisor confirming a draft (``YIBAO_NOTICE_MODE=draft``).

A notice is made only when the inspection has failed items, with one task per failed item in
checklist order. Its number, its tasks' deadlines and its objection window are fixed when it is
issued (for a draft: when it is confirmed), counted from that day in China.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from functools import cache
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser, now
from backend.accounts.tables import User
from backend.audit.services import Actor, record, record_events
from backend.checklists.schema import Checklist
from backend.db import write_transaction
from backend.errors import Conflict, InvalidInput
from backend.inspections.tables import Finding, FindingResult, Inspection
from backend.institutions.tables import Region
from backend.rectification import deadlines, holidays, numbering, verification
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
        await Inspection.select(*_inspection_columns())
        .where(Inspection.id == inspection_id)
        .first()
    )
    assert inspection is not None
    findings = await Finding.select(
        Finding.id, Finding.item_id, Finding.result, Finding.amount
    ).where(Finding.inspection == inspection_id)
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
        auto = await _issues_at_once(inspection["region"], settings)
        calendar = await holidays.current()
        if auto:
            # Issued in this transaction: the deadlines are counted once, from the issue day,
            # and the draft's audit event is written with the issue's.
            pending: list[tuple[str, Any, Any]] = []
            draft, office, count = await _create(
                actor, event_actor, inspection, checklist, failed, settings, calendar,
                issue_at=submitted_at, pending=pending,
            )  # fmt: skip
            notice, message = await _issue(
                draft, actor, None, settings, submitted_at,
                calendar=calendar, office=office, task_count=count, pending=pending,
            )  # fmt: skip
            messages.append(message)
        else:
            notice, _, _ = await _create(
                actor, event_actor, inspection, checklist, failed, settings, calendar
            )
    # Inside the submission's transaction, which commits right after: see notify.py.
    for message in messages:
        await notify(message)
    return notice


@cache
def _inspection_columns() -> tuple[Any, ...]:
    """What a submission's notice needs of its inspection, with its institution's region and its
    organiser (built once: following foreign keys copies tables, costly on every submission)."""
    return (
        Inspection.id,
        Inspection.assignment,
        Inspection.institution,
        Inspection.institution.region.as_alias("region"),
        Inspection.assignment.created_by.as_alias("organiser"),
        Inspection.assignment.created_by.region.as_alias("organiser_region"),
        # The organiser as the notice's 联系人 (see _contact), in the same statement.
        Inspection.assignment.created_by.display_name.as_alias("organiser_display_name"),
        Inspection.assignment.created_by.username.as_alias("organiser_username"),
        Inspection.assignment.created_by.phone.as_alias("organiser_phone"),
    )


async def _issues_at_once(region: UUID, settings: RectificationSettings) -> bool:
    """Whether a notice for an institution of ``region`` is issued at submission (``auto``)."""
    if not settings.mode_by_region:  # no region overrides: no need to walk the regions
        return settings.notice_mode == "auto"
    chain = await numbering.region_chain(region)
    return settings.mode_for([r["code"] for r in chain]) == "auto"


async def _create(
    actor: Actor,
    event_actor: EventActor,
    inspection: dict[str, Any],
    checklist: Checklist,
    failed: list[dict[str, Any]],
    settings: RectificationSettings,
    calendar: holidays.WorkCalendar,
    *,
    issue_at: datetime | None = None,
    pending: list[tuple[str, Any, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The notice as a draft with its tasks (deadlines provisional until it is issued).

    The issuing office is the bureau that organised the inspection (the region of the
    supervisor who planned it: a county team's notice is the county bureau's); an assignment
    planned by no regional supervisor falls back to ``YIBAO_NOTICE_OFFICE``.

    With ``issue_at`` (issued at once, in this transaction) the deadlines are counted from that
    day, as :func:`_issue` would count them again, and the notice is not read back: the row
    returned holds what ``_issue`` needs. With ``pending`` the audit event is appended to it
    instead of written. Returns the notice, its office and the number of tasks.
    """
    if inspection.get("organiser_region"):
        office = await numbering.region_row(inspection["organiser_region"])
    else:
        office = await numbering.issuing_office(inspection["region"], settings.office_level)
    today = deadlines.today_in_china(issue_at)
    order = {item.id: n for n, (_, item) in enumerate(checklist.all_items())}
    items = {item.id: (section, item) for section, item in checklist.all_items()}
    failed = sorted(failed, key=lambda f: order.get(f["item_id"], len(order)))
    notice_id = uuid.uuid4()
    if "organiser_username" in inspection:
        contact = _contact_text(
            inspection["organiser_display_name"],
            inspection["organiser_username"],
            inspection["organiser_phone"],
        )
    else:
        contact = await _contact(inspection.get("organiser"))
    await RectificationNotice.insert(
        RectificationNotice(
            id=notice_id,
            inspection=inspection["id"],
            institution=inspection["institution"],
            office=office["id"],
            status=NoticeStatus.draft.value,
            deadline_basis=settings.deadline_basis,
            contact=contact,
        )
    )
    tasks = []
    for seq, finding in enumerate(failed, start=1):
        section, item = items[finding["item_id"]]
        basis = item.deadline_basis or settings.deadline_basis
        due = deadlines.due(today, item.deadline_days, basis, calendar)
        task = RectificationTask(
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
            deadline=due.day,
            deadline_basis=basis,
            deadline_provisional=due.provisional,
            amount=finding.get("amount") if getattr(item, "monetary", False) else None,
            fraud=bool(getattr(item, "fraud", False)),
        )
        if issue_at is not None:
            task.updated_at = issue_at  # as the issue's count of the deadlines leaves it
        tasks.append(task)
    await RectificationTask.insert(*tasks)
    await add_event(notice_id, "drafted", event_actor, text=f"共 {len(tasks)} 个问题")
    created = {
        "inspection": str(inspection["id"]),
        "office": office["office_short_name"],
        "items": [t.item_id for t in tasks],
        "mode": settings.notice_mode,
    }
    if pending is not None:
        pending.append(("rectification_notice.create", None, created))
    else:
        await record(
            actor, "rectification_notice.create", "rectification_notice", notice_id, after=created
        )
    if issue_at is not None:
        row: dict[str, Any] | None = {
            "id": notice_id,
            "office": office["id"],
            "status": NoticeStatus.draft.value,
            "contact": contact,
        }
    else:
        row = await RectificationNotice.select().where(RectificationNotice.id == notice_id).first()
    assert row is not None
    return row, office, len(tasks)


async def _issue(
    notice: dict[str, Any],
    actor: Actor,
    issued_by: UUID | None,
    settings: RectificationSettings,
    at: datetime,
    *,
    calendar: holidays.WorkCalendar | None = None,
    office: dict[str, Any] | None = None,
    task_count: int | None = None,
    pending: list[tuple[str, Any, Any]] | None = None,
) -> tuple[dict[str, Any], Notification]:
    """Number and issue a draft (inside the caller's write transaction): the number, the task
    deadlines and the objection window are fixed now, counted from today in China, the day of
    electronic service (送达) in the system.

    A notice drafted in the same transaction passes its ``calendar``, ``office`` and
    ``task_count`` (its tasks' deadlines were counted from this day already) and the audit
    events still ``pending``, written with the issue's in one statement.
    """
    today = deadlines.today_in_china(at)
    if office is None:
        office = await Region.select().where(Region.id == notice["office"]).first()
    assert office is not None
    seq = await numbering.next_seq(office["id"], today.year)
    number = numbering.format_number(office["office_short_name"], today.year, seq)
    if task_count is None:
        objection = await count_from(notice["id"], today, settings, at)
        task_count = await RectificationTask.count().where(RectificationTask.notice == notice["id"])
    else:
        calendar = calendar or await holidays.current()
        objection = deadlines.due(today, settings.objection_working_days, "working", calendar)
    objection_deadline = objection.day
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
        RectificationNotice.served_on: today,
        RectificationNotice.service_method: "electronic",
        RectificationNotice.objection_provisional: objection.provisional,
        RectificationNotice.updated_at: at,
    }
    if issued_by is not None:
        changes[RectificationNotice.contact] = await _contact(issued_by) or notice["contact"]
    await RectificationNotice.update(changes).where(RectificationNotice.id == notice["id"])
    issuer = await EventActor.by_id(issued_by) if issued_by else SYSTEM
    await add_event(notice["id"], "issued", issuer, text=number, status_after="issued", at=at)
    issued = {
        "status": "issued",
        "number": number,
        "tasks": task_count,
        "objection_deadline": objection_deadline,
        "deadline_basis": settings.deadline_basis,
        "confirmed": issued_by is not None,
    }
    events = [
        *(pending or []),
        ("rectification_notice.issue", {"status": notice["status"]}, issued),
    ]
    await record_events(actor, "rectification_notice", notice["id"], events)
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
        message=f"贵单位收到整改通知书 {number}，共 {task_count} 个问题，请按期整改。",
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


async def _contact(user_id: UUID | None) -> str:
    """联系人 printed on the notice: the organising (or confirming) supervisor and telephone."""
    if user_id is None:
        return ""
    row = (
        await User.select(User.display_name, User.username, User.phone)
        .where(User.id == user_id)
        .first()
    )
    if row is None:
        return ""
    return _contact_text(row["display_name"], row["username"], row["phone"])


def _contact_text(display_name: str | None, username: str | None, phone: str | None) -> str:
    """The 联系人 line of a user (empty when there is none: no organiser)."""
    if username is None:
        return ""
    name = display_name or username
    return f"{name}（电话 {phone}）" if phone else name


async def count_from(
    notice_id: UUID, served_on: date, settings: RectificationSettings, at: datetime
) -> deadlines.Due:
    """Count the tasks' deadlines from the serving day (each task on its own basis) and return
    the objection window's end (working days), on the calendar as loaded now."""
    calendar = await holidays.current()
    tasks = await RectificationTask.select(
        RectificationTask.id, RectificationTask.deadline_days, RectificationTask.deadline_basis
    ).where(RectificationTask.notice == notice_id)
    # One statement per distinct deadline, not per task (a notice's items share a few).
    by_due: dict[deadlines.Due, list[UUID]] = {}
    for task in tasks:
        due = deadlines.due(served_on, task["deadline_days"], task["deadline_basis"], calendar)
        by_due.setdefault(due, []).append(task["id"])
    for due, ids in by_due.items():
        await RectificationTask.update(
            {
                RectificationTask.deadline: due.day,
                RectificationTask.deadline_provisional: due.provisional,
                RectificationTask.updated_at: at,
            }
        ).where(RectificationTask.id.is_in(ids))
    return deadlines.due(served_on, settings.objection_working_days, "working", calendar)


async def record_service(
    user: CurrentUser, notice_id: UUID, served_on: date, method: str, note: str = ""
) -> dict[str, Any]:
    """A supervisor records the day the notice was served on paper (送达): the objection window
    and the rectification deadlines are counted again from that day.

    Raises:
        NotFound: not a notice of the supervisor's region.
        Conflict: a draft (not served yet) or a closed notice.
        InvalidInput: a day before the issue day or after today, an unknown method.
    """
    if method not in ("paper", "electronic"):
        raise InvalidInput("送达方式须为 paper（纸质送达）或 electronic（电子送达）")
    settings = RectificationSettings.from_env()
    at = now()
    today = deadlines.today_in_china(at)
    async with write_transaction():
        notice = await visible_notice(user, notice_id, lock=True)
        if notice["status"] == NoticeStatus.draft.value:
            raise Conflict("通知书尚未签发，不能登记送达")
        if notice["status"] == NoticeStatus.closed.value:
            raise Conflict("整改通知书已办结，不能再登记送达")
        issued = deadlines.today_in_china(notice["issued_at"])
        if served_on < issued:
            raise InvalidInput(f"送达日期不能早于签发日期（{issued.isoformat()}）")
        if served_on > today:
            raise InvalidInput("送达日期不能晚于今天")
        objection = await count_from(notice_id, served_on, settings, at)
        await RectificationNotice.update(
            {
                RectificationNotice.served_on: served_on,
                RectificationNotice.service_method: method,
                RectificationNotice.objection_deadline: objection.day,
                RectificationNotice.objection_provisional: objection.provisional,
                RectificationNotice.updated_at: at,
            }
        ).where(RectificationNotice.id == notice_id)
        label = "纸质送达" if method == "paper" else "电子送达"
        await add_event(
            notice_id,
            "served",
            EventActor.of(user),
            text=f"{label}，送达日期 {served_on.isoformat()}" + (f"。{note}" if note else ""),
            at=at,
        )
        await record(
            user.actor,
            "rectification_notice.serve",
            "rectification_notice",
            notice_id,
            before={"served_on": notice["served_on"], "method": notice["service_method"]},
            after={
                "served_on": served_on,
                "method": method,
                "objection_deadline": objection.day,
            },
        )
    row = await RectificationNotice.select().where(RectificationNotice.id == notice_id).first()
    assert row is not None
    return row
