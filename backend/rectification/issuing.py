"""Issuing notices: on an inspection's submission (same transaction as its score), or by a
supervisor confirming a draft (``YIBAO_NOTICE_MODE=draft``).

A notice is made only when the inspection has failed items, with one task per failed item in
checklist order. Its number, its tasks' deadlines and its objection window are fixed when it is
issued (for a draft: when it is confirmed), counted from that day in China.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from backend.accounts.auth import CurrentUser, now
from backend.accounts.tables import User
from backend.audit.services import Actor, record, record_events
from backend.checklists.schema import Checklist
from backend.db import read_rows, run_many, write_transaction
from backend.errors import Conflict, InvalidInput
from backend.ids import uuid7
from backend.inspections.tables import FindingResult
from backend.institutions.tables import Region
from backend.rectification import deadlines, holidays, numbering, verification
from backend.rectification.access import visible_notice
from backend.rectification.config import RectificationSettings
from backend.rectification.events import SYSTEM, EventActor, add_event, add_events, event_values
from backend.rectification.notify import Notification, notify
from backend.rectification.reinspection import apply_reinspection
from backend.rectification.tables import (
    NoticeStatus,
    RectificationNotice,
    RectificationTask,
    TaskStatus,
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
    # Every submission takes this path: its reads are raw statements on the transaction's
    # connection (the ORM's statement building costs more than running them).
    rows = await read_rows(_SUBMISSION_SQL, user_id, inspection_id)
    assert rows
    inspection = rows[0]
    findings = await read_rows(_FINDINGS_SQL, inspection_id)
    if user_id is None or inspection["actor_username"] is None:
        event_actor = SYSTEM
    else:
        event_actor = EventActor(
            id=user_id,
            name=inspection["actor_display_name"] or inspection["actor_username"],
            role=inspection["actor_role"],
        )
    messages: list[Notification] = []
    handled: set[str] = set()
    if inspection["reinspection_notice"] is not None:
        handled, messages = await apply_reinspection(
            actor, event_actor, inspection["reinspection_notice"], findings, submitted_at
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
        if inspection["organiser_region"]:
            office = {key: inspection[f"office_{key}"] for key in _REGION_KEYS}
        else:
            office = await numbering.issuing_office(inspection["region"], settings.office_level)
        # Issued at once, the deadlines are counted from the issue day, as _issue would count
        # them again.
        notice, tasks = _draft(
            inspection, checklist, failed, settings, calendar, office,
            issue_at=submitted_at if auto else None,
        )  # fmt: skip
        if auto:
            message = await _issue_new(
                notice, tasks, failed, inspection, actor, event_actor, settings, calendar,
                office, submitted_at,
            )  # fmt: skip
            messages.append(message)
        else:
            await _insert(notice, tasks)
            await add_events(
                [event_values(notice["id"], "drafted", event_actor, text=f"共 {len(tasks)} 个问题")]
            )
            await record(
                actor, "rectification_notice.create", "rectification_notice", notice["id"],
                after=_created(inspection, office, tasks, settings),
            )  # fmt: skip
    # Inside the submission's transaction, which commits right after: see notify.py.
    for message in messages:
        await notify(message)
    return notice


_REGION_KEYS = ("id", "code", "name", "parent", "office_short_name")

# What a submission's notice needs of its inspection, in one statement: its institution's
# region, its organiser (the notice's 联系人, see _contact) and the organiser's region (the
# issuing office, as numbering.region_row gives it), the submitting user (the history's actor,
# as EventActor.by_id reads them) and the notice a re-inspection verifies. Parameters: the user,
# the inspection.
_SUBMISSION_SQL = (
    "SELECT i.id, i.assignment, i.institution, i.checklist, i.submitted_at,"
    " inst.region AS region, a.created_by AS organiser, org.region AS organiser_region,"
    " org.display_name AS organiser_display_name, org.username AS organiser_username,"
    " org.phone AS organiser_phone,"
    + "".join(f" o.{key} AS office_{key}," for key in _REGION_KEYS)
    + " me.display_name AS actor_display_name, me.username AS actor_username,"
    " me.role AS actor_role, ri.notice AS reinspection_notice"
    " FROM inspection i"
    " JOIN institution inst ON inst.id = i.institution"
    " JOIN assignment a ON a.id = i.assignment"
    " LEFT JOIN app_user org ON org.id = a.created_by"
    " LEFT JOIN region o ON o.id = org.region"
    " LEFT JOIN app_user me ON me.id = $1"
    " LEFT JOIN rectification_reinspection ri ON ri.assignment = i.assignment"
    " WHERE i.id = $2"
)
_FINDINGS_SQL = (
    "SELECT id, item_id, result, amount, physician, physician_ids FROM finding"
    " WHERE inspection = $1"
)


async def _issues_at_once(region: UUID, settings: RectificationSettings) -> bool:
    """Whether a notice for an institution of ``region`` is issued at submission (``auto``)."""
    if not settings.mode_by_region:  # no region overrides: no need to walk the regions
        return settings.notice_mode == "auto"
    chain = await numbering.region_chain(region)
    return settings.mode_for([r["code"] for r in chain]) == "auto"


def _draft(
    inspection: dict[str, Any],
    checklist: Checklist,
    failed: list[dict[str, Any]],
    settings: RectificationSettings,
    calendar: holidays.WorkCalendar,
    office: dict[str, Any],
    *,
    issue_at: datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The notice as a draft and its tasks (deadlines provisional until it is issued), as rows
    of every column, the defaults the ORM would give included: what is stored, and the row a
    read would give back.

    The issuing office is the bureau that organised the inspection (the region of the
    supervisor who planned it: a county team's notice is the county bureau's); an assignment
    planned by no regional supervisor falls back to ``YIBAO_NOTICE_OFFICE``.

    With ``issue_at`` (issued at once, in this transaction) the deadlines are counted from that
    day, and the tasks' ``updated_at`` is that time, as the issue's count of the deadlines
    leaves it.
    """
    today = deadlines.today_in_china(issue_at)
    order = {item.id: n for n, (_, item) in enumerate(checklist.all_items())}
    items = {item.id: (section, item) for section, item in checklist.all_items()}
    failed = sorted(failed, key=lambda f: order.get(f["item_id"], len(order)))
    notice_id = uuid7()
    at = datetime.now(UTC)
    notice = {
        "id": notice_id,
        "inspection": inspection["id"],
        "institution": inspection["institution"],
        "office": office["id"],
        "year": None,
        "seq": None,
        "number": None,
        "status": NoticeStatus.draft.value,
        "issued_at": None,
        "objection_deadline": None,
        "verify_nonce": None,
        "deadline_basis": settings.deadline_basis,
        "issued_by": None,
        "served_on": None,
        "service_method": "",
        "objection_provisional": False,
        "contact": _contact_text(
            inspection["organiser_display_name"],
            inspection["organiser_username"],
            inspection["organiser_phone"],
        ),
        "closed_at": None,
        "created_at": at,
        "updated_at": at,
    }
    tasks = []
    for seq, finding in enumerate(failed, start=1):
        section, item = items[finding["item_id"]]
        basis = item.deadline_basis or settings.deadline_basis
        due = deadlines.due(today, item.deadline_days, basis, calendar)
        tasks.append(
            {
                "id": uuid7(),
                "notice": notice_id,
                "finding": finding["id"],
                "item_id": item.id,
                "seq": seq,
                "section_title": section.title[:128],
                "item_text": item.text,
                "fail_when": item.fail_when,
                "basis": item.basis,
                # The item's own wording of what to do; otherwise the reverse of its failure.
                "required_action": item.action or f"针对“{item.fail_when}”的问题进行整改",
                "deadline_days": item.deadline_days,
                "deadline": due.day,
                "deadline_basis": basis,
                "deadline_provisional": due.provisional,
                "amount": finding.get("amount") if getattr(item, "monetary", False) else None,
                "fraud": bool(getattr(item, "fraud", False)),
                "status": TaskStatus.open.value,
                "answer": "",
                "answer_photo_ids": [],
                "answered_at": None,
                "answered_by": None,
                "reviewed_at": None,
                "reviewed_by": None,
                "review_comment": "",
                "overdue_notified_at": None,
                "created_at": at,
                "updated_at": at if issue_at is None else issue_at,
            }
        )
    return notice, tasks


