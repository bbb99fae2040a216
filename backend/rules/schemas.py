"""What the rules API speaks (written by hand: the contract's fields first)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field


class PointEventOut(BaseModel):
    date: dt.date = Field(description="the inspection's submission day in China (its year counts)")
    effective_on: dt.date = Field(description="the day the notice was issued (the deduction took effect)")
    points: int
    inspection_id: UUID
    item_id: str


class PhysicianPoints(BaseModel):
    year: int
    initial: int
    deducted: int
    remaining: int
    status: str = Field(description="active, suspended or cancelled")
    suspended_until: dt.date | None = Field(description="last day of the running suspension")
    reapply_after: dt.date | None = Field(description="first day a cancelled physician may re-apply")
    events: list[PointEventOut]


class Assessment(BaseModel):
    year: int
    score: Decimal | None = Field(description="mean of the year's totals, one decimal (复查 excluded)")
    grade: str | None
    amount: Decimal | None = Field(description="reward (+) or penalty (−) in yuan, two decimals")
    credit_rating_excluded: bool
    reasons: list[str]
    inspections: int = Field(description="inspections averaged")
    penalised_physicians: int
    physicians: int


class NoticeDeductionOut(BaseModel):
    seq: int | None = Field(description="the problem's number on the notice")
    item_text: str
    basis: str
    points: int
    effective_on: dt.date
    reversed_on: dt.date | None = Field(description="set when an objection was upheld")


class NoticePhysicianOut(BaseModel):
    id: UUID
    name: str
    department: str
    certificate_no: str
    year: int
    points: int = Field(description="points this notice deducts (in force)")
    initial: int
    deducted: int = Field(description="deducted in the year, all notices")
    remaining: int
    status: str
    status_text: str = Field(description="e.g. 暂停医保医师资格至 2026年6月8日")
    suspended_until: dt.date | None
    reapply_after: dt.date | None
    deductions: list[NoticeDeductionOut]


class NoticePoints(BaseModel):
    """The deductions one notice caused, as the 记分告知书 prints them."""

    notice_id: UUID
    notice_number: str | None
    objection_deadline: dt.date | None
    objection_provisional: bool
    document_url: str
    pdf_url: str
    physicians: list[NoticePhysicianOut]
