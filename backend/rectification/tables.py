"""Rectification notices (整改通知书), their tasks (整改事项), and what happens to them.

One notice per submitted inspection with failed items; one task per failed item. Around them:
the per-office, per-year number counter, the history of each task (answers, reviews, comments:
what the manager and the bureau read), the manager's photo evidence, objections (申诉),
escalation steps (处理措施), the link from a re-inspection (复查) assignment to its notice, and
when each user last looked at what is new.

Foreign keys say ``ON DELETE RESTRICT``: a notice is an official document and nothing about it
cascades away.
"""

from enum import StrEnum

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.inspections.tables import Assignment, Finding, Inspection
from backend.institutions.tables import Institution, Region


class NoticeStatus(StrEnum):
    draft = "draft"  # waits for a supervisor to confirm it (YIBAO_NOTICE_MODE=draft)
    issued = "issued"  # numbered and served: tasks are being worked on
    closed = "closed"  # every task accepted (or withdrawn after an upheld objection)


NOTICE_STATUS_LABELS = {
    NoticeStatus.draft: "待签发",
    NoticeStatus.issued: "整改中",
    NoticeStatus.closed: "已办结",
}


class TaskStatus(StrEnum):
    open = "open"  # to be rectified (again, after a rejection)
    answered = "answered"  # the manager sent a report; waits for review
    accepted = "accepted"  # 验收通过
    cancelled = "cancelled"  # withdrawn: an objection against it was upheld


TASK_STATUS_LABELS = {
    TaskStatus.open: "待整改",
    TaskStatus.answered: "待验收",
    TaskStatus.accepted: "验收通过",
    TaskStatus.cancelled: "已撤销",
}

#: States in which a task needs nothing more from anyone.
FINISHED_TASK_STATUSES = (TaskStatus.accepted.value, TaskStatus.cancelled.value)


class ObjectionStatus(StrEnum):
    pending = "pending"
    upheld = "upheld"  # the problem is withdrawn: its task is cancelled
    dismissed = "dismissed"  # the problem stands: the task goes on as before


OBJECTION_STATUS_LABELS = {
    ObjectionStatus.pending: "待处理",
    ObjectionStatus.upheld: "申诉成立",
    ObjectionStatus.dismissed: "申诉不成立",
}


class RectificationNotice(Table, tablename="rectification_notice"):
    """A notice issued to an institution after an inspection with failed items.

    ``number`` follows ``{office}医保整改〔{year}〕{seq}号``; ``(office, year, seq)`` is unique. A
    draft has no number, year or seq until a supervisor confirms it.
    """

    id = UUID(primary_key=True)
    inspection = ForeignKey(Inspection, null=False, on_delete=OnDelete.restrict, unique=True)
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict, index=True)
    office = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    year = Integer(null=True, default=None)
    seq = Integer(null=True, default=None)
    number = Varchar(length=64, null=True, default=None, unique=True)
    status = Varchar(length=16, choices=NoticeStatus, default=NoticeStatus.draft)
    issued_at = Timestamptz(null=True, default=None)
    objection_deadline = Date(null=True, default=None)
    # The random half of the public verification token; the other half is an HMAC of the
    # notice id and this nonce under the secret key (see verification.py).
    verify_nonce = Varchar(length=128, null=True, default=None, unique=True)
    deadline_basis = Varchar(length=16, default="working")  # working | calendar, when issued
    issued_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    # 送达: the day the notice was served, from which its windows and deadlines count. Set to
    # the issue day (electronic service in the system); a supervisor may record a later day of
    # paper service, which recomputes them.
    served_on = Date(null=True, default=None)
    service_method = Varchar(length=16, default="")  # electronic | paper
    objection_provisional = Boolean(default=False)  # counted on the fallback calendar (暂定)
    contact = Varchar(length=128, default="")  # 联系人 and telephone printed on the notice
    closed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)


class RectificationTask(Table, tablename="rectification_task"):
    """One problem to correct, linked to the finding it comes from.

    The checklist wording is copied from the pinned checklist version when the notice is made,
    so that the notice reads the same forever and lists need no checklist parsing.
    """

    id = UUID(primary_key=True)
    notice = ForeignKey(RectificationNotice, null=False, on_delete=OnDelete.restrict, index=True)
    finding = ForeignKey(Finding, null=False, on_delete=OnDelete.restrict)
    item_id = Varchar(length=96)
    seq = Integer(default=0)  # the problem's number on the notice: 1, 2, 3 …
    section_title = Varchar(length=128, default="")
    item_text = Text(default="")
    fail_when = Text(default="")
    basis = Text(default="")
    required_action = Text(default="")
    deadline_days = Integer(default=0)  # 0: 立即整改
    deadline = Date()
    deadline_basis = Varchar(length=16, default="calendar")  # calendar | working
    deadline_provisional = Boolean(default=False)  # counted on the fallback calendar (暂定)
    # Fund money involved (yuan, an exact decimal string such as "1234.50") to be returned
    # (追回); null when the item is not monetary.
    amount = Varchar(length=24, null=True, default=None)
    fraud = Boolean(default=False)  # the item describes fraud: the case is referred (移送)
    status = Varchar(length=16, choices=TaskStatus, default=TaskStatus.open)
    answer = Text(default="")
    answer_photo_ids = JSONB(default=[])
    answered_at = Timestamptz(null=True, default=None)
    answered_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    reviewed_at = Timestamptz(null=True, default=None)
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    review_comment = Text(default="")
    overdue_notified_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class NoticeCounter(Table, tablename="rectification_counter"):
    """The last notice number used per issuing office and year. ``(office, year)`` is unique.

    Incremented with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the issuing
    transaction: the row stays locked until that transaction ends, so concurrent workers queue
    on it, and a rolled-back issue rolls the counter back too (no gaps).
    """

    id = UUID(primary_key=True)
    office = ForeignKey(Region, null=False, on_delete=OnDelete.restrict)
    year = Integer()
    last = Integer(default=0)