async def _insert(notice: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    """Write a notice and its tasks (from :func:`_draft`), the tasks in one statement. The task
    tally's triggers fire on these rows as on the ORM's."""
    await run_many(_INSERT_NOTICE, [tuple(notice[c] for c in _NOTICE_COLUMNS)])
    await run_many(
        _INSERT_TASK,
        [tuple(dump_json(t[c]) if c in _TASK_JSON else t[c] for c in _TASK_COLUMNS) for t in tasks],
    )


def _insert_sql(table: type[Table]) -> tuple[tuple[str, ...], str]:
    columns = tuple(c._meta.db_column_name for c in table._meta.columns)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        table._meta.tablename,
        ", ".join(f'"{c}"' for c in columns),
        ", ".join(f"${i + 1}" for i in range(len(columns))),
    )
    return columns, sql


_NOTICE_COLUMNS, _INSERT_NOTICE = _insert_sql(RectificationNotice)
_TASK_COLUMNS, _INSERT_TASK = _insert_sql(RectificationTask)
_TASK_JSON = ("answer_photo_ids",)  # sent as text, as the ORM sends JSON


def _created(
    inspection: dict[str, Any],
    office: dict[str, Any],
    tasks: list[dict[str, Any]],
    settings: RectificationSettings,
) -> dict[str, Any]:
    """The audit event's ``after`` of a notice made (draft)."""
    return {
        "inspection": str(inspection["id"]),
        "office": office["office_short_name"],
        "items": [t["item_id"] for t in tasks],
        "mode": settings.notice_mode,
    }


