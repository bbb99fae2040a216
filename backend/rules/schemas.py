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
