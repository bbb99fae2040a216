"""Assignments, inspections and what is recorded during them (findings, photos, signatures).

Every record a tablet creates has a client-generated UUID as its primary key, so that a push can
be retried any number of times without creating duplicates.
"""

from enum import StrEnum

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
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
from backend.checklists.tables import ChecklistVersion
from backend.institutions.tables import Institution, Physician


class AssignmentKind(StrEnum):
    routine = "routine"  # 日常检查
    random = "random"  # 双随机抽查
    special = "special"  # 专项检查
    flight = "flight"  # 飞行检查
    reinspection = "reinspection"  # 复查


class AssignmentStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class InspectionStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class FindingResult(StrEnum):
    passed = "pass"
    failed = "fail"
    na = "na"


class PhotoKind(StrEnum):
    evidence = "evidence"  # 佐证照片
    signature = "signature"  # 签字


class Assignment(Table, tablename="assignment"):
    """A planned inspection of one institution with one checklist version in a date window."""

    id = UUID(primary_key=True)
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict, index=True)
    checklist = ForeignKey(ChecklistVersion, null=False, on_delete=OnDelete.restrict)
    kind = Varchar(length=16, choices=AssignmentKind, default=AssignmentKind.routine)
    window_start = Date()
    window_end = Date()
    status = Varchar(length=16, choices=AssignmentStatus, default=AssignmentStatus.planned)
    note = Text(default="")
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AssignmentInspector(Table, tablename="assignment_inspector"):
    """An inspector on an assignment's team (at least two per assignment)."""

    id = UUID(primary_key=True)
    assignment = ForeignKey(Assignment, null=False, on_delete=OnDelete.cascade, index=True)
    inspector = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)


class Inspection(Table, tablename="inspection"):
    """One on-site inspection of an assignment (one per assignment: the team's tablets merge into
    it). It pins the checklist version it was done against; once submitted it is locked and
    carries the official score."""

    id = UUID(primary_key=True)  # client-generated
    assignment = ForeignKey(Assignment, null=False, on_delete=OnDelete.restrict, unique=True)
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict, index=True)
    checklist = ForeignKey(ChecklistVersion, null=False, on_delete=OnDelete.restrict)
    checklist_hash = Varchar(length=80)
    status = Varchar(length=16, choices=InspectionStatus, default=InspectionStatus.draft)
    started_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    submitted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    representative_name = Varchar(length=64, default="")  # 被检查单位负责人
    signature_refused_reason = Text(default="")  # 拒绝签字及原因
    signatures = JSONB(default=[])  # [{"photo_id", "signer", "name"}]
    note = Text(default="")
    score_total = Numeric(digits=(5, 1), null=True, default=None)  # official, on submission
    grade = Varchar(length=16, null=True, default=None)
    score_detail = JSONB(null=True, default=None)
    submitted_hash = Varchar(length=64, null=True, default=None)  # of the submitted content
    device_id = Varchar(length=64, default="")
    client_updated_at = Timestamptz(null=True, default=None)
    revision = Integer(default=0)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Finding(Table, tablename="finding"):
    """The answer to one checklist item in one inspection. ``(inspection, item_id)`` is unique."""

    id = UUID(primary_key=True)  # client-generated
    inspection = ForeignKey(Inspection, null=False, on_delete=OnDelete.restrict, index=True)
    item_id = Varchar(length=96)
    result = Varchar(length=8, choices=FindingResult)
    occurrences = Integer(null=True, default=None)
    sampled = Integer(null=True, default=None)
    failed = Integer(null=True, default=None)
    # Sample items: how many records there were, stated when fewer than the minimum sample.
    population = Integer(null=True, default=None)
    note = Text(default="")
    # Fund money involved in a failed monetary item: yuan as an exact decimal string ("1234.50"),
    # so that no float ever touches it; null otherwise.
    amount = Varchar(length=24, null=True, default=None)
    physician = ForeignKey(Physician, null=True, default=None, on_delete=OnDelete.restrict)
    # Every physician the finding names (the first is also in ``physician``); see backend/rules.
    physician_ids = JSONB(default=[])
    photo_ids = JSONB(default=[])  # the evidence photos the inspector attached
    content_hash = Varchar(length=64, default="")  # of the answer, to recognise a resent write
    device_id = Varchar(length=64, default="")
    client_updated_at = Timestamptz(null=True, default=None)
    revision = Integer(default=0)
    updated_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WriteOutcome(StrEnum):
    applied = "applied"  # became the current answer
    superseded = "superseded"  # lost to a later answer from another device (kept here)
    duplicate = "duplicate"  # the same write received again


class FindingRevision(Table, tablename="finding_revision"):
    """Every write of a finding that reached the server, including those that lost a conflict:
    the history that guarantees no answer is ever dropped silently."""

    id = BigSerial(primary_key=True)
    inspection = ForeignKey(Inspection, null=False, on_delete=OnDelete.restrict, index=True)
    finding_id = UUID()
    item_id = Varchar(length=96)
    payload = JSONB()
    outcome = Varchar(length=16, choices=WriteOutcome)
    device_id = Varchar(length=64, default="")
    user_id = Varchar(length=36, null=True, default=None)
    client_updated_at = Timestamptz(null=True, default=None)
    client_revision = Integer(default=0)
    received_at = Timestamptz(default=TimestamptzNow())


class Photo(Table, tablename="photo"):
    """Metadata of a stored image: evidence for an item, or a signature. The bytes live in the
    file store under ``storage_key``; identical content is stored once (``sha256``).

    Photos are uploaded before the inspection they belong to reaches the server, so they name it
    by id (no foreign key) together with its assignment, which decides who may upload and see it.
    """

    id = UUID(primary_key=True)  # client-generated
    assignment = ForeignKey(Assignment, null=False, on_delete=OnDelete.restrict, index=True)
    inspection_id = UUID(index=True)
    item_id = Varchar(length=96, null=True, default=None)
    kind = Varchar(length=16, choices=PhotoKind, default=PhotoKind.evidence)
    signer = Varchar(length=64, null=True, default=None)  # for signatures: who signed
    sha256 = Varchar(length=64, index=True)  # of the bytes uploaded, as the client computed it
    content_type = Varchar(length=32)
    width = Integer()
    height = Integer()
    size_bytes = Integer()
    captured_at = Timestamptz(null=True, default=None)
    storage_key = Varchar(length=256)
    thumbnail_key = Varchar(length=256)
    device_id = Varchar(length=64, default="")
    uploaded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