def _issued_values(
    settings: RectificationSettings,
    at: datetime,
    today: date,
    seq: int,
    number: str,
    objection: deadlines.Due,
    issued_by: UUID | None,
) -> dict[str, Any]:
    """The columns an issue sets on its notice (all but the confirming supervisor's contact)."""
    return {
        "status": NoticeStatus.issued.value,
        "year": today.year,
        "seq": seq,
        "number": number,
        "issued_at": at,
        "issued_by": issued_by,
        "objection_deadline": objection.day,
        "verify_nonce": verification.new_nonce(),
        "deadline_basis": settings.deadline_basis,
        "served_on": today,
        "service_method": "electronic",
        "objection_provisional": objection.provisional,
        "updated_at": at,
    }


def _issued_audit(
    number: str, task_count: int, objection: deadlines.Due, settings: RectificationSettings,
    confirmed: bool,
) -> dict[str, Any]:  # fmt: skip
    """The audit event's ``after`` of an issue."""
    return {
        "status": "issued",
        "number": number,
        "tasks": task_count,
        "objection_deadline": objection.day,
        "deadline_basis": settings.deadline_basis,
        "confirmed": confirmed,
    }


def _issued_message(notice: dict[str, Any], number: str, task_count: int) -> Notification:
    """What the institution's manager is told of an issued notice."""
    return Notification(
        kind="notice.issued",
        institution_id=notice["institution"],
        notice_id=notice["id"],
        notice_number=number,
        audience=("manager",),
        message=f"贵单位收到整改通知书 {number}，共 {task_count} 个问题，请按期整改。",
    )


