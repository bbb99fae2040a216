"""Physician point deductions and the physician's status history.

A deduction (``physician_point_event``) is written when the notice naming the physician is
issued, one row per physician and failed item; it is never deleted: an upheld objection sets
``reversed_on``. The status history (``physician_status_change``) records each suspension,
restoration, cancellation and reinstatement as it is found (see points.py), so that the status a
physician had on any day can be read back and every change is in the audit log.
"""

from enum import StrEnum

from piccolo.columns import UUID, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.inspections.tables import Inspection
from backend.institutions.tables import Institution, Physician


class StatusChangeKind(StrEnum):
    suspend = "suspend"  # 暂停
    restore = "restore"  # 暂停期满恢复
    cancel = "cancel"  # 取消
    reinstate = "reinstate"  # 取消后重新登记（须过重新申请限制期）


STATUS_CHANGE_LABELS = {
    StatusChangeKind.suspend: "暂停医保医师资格",
    StatusChangeKind.restore: "暂停期满，恢复资格",
    StatusChangeKind.cancel: "取消医保医师资格",
    StatusChangeKind.reinstate: "重新登记为医保医师",
}


class PhysicianPointEvent(Table, tablename="physician_point_event"):
    """Points deducted from one physician for one failed item of one inspection."""

    id = UUID(primary_key=True)
    physician = ForeignKey(Physician, null=False, on_delete=OnDelete.restrict, index=True)
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict, index=True)
    inspection = ForeignKey(Inspection, null=False, on_delete=OnDelete.restrict)
    finding_id = UUID()
    task_id = UUID(null=True, default=None, index=True)  # the 整改事项 an objection is about
    notice_id = UUID(null=True, default=None)
    item_id = Varchar(length=96)
    points = Integer()
    year = Integer(index=True)  # the year of the inspection's submission, in China
    occurred_on = Date()  # the submission day, in China
    effective_on = Date()  # the day the notice was issued
    reversed_on = Date(null=True, default=None)
    reversed_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PhysicianStatusChange(Table, tablename="physician_status_change"):
    """One change of a physician's status, on the day it took effect."""

    id = UUID(primary_key=True)
    physician = ForeignKey(Physician, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16, choices=StatusChangeKind)
    effective_on = Date()
    until = Date(null=True, default=None)  # suspension: its last day; cancellation: the bar's last day
    year = Integer(null=True, default=None)  # the points year that caused it
    reason = Text(default="")
    # A change later withdrawn because the deduction behind it was reversed (objection upheld).
    withdrawn_on = Date(null=True, default=None)
    recorded_at = Timestamptz(default=TimestamptzNow())
