"""What the institutions API speaks."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from backend.institutions.tables import AgreementStatus, InstitutionType, PhysicianStatus


class InstitutionOut(BaseModel):
    """A designated institution as a list row."""

    id: UUID
    code: str = Field(description="定点机构编码")
    name: str
    type: InstitutionType
    type_label: str = Field(description="e.g. 定点医院, 定点零售药店")
    level: str = Field(description="e.g. 三级甲等, 未定级; empty for pharmacies")
    region_code: str
    region_name: str
    address: str
    contact_name: str
    contact_phone: str
    agreement_status: AgreementStatus
    agreement_status_label: str = Field(description="协议状态：正常 / 中止 / 解除")
    updated_at: datetime
    qr_token: str | None = Field(
        default=None,
        description="the token of the institution's QR code; never given to managers",
    )


class InstitutionDetail(InstitutionOut):
    """One institution, with the number of its 医保医师."""

    physician_count: int


class InstitutionPage(BaseModel):
    """One page of institutions, with the number matching the filters."""

    items: list[InstitutionOut]
    total: int
    limit: int
    offset: int


class OpenAssignment(BaseModel):
    """An assignment of the scanning inspector at the scanned institution that is still open."""

    id: UUID
    kind: str
    status: str
    window_start: date
    window_end: date
    checklist_id: str
    checklist_version: int


class ScannedInstitution(InstitutionDetail):
    """The institution a scanned QR code names, with the scanning inspector's open assignments."""

    open_assignments: list[OpenAssignment]


class PhysicianOut(BaseModel):
    """A 医保医师 of an institution."""

    id: UUID
    name: str
    certificate_no: str = Field(description="医师执业证书编码")
    insurance_code: str = Field(description="医保医师编码")
    title: str
    department: str
    status: PhysicianStatus
    status_label: str = Field(description="正常 / 暂停 / 注销")
    registered_on: date | None = None
    year_points: int = Field(description="年度记分余额 (12 at the start of each year)")


class InstitutionUpdate(BaseModel):
    """The admin's change of an institution: only the fields given change.

    Values are checked by the service (422 with a message when not allowed), so the status is a
    plain string here.
    """

    model_config = ConfigDict(extra="forbid")

    agreement_status: str | None = Field(
        default=None, description="协议状态: normal (正常), suspended (中止), terminated (解除)"
    )
    reason: str | None = Field(
        default=None, description="why the agreement status changes (kept in the audit log)"
    )
    level: str | None = None
    address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None


class InstitutionCreate(BaseModel):
    """A new institution, as the admin's form gives it. Values are checked by the service with
    the same rules as the bulk import (422 with every problem)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="定点机构编码, unique")
    name: str
    type: str = Field(description="hospital, clinic, tcm_clinic, pharmacy (or the Chinese label)")
    level: str = ""
    region_code: str = Field(description="the region's code (行政区划代码)")
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""


class ImportResult(BaseModel):
    """An import that stored every row of the file."""

    imported: int


class ImportRowProblems(BaseModel):
    """A bad line of an import file (the header is line 1) and its problems in Chinese."""

    row: int
    problems: list[str]


class RegionNode(BaseModel):
    """A region with its issuing office's short name and the regions under it."""

    code: str
    name: str
    office_short_name: str = Field(description="used in notice numbers, e.g. 威 in 威医保整改〔2026〕17号")
    parent_code: str | None = None
    institution_count: int
    user_count: int
    children: list[RegionNode]


class RegionCreate(BaseModel):
    """A new region: a city (no parent) or a county under a city."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="行政区划代码, 6–12 digits")
    name: str
    office_short_name: str
    parent_code: str | None = None


class RegionUpdate(BaseModel):
    """A region's new name or issuing office short name (only the fields given change)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    office_short_name: str | None = None


class InstitutionAdminUpdate(InstitutionUpdate):
    """The admin's edit form: what :class:`InstitutionUpdate` changes, and the name."""

    name: str | None = None
