"""Regions, designated institutions (定点医药机构) and their insured-service physicians (医保医师)."""

import secrets
from enum import StrEnum

from piccolo.columns import UUID, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class InstitutionType(StrEnum):
    hospital = "hospital"
    clinic = "clinic"
    tcm_clinic = "tcm_clinic"
    pharmacy = "pharmacy"


INSTITUTION_TYPE_LABELS = {
    InstitutionType.hospital: "定点医院",
    InstitutionType.clinic: "定点诊所",
    InstitutionType.tcm_clinic: "中医诊所",
    InstitutionType.pharmacy: "定点零售药店",
}


class AgreementStatus(StrEnum):
    """Service-agreement status (协议状态)."""

    normal = "normal"
    suspended = "suspended"
    terminated = "terminated"


AGREEMENT_STATUS_LABELS = {
    AgreementStatus.normal: "正常",
    AgreementStatus.suspended: "中止",
    AgreementStatus.terminated: "解除",
}


class PhysicianStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    cancelled = "cancelled"


PHYSICIAN_STATUS_LABELS = {
    PhysicianStatus.active: "正常",
    PhysicianStatus.suspended: "暂停",
    PhysicianStatus.cancelled: "注销",
}


def new_qr_token() -> str:
    """An unguessable token for an institution's QR code (192 bits)."""
    return secrets.token_urlsafe(24)


class Region(Table, tablename="region"):
    """An administrative area: a city (parent null) or one of its counties/districts."""

    id = UUID(primary_key=True)
    code = Varchar(length=12, unique=True)  # 行政区划代码, e.g. 371000
    name = Varchar(length=64)
    parent = ForeignKey("self", null=True, default=None, on_delete=OnDelete.restrict)
    # Short name of the bureau office, used in notice numbers (e.g. 威 in 威医保整改〔2026〕17号).
    office_short_name = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())


class Institution(Table, tablename="institution"):
    """A designated medical institution or retail pharmacy (定点医药机构)."""

    id = UUID(primary_key=True)
    code = Varchar(length=32, unique=True)  # 定点机构编码 (national code)
    name = Varchar(length=128, index=True)
    type = Varchar(length=16, choices=InstitutionType, index=True)
    level = Varchar(length=32, default="")  # 三级甲等, 一级, 未定级, …
    region = ForeignKey(Region, null=False, on_delete=OnDelete.restrict, index=True)
    address = Varchar(length=256, default="")
    contact_name = Varchar(length=64, default="")
    contact_phone = Varchar(length=32, default="")
    agreement_status = Varchar(length=16, choices=AgreementStatus, default=AgreementStatus.normal)
    qr_token = Varchar(length=64, unique=True, default=new_qr_token)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Physician(Table, tablename="physician"):
    """A physician registered for insured services (医保医师) at one institution."""

    id = UUID(primary_key=True)
    institution = ForeignKey(Institution, null=False, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=64)
    certificate_no = Varchar(length=32, unique=True)  # 医师执业证书编码
    insurance_code = Varchar(length=32, default="")  # 医保医师编码
    title = Varchar(length=32, default="")  # 职称
    department = Varchar(length=64, default="")
    status = Varchar(length=16, choices=PhysicianStatus, default=PhysicianStatus.active)
    registered_on = Date(null=True, default=None)
    year_points = Integer(default=12)  # 年度记分余额 (starts at 12 each calendar year)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
