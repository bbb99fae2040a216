"""What the assignments, bundle, sync and inspections API speaks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backend.inspections.tables import AssignmentKind, AssignmentStatus
from backend.records.schemas import SealOut

ASSIGNMENT_KIND_LABELS = {
    AssignmentKind.routine: "日常检查",
    AssignmentKind.random: "双随机抽查",
    AssignmentKind.special: "专项检查",
    AssignmentKind.flight: "飞行检查",
    AssignmentKind.reinspection: "复查",
}
ASSIGNMENT_STATUS_LABELS = {
    AssignmentStatus.planned: "待检查",
    AssignmentStatus.in_progress: "检查中",
    AssignmentStatus.done: "已完成",
    AssignmentStatus.cancelled: "已取消",
}

MAX_INSPECTIONS_PER_PUSH = 50
MAX_FINDINGS_PER_INSPECTION = 1000
# Bounds of the numbers a tablet sends: far above any real count, far below a column's overflow
# (a negative count passes the schema so that scoring refuses it naming the item).
MAX_COUNT = 100_000
MAX_REVISION = 2**31 - 1
MAX_VERSION = 100_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- assignments -------------------------------------------------------------------------


class AssignmentCreate(Strict):
    institution_id: UUID
    checklist_id: str = Field(min_length=1, max_length=64)
    checklist_version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="default: the newest"
    )
    window_start: date
    window_end: date
    inspector_ids: list[UUID] = Field(min_length=2, max_length=10)
    kind: AssignmentKind = AssignmentKind.routine
    note: str = Field(default="", max_length=2000)


class CancelRequest(Strict):
    reason: str = Field(default="", max_length=500)


class PersonRef(BaseModel):
    id: UUID
    username: str
    display_name: str


class InstitutionRef(BaseModel):
    id: UUID
    code: str
    name: str
    type: str
    address: str
    agreement_status: str


class ChecklistRef(BaseModel):
    version_id: UUID
    checklist_id: str
    version: int
    title: str
    content_hash: str


class InspectionSummary(BaseModel):
    id: UUID
    status: str
    score_total: float | None = None
    grade: str | None = None
    submitted_at: datetime | None = None


class AssignmentOut(BaseModel):
    id: UUID
    institution: InstitutionRef
    checklist: ChecklistRef
    kind: AssignmentKind
    kind_label: str
    window_start: date
    window_end: date
    status: AssignmentStatus
    status_label: str
    inspectors: list[PersonRef]
    note: str
    created_at: datetime
    updated_at: datetime
    inspection: InspectionSummary | None = None


# --- bundle ------------------------------------------------------------------------------


class BundleOut(BaseModel):
    """What a tablet needs to work offline. With ``since``, only what changed after it."""

    cursor: str = Field(description="pass as `since` next time")
    full: bool = Field(description="true when this is everything, not a delta")
    server_time: datetime
    assignment_ids: list[UUID] = Field(
        description="every assignment the caller has now: drop local ones not listed"
    )
    assignments: list[AssignmentOut]
    checklists: list[dict[str, Any]] = Field(
        description="checklist versions the assignments use: {version_id, checklist_id, version, content_hash, content}"
    )
    institutions: list[dict[str, Any]]
    physicians: list[dict[str, Any]]


# --- push --------------------------------------------------------------------------------


class FindingPush(Strict):
    id: UUID = Field(description="client-generated")
    item: str = Field(min_length=1, max_length=96)
    result: Literal["pass", "fail", "na"]
    occurrences: int | None = Field(default=None, ge=-MAX_COUNT, le=MAX_COUNT)
    sampled: int | None = Field(default=None, ge=-MAX_COUNT, le=MAX_COUNT)
    failed: int | None = Field(default=None, ge=-MAX_COUNT, le=MAX_COUNT)
    population: int | None = Field(
        default=None,
        ge=-MAX_COUNT,
        le=MAX_COUNT,
        description="sample items: the number of records there were (needed below min_sampled)",
    )
    note: str = Field(default="", max_length=4000)
    amount: str | None = Field(
        default=None,
        max_length=24,
        description='fund money involved, yuan as a decimal string ("1234.50"): failed '
        "findings of monetary items only",
    )
    physician_id: UUID | None = Field(default=None, description="one physician (older apps)")
    physician_ids: list[UUID] = Field(
        default_factory=list,
        max_length=20,
        description="the physicians named on a failed item with physician points (医保医师记分)",
    )
    photo_ids: list[UUID] = Field(default_factory=list, max_length=50)
    client_revision: int = Field(default=0, ge=0, le=MAX_REVISION)
    client_updated_at: AwareDatetime


class SignatureRef(Strict):
    photo_id: UUID
    signer: Literal["representative", "inspector"]
    name: str = Field(default="", max_length=64)
    user_id: UUID | None = None


class InspectionPush(Strict):
    id: UUID = Field(description="client-generated")
    assignment_id: UUID
    checklist_id: str
    checklist_version: int = Field(ge=1, le=MAX_VERSION)
    checklist_hash: str | None = None
    client_revision: int = Field(default=0, ge=0, le=MAX_REVISION)
    client_updated_at: AwareDatetime
    started_at: AwareDatetime | None = None
    representative_name: str = Field(default="", max_length=64)
    signature_refused_reason: str = Field(default="", max_length=500)
    note: str = Field(default="", max_length=4000)
    signatures: list[SignatureRef] = Field(default_factory=list, max_length=20)
    findings: list[FindingPush] = Field(
        default_factory=list, max_length=MAX_FINDINGS_PER_INSPECTION
    )
    submit: bool = False


class PushRequest(Strict):
    device_id: str = Field(min_length=1, max_length=64)
    inspections: list[InspectionPush] = Field(min_length=1, max_length=MAX_INSPECTIONS_PER_PUSH)


class Conflict(BaseModel):
    item: str
    finding_id: UUID = Field(description="the finding the server keeps for this item")
    kept: dict[str, Any] = Field(description="the answer the server keeps")
    yours: dict[str, Any] = Field(description="your answer, kept in the history")
    reason: str


class RecordResult(BaseModel):
    id: UUID = Field(description="the inspection id as sent")
    inspection_id: UUID | None = Field(
        default=None, description="the id the server keeps (differs when merged into another)"
    )
    status: Literal["accepted", "merged", "unchanged", "rejected"]
    http_status: int
    code: str = Field(
        description="ok, merged, duplicate, invalid, incomplete, photos_missing, locked, checklist_mismatch, not_found, forbidden, id_conflict"
    )
    message: str
    problems: list[str] = Field(default_factory=list)
    missing_photos: list[str] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    finding_ids: dict[str, UUID] = Field(
        default_factory=dict, description="item -> the finding id the server keeps"
    )
    inspection_status: str | None = None
    revision: int | None = None
    score: dict[str, Any] | None = Field(
        default=None, description="the official score, once submitted"
    )


class PushResponse(BaseModel):
    results: list[RecordResult]


# --- reading -----------------------------------------------------------------------------


class FindingOut(BaseModel):
    id: UUID
    item: str
    result: str
    occurrences: int | None
    sampled: int | None
    failed: int | None
    population: int | None = None
    note: str
    amount: str | None = None
    physician_id: UUID | None
    physician_ids: list[UUID] = Field(default_factory=list)
    photo_ids: list[UUID]
    revision: int
    device_id: str
    client_updated_at: datetime | None
    updated_by: str | None


class PhotoOut(BaseModel):
    id: UUID
    item_id: str | None
    kind: str
    signer: str | None
    width: int
    height: int
    content_type: str
    captured_at: datetime | None
    url: str
    thumbnail_url: str


class InspectionOut(BaseModel):
    id: UUID
    assignment_id: UUID
    institution: InstitutionRef
    checklist: ChecklistRef
    status: str
    started_at: datetime | None
    submitted_at: datetime | None
    submitted_by: str | None
    representative_name: str
    signature_refused_reason: str
    signatures: list[dict[str, Any]]
    note: str
    revision: int
    score_total: float | None
    grade: str | None
    score: dict[str, Any] | None
    findings: list[FindingOut]
    photos: list[PhotoOut]
    inspectors: list[PersonRef]
    created_at: datetime
    updated_at: datetime
    # Once submitted: the sealed record's digest and signature (see backend/records).
    seal: SealOut | None = None


class HistoryEvent(BaseModel):
    at: datetime
    kind: Literal["audit", "finding_write"]
    action: str
    actor: str | None
    device_id: str | None
    detail: dict[str, Any]
