"""Bulk routine plans (批量日常检查): every institution of the chosen types in a region, each with a
pair of inspectors, workloads balanced and 回避 honoured by the draw's pairing (steps 3 to 6 of
docs/draws.md, with the pool taken whole instead of drawn)."""

from __future__ import annotations

from backend.accounts.auth import CurrentUser
from backend.audit.services import record
from backend.db import write_transaction
from backend.errors import InvalidInput
from backend.inspections.tables import AssignmentKind
from backend.planning.draws import create_team_assignment
from backend.planning.pools import (
    MAX_PLAN,
    check_common,
    load_context,
    resolve_region,
    seed_of,
    staff,
    status_labels,
)
from backend.planning.schemas import RoutineOut, RoutinePreview, RoutineRequest


async def _compute(user: CurrentUser, data: RoutineRequest):  # type: ignore[no-untyped-def]
    region = await resolve_region(user, data.region)
    types, statuses = check_common(data)
    ctx = await load_context(region, types, statuses)
    if not ctx.pool:
        raise InvalidInput(
            f"{region['name']}没有所选类型、协议状态为{status_labels(statuses)}的机构"
        )
    if len(ctx.pool) > MAX_PLAN:
        raise InvalidInput(
            f"一次最多安排 {MAX_PLAN} 家机构（所选范围有 {len(ctx.pool)} 家），请缩小地区或机构类型"
        )
    seed = seed_of(data.seed)
    staffing = staff(ctx, seed, ctx.pool)  # the pool in code order
    preview = RoutinePreview(
        seed=seed,
        region=region["code"],
        region_name=region["name"],
        window_start=data.window_start,
        window_end=data.window_end,
        pool_size=len(ctx.pool),
        picks=staffing.picks,
        unassigned=staffing.unassigned,
    )
    return preview, staffing, types, statuses


async def preview_routine(user: CurrentUser, data: RoutineRequest) -> RoutinePreview:
    """The routine plan the request would make, stored nowhere."""
    preview, *_ = await _compute(user, data)
    return preview


async def save_routine(user: CurrentUser, data: RoutineRequest) -> RoutineOut:
    """Create one routine assignment per staffed institution, in one transaction, audited.

    Raises:
        NotFound: the region is unknown or outside the caller's region.
        InvalidInput: a rule broken, or no institution could be staffed.
    """
    preview, staffing, types, statuses = await _compute(user, data)
    if not preview.picks:
        raise InvalidInput("没有可以安排检查组的机构：" + preview.unassigned[0].reason)
    note = data.note.strip() or "批量日常检查"
    async with write_transaction():
        for pick in preview.picks:
            pick.assignment_id = await create_team_assignment(
                user,
                pick,
                staffing,
                AssignmentKind.routine,
                data.window_start,
                data.window_end,
                note=note,
                extra={"bulk": True, "seed": preview.seed},
            )
        await record(
            user.actor,
            "assignment.bulk_create",
            "region",
            preview.region,
            after={
                "institution_types": types,
                "agreement_status": statuses,
                "window": [data.window_start, data.window_end],
                "seed": preview.seed,
                "assignments": [str(p.assignment_id) for p in preview.picks],
                "unassigned": [[u.institution_code, u.reason] for u in preview.unassigned],
            },
        )
    return RoutineOut(**preview.model_dump(), created=len(preview.picks))
