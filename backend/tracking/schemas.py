"""What the tracking API speaks: the 看板's numbers, its lists and the 机构档案."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_serializer


class FiltersOut(BaseModel):
    """The filters as applied (defaults filled in)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    region: str | None = Field(description="地区代码；null：全部地区")
    region_name: str
    type: str | None
    type_label: str | None
    from_: date = Field(alias="from", serialization_alias="from")
    to: date

    @model_serializer(mode="wrap")
    def _named_from(self, handler: Any) -> dict[str, Any]:
        # "from" is a Python keyword: the field is from_, the API says "from" whatever the
        # serialiser's alias setting.
        data = handler(self)
        if "from_" in data:
            data["from"] = data.pop("from_")
        return data


class RegionChoice(BaseModel):
    code: str
    name: str
    parent_code: str | None


class Summary(BaseModel):
    """The 看板's headline numbers for the filters' scope and period."""

    filters: FiltersOut
    institutions: int = Field(description="范围内的定点医药机构数")
    inspected_institutions: int = Field(description="期间内有已提交检查的机构数")
    inspections: int = Field(description="期间内提交的检查数")
    average_score: float | None = Field(description="期间内检查的平均正式得分")
    by_grade: dict[str, int] = Field(description="期间内检查按等级计数：优秀、良好、合格、不合格")
    tasks: int = Field(description="期间内签发的整改通知书的整改事项数")
    tasks_open: int = Field(description="其中未验收通过、未撤销的")
    tasks_overdue: int = Field(description="其中已逾期的")
    notices: int = Field(description="期间内签发的整改通知书数")
    notices_open: int = Field(description="其中未办结的")
    escalations: int = Field(description="期间内记录的处理措施数")
    escalated_institutions: int
    agreement: dict[str, int] = Field(description="范围内机构按协议状态计数")
    regions: list[RegionChoice] = Field(description="调用者可选的地区（地区筛选项）")


class RegionCoverage(BaseModel):
    region: str
    region_name: str
    institutions: int
    inspected: int


class TypeCoverage(BaseModel):
    type: str
    type_label: str
    institutions: int
    inspected: int


class Coverage(BaseModel):
    by_region: list[RegionCoverage]
    by_type: list[TypeCoverage]


class MonthPoint(BaseModel):
    month: str = Field(description="YYYY-MM（中国时间）")
    inspections: int
    average_score: float | None
    by_grade: dict[str, int]


class ScoreBand(BaseModel):
    band: str = Field(description="如 60-70（90-100 含 100）")
    min: int
    max: int
    inspections: int


class FailedItem(BaseModel):
    item: str = Field(description="检查表编号:检查项编号，用作列表筛选")
    checklist_id: str
    item_id: str
    section_title: str
    item_text: str
    failed: int = Field(description="不符合次数")
    answered: int = Field(description="作答（符合或不符合）次数")
    fail_rate: float


class TaskStatusCount(BaseModel):
    status: str
    status_label: str
    tasks: int
    overdue: int


class EscalationCount(BaseModel):
    step: str
    step_label: str
    escalations: int
    institutions: int


class AgreementCount(BaseModel):
    status: str
    status_label: str
    institutions: int


class LowPhysician(BaseModel):
    id: UUID
    name: str
    department: str
    status: str
    year_points: int
    institution_id: UUID
    institution_name: str


class PhysicianPoints(BaseModel):
    count: int = Field(description="本年度被记分（剩余不足 12 分）的医保医师数")
    lowest: list[LowPhysician]


class Details(BaseModel):
    """Everything the 看板's charts draw, for the same filters as the summary."""

    filters: FiltersOut
    coverage: Coverage
    trend: list[MonthPoint]
    scores: list[ScoreBand]
    failed_items: list[FailedItem]
    tasks: list[TaskStatusCount]
    escalations: list[EscalationCount]
    agreement: list[AgreementCount]
    physicians: PhysicianPoints


class ListPage(BaseModel):
    """One page of a list behind a number; ``items`` depend on ``what``."""

    what: str
    filters: FiltersOut
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class HistoryInspection(BaseModel):
    id: UUID
    date: date | None
    kind: str
    kind_label: str
    total: float | None
    grade: str | None


class HistoryNotice(BaseModel):
    id: UUID
    number: str | None
    status: str
    status_label: str
    issued_on: date | None


class InstitutionHistory(BaseModel):
    """An institution's inspections and notices, newest first."""

    institution_id: UUID
    inspections: list[HistoryInspection]
    notices: list[HistoryNotice]


class ArchiveInstitution(BaseModel):
    id: UUID
    code: str
    name: str
    type: str
    type_label: str
    level: str
    region_code: str
    region_name: str
    address: str
    contact_name: str
    contact_phone: str
    agreement_status: str
    agreement_status_label: str
    physician_count: int


class AgreementChange(BaseModel):
    at: datetime
    by: str | None
    from_status: str
    from_label: str
    to_status: str
    to_label: str
    reason: str


class ArchiveEscalation(BaseModel):
    id: UUID
    step: str
    step_label: str
    decided_on: date | None
    document_no: str
    note: str
    amount: float | None
    agreement_after: str
    notice_id: UUID
    notice_number: str | None


class ArchiveInspection(BaseModel):
    id: UUID
    date: date | None
    submitted_at: datetime | None
    kind: str
    kind_label: str
    checklist_title: str
    score_total: float | None
    grade: str | None
    failed_items: int
    notice_id: UUID | None
    notice_number: str | None


class ArchiveTask(BaseModel):
    id: UUID
    seq: int
    item_text: str
    section_title: str
    deadline: date | None
    status: str
    status_label: str
    overdue: bool
    days_overdue: int


class ArchiveNotice(BaseModel):
    id: UUID
    number: str | None
    status: str
    status_label: str
    issued_on: date | None
    closed_on: date | None
    inspection_id: UUID
    tasks: list[ArchiveTask]
    tasks_open: int
    tasks_overdue: int


class ArchivePhysician(BaseModel):
    id: UUID
    name: str
    department: str
    title: str
    certificate_no: str
    status: str
    status_label: str
    year: int = Field(description="the points year shown")
    year_points: int = Field(description="points remaining in that year")
    deducted: int = Field(description="points deducted in that year (in force)")
    suspended_until: date | None = Field(description="last day of the running suspension")
    reapply_after: date | None = Field(description="first day a cancelled physician may re-apply")


class ArchiveAssessment(BaseModel):
    """The year's 年度考核 (as ``GET /api/institutions/{id}/assessment`` gives it)."""

    year: int
    score: Decimal | None = Field(description="one decimal; null without an inspection")
    grade: str | None
    amount: Decimal | None = Field(description="yuan, two decimals: reward (+) or penalty (−)")
    credit_rating_excluded: bool
    reasons: list[str]
    inspections: int
    penalised_physicians: int
    physicians: int


class YearMean(BaseModel):
    year: int
    inspections: int = Field(description="计入的检查数（不含复查）")
    mean: float = Field(description="正式得分的平均值，四舍五入保留一位小数")


class Archive(BaseModel):
    """The 机构档案 of one institution."""

    institution: ArchiveInstitution
    agreement_history: list[AgreementChange]
    escalations: list[ArchiveEscalation]
    inspections: list[ArchiveInspection]
    yearly: list[YearMean]
    notices: list[ArchiveNotice]
    year: int = Field(description="the year of the physicians' points and the assessment")
    physicians: list[ArchivePhysician]
    assessment: ArchiveAssessment
