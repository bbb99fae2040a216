"""The assignments of a planner's region for the 检查计划 screens: filtered on the server by
status, kind, region (a county, or a city with its counties) and date window, each with the
region of its institution."""

from __future__ import annotations

from datetime import date

from backend.accounts.auth import CurrentUser, region_scope
from backend.errors import InvalidInput
from backend.inspections.assignments import assignment_columns, assignment_scope, to_out
from backend.inspections.schemas import AssignmentOut
from backend.inspections.tables import Assignment, AssignmentKind, AssignmentStatus
from backend.institutions.tables import Region
from backend.planning.pools import resolve_region

MAX_ROWS = 2000


class PlannedAssignment(AssignmentOut):
    region_code: str
    region_name: str


async def list_planned(
    user: CurrentUser,
    *,
    status: str | None = None,
    kind: str | None = None,
    region: str | None = None,
    window_from: date | None = None,
    window_to: date | None = None,
) -> list[PlannedAssignment]:
    """Assignments in the caller's region whose window overlaps ``[window_from, window_to]``,
    earliest window first (at most :data:`MAX_ROWS`)."""
    query = Assignment.select(*assignment_columns()).order_by(Assignment.window_start)
    scope = assignment_scope(user)
    if scope is not None:
        query = query.where(scope)
    if status:
        if status not in {s.value for s in AssignmentStatus}:
            raise InvalidInput(f"未知的任务状态：{status}", details={"field": "status"})
        query = query.where(Assignment.status == status)
    if kind:
        if kind not in {k.value for k in AssignmentKind}:
            raise InvalidInput(f"未知的检查类型：{kind}", details={"field": "kind"})
        query = query.where(Assignment.kind == kind)
    if region:
        row = await resolve_region(user, region)
        query = query.where(
            Assignment.institution.region.is_in(list(await region_scope(row["id"])))
        )
    if window_from and window_to and window_to < window_from:
        raise InvalidInput("结束日期不能早于开始日期", details={"field": "to"})
    if window_from:
        query = query.where(Assignment.window_end >= window_from)
    if window_to:
        query = query.where(Assignment.window_start <= window_to)
    rows = await query.limit(MAX_ROWS)
    regions = {r["id"]: r for r in await Region.select(Region.id, Region.code, Region.name)}
    out = await to_out(rows)
    return [
        PlannedAssignment(
            **a.model_dump(),
            region_code=regions[r["institution.region"]]["code"],
            region_name=regions[r["institution.region"]]["name"],
        )
        for a, r in zip(out, rows, strict=True)
    ]
