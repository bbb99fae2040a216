"""What the rectification API speaks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ----------------------------------------------------------------------------


class AnswerIn(Strict):
    report: str = Field(min_length=1, max_length=4000, description="整改报告")
    photo_ids: list[UUID] = Field(
        default_factory=list, max_length=20, description="photos uploaded to this task first"
    )


class ReviewIn(Strict):
    comment: str = Field(default="", max_length=4000, description="验收意见 / 退回意见")


class CommentIn(Strict):
    text: str = Field(min_length=1, max_length=4000)


class ObjectionIn(Strict):
    reason: str = Field(min_length=1, max_length=4000, description="申诉理由")


class ObjectionDecisionIn(Strict):
    decision: Literal["upheld", "dismissed"] = Field(
        description="upheld: the task is withdrawn; dismissed: it goes on"
    )
    comment: str = Field(min_length=1, max_length=4000)


class EscalationIn(Strict):
    step: str = Field(
        description="interview, suspend_settlement, recover_funds, penalty, "
        "suspend_agreement, terminate_agreement"
    )
    note: str = Field(default="", max_length=2000)
    amount: Decimal | None = Field(
        default=None, description="yuan; for recover_funds and penalty only", decimal_places=2
    )
    rule_reference: str | None = Field(default=None, max_length=256)
    decided_on: date | None = Field(
        default=None, description="决定日期 (default: today in China; not in the future)"
    )
    document_no: str = Field(default="", max_length=64, description="文书编号")


class ReinspectionIn(Strict):
    window_start: date
    window_end: date
    inspector_ids: list[UUID] = Field(default_factory=list, max_length=10)
    inspectors: list[str] = Field(
        default_factory=list, max_length=10, description="usernames, instead of inspector_ids"
    )
    note: str = Field(default="", max_length=1000)


class ServiceIn(Strict):
    served_on: date = Field(description="送达日期: not before the issue day, not after today")
    method: Literal["paper", "electronic"] = Field(default="paper", description="送达方式")
    note: str = Field(default="", max_length=500, description="e.g. 签收人")


class SeenIn(Strict):
    at: AwareDatetime | None = Field(
        default=None, description="the server_time of the updates read; default: now"
    )


# --- answers -----------------------------------------------------------------------------


class InstitutionBrief(BaseModel):
    id: UUID
    code: str
    name: str
    type: str
    agreement_status: str
    agreement_status_label: str


class PhotoLink(BaseModel):
    id: UUID
    url: str
    thumbnail_url: str


class FoundOut(BaseModel):
    """What the inspectors found for the item (the finding)."""

    result: str
    note: str
    occurrences: int | None
    sampled: int | None
    failed: int | None
    photos: list[PhotoLink]


class ObjectionOut(BaseModel):
    id: UUID
    task_id: UUID
    reason: str
    status: str
    status_label: str
    filed_at: datetime
    decided_at: datetime | None
    decision_comment: str


class TaskOut(BaseModel):
    id: UUID
    notice_id: UUID
    seq: int
    item_id: str
    section_title: str
    item_text: str = Field(description="检查内容")
    fail_when: str = Field(description="判定标准")
    basis: str = Field(description="依据")
    required_action: str = Field(description="整改要求")
    deadline_days: int = Field(description="0: 立即整改")
    deadline: date
    deadline_basis: str = Field(default="calendar", description="calendar | working")
    deadline_provisional: bool = Field(
        default=False, description="counted without the year's official calendar (暂定)"
    )
    amount: str | None = Field(default=None, description="yuan to be returned (追回), two decimals")
    fraud: bool = Field(default=False, description="fraud: the case is referred (移送)")
    days_left: int = Field(description="calendar days to the deadline; negative once past")
    overdue: bool
    days_overdue: int
    status: str
    status_label: str
    found: FoundOut
    answer: str
    answered_at: datetime | None
    reviewed_at: datetime | None
    review_comment: str
    objection: ObjectionOut | None
    updated_at: datetime


class EventOut(BaseModel):
    id: int
    at: datetime
    kind: str
    label: str
    text: str
    actor_name: str
    actor_role: str | None
    status_after: str | None
    notice_id: UUID
    notice_number: str | None
    task_id: UUID | None
    task_seq: int | None
    photos: list[PhotoLink]


class TaskDetail(TaskOut):
    notice_number: str | None
    notice_status: str
    institution: InstitutionBrief
    answer_photos: list[PhotoLink]
    attachments: list[PhotoLink] = Field(description="every photo uploaded to this task")
    history: list[EventOut]
    actions: list[str] = Field(
        description="what the caller may do now: answer, upload_photo, object, accept, reject, "
        "decide_objection, comment"
    )


class EscalationOut(BaseModel):
    id: UUID
    step: str
    label: str
    rule_reference: str
    note: str
    amount: Decimal | None
    decided_on: date
    document_no: str
    overdue_tasks: int
    max_days_overdue: int
    agreement_before: str
    agreement_after: str
    created_at: datetime


class ReinspectionOut(BaseModel):
    assignment_id: UUID
    status: str
    window_start: date
    window_end: date
    created_at: datetime


class NoticeSummary(BaseModel):
    id: UUID
    number: str | None
    status: str
    status_label: str
    institution: InstitutionBrief
    inspection_id: UUID
    inspection_date: date | None
    issued_at: datetime | None
    issue_date: date | None
    objection_deadline: date | None
    objection_open: bool
    task_count: int
    open_count: int = Field(description="tasks neither accepted nor withdrawn")
    answered_count: int
    overdue_count: int
    next_deadline: date | None = Field(description="earliest deadline of an unfinished task")
    days_left: int | None
    closed_at: datetime | None
    updated_at: datetime


class NoticePage(BaseModel):
    items: list[NoticeSummary]
    total: int
    limit: int
    offset: int


class InspectorOut(BaseModel):
    name: str
    enforcement_cert_no: str = Field(description="执法证号")


class NoticeDetail(NoticeSummary):
    bureau: str = Field(description="the issuing bureau, e.g. 威海市医疗保障局")
    inspection_kind: str
    checklist_title: str
    inspectors: list[str]
    inspector_details: list[InspectorOut] = Field(description="names with 执法证号")
    served_on: date | None = Field(description="送达日期, from which windows count")
    service_method: str = Field(description="electronic | paper")
    objection_provisional: bool
    contact: str = Field(description="联系人")
    amount_total: str | None = Field(description="yuan to be returned in all, two decimals")
    penalty_multiple: str = Field(description="违约金 as a multiple of the amount")
    score_total: float | None
    grade: str | None
    deadline_basis: str
    tasks: list[TaskOut]
    escalations: list[EscalationOut]
    reinspections: list[ReinspectionOut]
    history: list[EventOut] = Field(description="notice-level events (issued, escalated, …)")
    verify_url: str | None
    document_url: str
    pdf_url: str


class OverdueTask(BaseModel):
    task_id: UUID
    notice_id: UUID
    notice_number: str | None
    seq: int
    item_text: str
    institution: InstitutionBrief
    deadline: date
    days_overdue: int
    status: str
    status_label: str
    escalations: list[str] = Field(description="labels of the steps recorded on the notice")


class UpdatesOut(BaseModel):
    server_time: datetime = Field(description="pass as `since` next time, or POST it to /seen")
    since: datetime | None
    events: list[EventOut]
    count: int


class LadderStep(BaseModel):
    step: str
    label: str
    pharmacy_rule: str
    medical_rule: str
    agreement_status: str | None
    takes_amount: bool


class VerificationOut(BaseModel):
    """What the public verification shows: nothing but these."""

    genuine: bool
    number: str
    institution_name: str
    issue_date: date
    status: str
    status_label: str


class QueueItem(BaseModel):
    """One thing waiting in the desk's 待办: an answer, an objection or a draft notice."""

    kind: Literal["answer", "objection", "draft"]
    notice_id: UUID
    notice_number: str | None
    task_id: UUID | None = Field(description="the task (answers and objections)")
    seq: int | None = Field(description="the problem's number on the notice")
    item_text: str = Field(description="检查内容 of the task; empty for a draft")
    section_title: str
    institution: InstitutionBrief
    since: datetime = Field(description="answered, objected or drafted at")
    days_waiting: int = Field(description="whole days since `since`, in China")
    deadline: date | None
    overdue: bool
    text: str = Field(description="the report, the objection's reason, or a draft's summary")
    task_count: int | None = Field(description="a draft's number of problems")


class QueuePage(BaseModel):
    kind: str
    items: list[QueueItem]
    total: int


class DeskCounts(BaseModel):
    """The numbers of the desk's navigation."""

    answers: int = Field(description="answers waiting for 验收")
    objections: int = Field(description="objections waiting for a decision")
    draft_notices: int = Field(description="draft notices waiting to be confirmed")
    overdue: int = Field(description="overdue tasks")