class TaskEvent(Table, tablename="rectification_event"):
    """One entry of a notice's or a task's history, as people read it: issued, answered,
    accepted, rejected, commented, objected, escalated, re-inspected…

    The audit log records the same steps for the record; this is the readable timeline the
    manager and the bureau see, and the feed of "what is new".
    """

    id = BigSerial(primary_key=True)
    notice = ForeignKey(RectificationNotice, null=False, on_delete=OnDelete.restrict, index=True)
    task = ForeignKey(RectificationTask, null=True, default=None, on_delete=OnDelete.restrict)
    kind = Varchar(length=32)
    text = Text(default="")
    photo_ids = JSONB(default=[])
    status_after = Varchar(length=16, null=True, default=None)
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    actor_name = Varchar(length=64, default="")
    actor_role = Varchar(length=16, null=True, default=None)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class Attachment(Table, tablename="rectification_attachment"):
    """A photo the manager uploaded as evidence for a task's answer (bytes in the file store)."""

    id = UUID(primary_key=True)  # client-generated: a retried upload stores nothing new
    task = ForeignKey(RectificationTask, null=False, on_delete=OnDelete.restrict, index=True)
    sha256 = Varchar(length=64)
    content_type = Varchar(length=32)
    width = Integer()
    height = Integer()
    size_bytes = Integer()
    captured_at = Timestamptz(null=True, default=None)
    storage_key = Varchar(length=256)
    thumbnail_key = Varchar(length=256)
    uploaded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class Objection(Table, tablename="rectification_objection"):
    """A manager's objection (申诉) against one task, and the supervisor's decision."""

    id = UUID(primary_key=True)
    task = ForeignKey(RectificationTask, null=False, on_delete=OnDelete.restrict, unique=True)
    reason = Text()
    status = Varchar(length=16, choices=ObjectionStatus, default=ObjectionStatus.pending)
    filed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    filed_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    decision_comment = Text(default="")


class Escalation(Table, tablename="rectification_escalation"):
    """One step of the escalation ladder (处理措施) recorded against a notice."""

    id = UUID(primary_key=True)
    notice = ForeignKey(RectificationNotice, null=False, on_delete=OnDelete.restrict, index=True)
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict, index=True)
    step = Varchar(length=32)
    rule_reference = Varchar(length=256, default="")
    note = Text(default="")
    amount = Numeric(digits=(12, 2), null=True, default=None)  # yuan: 追回费用 / 违约金
    # The day the measure was decided (may be before it is recorded) and its document's number
    # (e.g. 威医保约〔2026〕3号); null / "" on rows recorded before these were asked for.
    decided_on = Date(null=True, default=None)
    document_no = Varchar(length=64, default="")
    overdue_tasks = Integer(default=0)
    max_days_overdue = Integer(default=0)
    agreement_before = Varchar(length=16, default="")
    agreement_after = Varchar(length=16, default="")
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class Reinspection(Table, tablename="rectification_reinspection"):
    """A re-inspection (复查) assignment planned to verify a notice's rectification on site."""

    id = UUID(primary_key=True)
    notice = ForeignKey(RectificationNotice, null=False, on_delete=OnDelete.restrict, index=True)
    assignment = ForeignKey(Assignment, null=False, on_delete=OnDelete.restrict, unique=True)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class LastSeen(Table, tablename="rectification_seen"):
    """When a user last marked the rectification updates as read ("what is new since")."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, unique=True)
    seen_at = Timestamptz()


class OfficialCalendar(Table, tablename="official_calendar"):
    """One year of the State Council's holiday schedule (国务院办公厅关于某年部分节假日安排的通知),
    loaded with ``yibao holidays load``: used before the ``chinese-calendar`` package and the
    computed fallback (see :mod:`backend.rectification.holidays`)."""

    id = UUID(primary_key=True)
    year = Integer(unique=True)
    holidays = JSONB(default=[])  # ["YYYY-MM-DD", …]: days off, weekends included or not
    workdays = JSONB(default=[])  # make-up working days (调休上班), usually weekend days
    source = Varchar(length=256, default="")
    loaded_at = Timestamptz(default=TimestamptzNow())
