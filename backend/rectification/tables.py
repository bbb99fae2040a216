"""Rectification notices (整改通知书) and their tasks (整改事项), one task per problem found."""

from enum import StrEnum

from piccolo.columns import UUID, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User
from backend.inspections.tables import Finding, Inspection
from backend.institutions.tables import Institution, Region


class NoticeStatus(StrEnum):
    draft = "draft"
    issued = "issued"
    closed = "closed"


class TaskStatus(StrEnum):
    open = "open"
    answered = "answered"
    accepted = "accepted"


class RectificationNotice(Table, tablename="rectification_notice"):
    """A numbered notice issued to an institution after an inspection with failed items.

    ``number`` follows ``{office}医保整改〔{year}〕{seq}号``; ``(office, year, seq)`` is unique.
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
    verify_token = Varchar(length=128, null=True, default=None, unique=True)
    issued_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    closed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class RectificationTask(Table, tablename="rectification_task"):
    """One problem to correct, linked to the finding it comes from."""

    id = UUID(primary_key=True)
    notice = ForeignKey(RectificationNotice, null=False, on_delete=OnDelete.restrict, index=True)
    finding = ForeignKey(Finding, null=False, on_delete=OnDelete.restrict)
    item_id = Varchar(length=96)
    required_action = Text(default="")
    deadline = Date()
    status = Varchar(length=16, choices=TaskStatus, default=TaskStatus.open)
    answer = Text(default="")
    answered_at = Timestamptz(null=True, default=None)
    answered_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    reviewed_at = Timestamptz(null=True, default=None)
    reviewed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    review_comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