async def _issue_new(
    notice: dict[str, Any],
    tasks: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    inspection: dict[str, Any],
    actor: Actor,
    event_actor: EventActor,
    settings: RectificationSettings,
    calendar: holidays.WorkCalendar,
    office: dict[str, Any],
    at: datetime,
) -> Notification:
    """Issue a notice drafted in this transaction (a submission's, ``auto`` mode): the same
    rows, history and audit events as drafting it and then :func:`_issue`, but written once:
    the notice in its issued state, its tasks in one statement (their deadlines already counted
    from the issue day), its two history entries in one, its two audit events in one.
    ``notice`` becomes the issued row, as a read would give it back."""
    today = deadlines.today_in_china(at)
    seq, number = await numbering.take_number(office, today.year)
    objection = deadlines.due(today, settings.objection_working_days, "working", calendar)
    drafted = event_values(notice["id"], "drafted", event_actor, text=f"共 {len(tasks)} 个问题")
    notice.update(_issued_values(settings, at, today, seq, number, objection, None))
    await _insert(notice, tasks)
    await add_events(
        [
            drafted,
            event_values(notice["id"], "issued", SYSTEM, text=number, status_after="issued", at=at),
        ]
    )
    await record_events(
        actor,
        "rectification_notice",
        notice["id"],
        [
            ("rectification_notice.create", None, _created(inspection, office, tasks, settings)),
            (
                "rectification_notice.issue",
                {"status": NoticeStatus.draft.value},
                _issued_audit(number, len(tasks), objection, settings, confirmed=False),
            ),
        ],
    )
    # Physician points take effect with the notice (医保医师记分), in this same transaction, from
    # the tasks and findings in hand.
    from backend.inspections.sync import checklist_model
    from backend.rules.points import deduct_for_tasks, item_points

    by_id = {f["id"]: f for f in failed}
    named = [
        (t, by_id[t["finding"]]["physician"], _json_list(by_id[t["finding"]]["physician_ids"]))
        for t in tasks
    ]
    submitted = inspection["submitted_at"]
    await deduct_for_tasks(
        actor, notice["id"], inspection["institution"], inspection["id"],
        deadlines.today_in_china(submitted) if submitted else today,
        item_points(await checklist_model(inspection["checklist"])), named, today,
    )  # fmt: skip
    return _issued_message(notice, number, len(tasks))


def _json_list(value: Any) -> list[Any]:
    """A JSON list column as a raw read gives it (text; a list if already decoded)."""
    if isinstance(value, str):
        value = json.loads(value)
    return value or []


async def _issue(
    notice: dict[str, Any],
    actor: Actor,
    issued_by: UUID,
    settings: RectificationSettings,
    at: datetime,
) -> tuple[dict[str, Any], Notification]:
    """Number and issue a draft (inside the caller's write transaction): the number, the task
    deadlines and the objection window are fixed now, counted from today in China, the day of
    electronic service (送达) in the system."""
    today = deadlines.today_in_china(at)
    office = await Region.select().where(Region.id == notice["office"]).first()
    assert office is not None
    seq, number = await numbering.take_number(office, today.year)
    objection = await count_from(notice["id"], today, settings, at)
    task_count = await RectificationTask.count().where(RectificationTask.notice == notice["id"])
    changes: dict[Any, Any] = {
        RectificationNotice._meta.get_column_by_name(name): value
        for name, value in _issued_values(
            settings, at, today, seq, number, objection, issued_by
        ).items()
    }
    changes[RectificationNotice.contact] = await _contact(issued_by) or notice["contact"]
    await RectificationNotice.update(changes).where(RectificationNotice.id == notice["id"])
    issuer = await EventActor.by_id(issued_by)
    await add_event(notice["id"], "issued", issuer, text=number, status_after="issued", at=at)
    issued = _issued_audit(number, task_count, objection, settings, confirmed=True)
    await record_events(
        actor,
        "rectification_notice",
        notice["id"],
        [("rectification_notice.issue", {"status": notice["status"]}, issued)],
    )
    # Physician points take effect with the notice (医保医师记分), in this same transaction.
    from backend.rules.points import deduct_for_notice

    await deduct_for_notice(actor, notice["id"], today)
    row = await RectificationNotice.select().where(RectificationNotice.id == notice["id"]).first()
    assert row is not None
    return row, _issued_message(row, number, task_count)


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
