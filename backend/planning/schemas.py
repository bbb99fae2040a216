"""What the planning API speaks: relations (回避), draws (双随机) and bulk routine plans.

Rules that need a message in Chinese (exactly one of count and proportion, known types, dates in
order) are checked by the services and answered with 422, not by pydantic (whose refusals are the
generic 400 of malformed input).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- relations ---------------------------------------------------------------------------


class RelationCreate(Strict):
    inspector: str = Field(min_length=1, max_length=64, description="the inspector's username")
    institution_id: UUID
    reason: str = Field(default="", max_length=500, description="亲属关系、曾任职等")


class RelationOut(BaseModel):
    id: UUID
    inspector: str
    inspector_name: str
    institution_id: UUID
    institution_code: str
    institution_name: str
    reason: str
    created_at: datetime
    created_by: str | None = None


# --- draws -------------------------------------------------------------------------------


class PoolRequest(Strict):
    """The institutions to plan for: a region (with its counties), types, agreement statuses."""

    region: str = Field(min_length=1, max_length=12, description="region code, e.g. 371002")
    institution_types: list[str] | None = Field(max_length=8)
    agreement_status: list[str] | None = Field(
        default_factory=lambda: ["normal"], max_length=3, description="null: normal only"
    )
    window_start: date
    window_end: date
    seed: str | None = Field(default=None, max_length=128, description="generated when absent")


class DrawRequest(PoolRequest):
    not_inspected_since: date | None = None
    count: int | None = None
    proportion: float | None = None
    title: str = Field(default="", max_length=200, description="抽查事项")


class RoutineRequest(PoolRequest):
    note: str = Field(default="", max_length=2000)


class Pick(BaseModel):
    institution_id: UUID
    institution_code: str
    institution_name: str
    institution_type: str
    region_name: str
    checklist_id: str
    checklist_version: int
    inspectors: list[str] = Field(description="usernames, alphabetical")
    inspector_names: list[str]
    assignment_id: UUID | None = None


class Unassigned(BaseModel):
    institution_id: UUID
    institution_code: str
    institution_name: str
    reason: str


class DrawPreview(BaseModel):
    """A draw computed but not stored (no ``id``)."""

    seed: str
    title: str
    region: str
    region_name: str
    window_start: date
    window_end: date
    pool_size: int
    drawn: int
    algorithm: str
    picks: list[Pick]
    unassigned: list[Unassigned]


class DrawResult(BaseModel):
    institution_id: UUID
    institution_code: str
    assignment_status: str
    inspected_on: date | None = None
    grade: str | None = None
    score_total: float | None = None


class DrawOut(DrawPreview):
    id: UUID
    created_at: datetime
    created_by: str | None = None
    criteria: dict[str, object]
    pool: list[str] = Field(default_factory=list, description="the pool's institution codes")
    roster: list[dict[str, str]] = Field(
        default_factory=list, description="the roster as drawn from: username and region code"
    )
    public_url: str
    csv_url: str
    results: list[DrawResult] = Field(default_factory=list)


class DrawSummary(BaseModel):
    id: UUID
    title: str
    region: str
    region_name: str
    seed: str
    window_start: date
    window_end: date
    picks: int
    unassigned: int
    created_at: datetime
    created_by: str | None = None


class RoutinePreview(BaseModel):
    seed: str
    region: str
    region_name: str
    window_start: date
    window_end: date
    pool_size: int
    picks: list[Pick]
    unassigned: list[Unassigned]


class RoutineOut(RoutinePreview):
    created: int
