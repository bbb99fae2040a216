"""双随机一公开: drawing institutions from a pool and inspector pairs from the roster, previewing,
saving (assignments of kind ``random`` in one transaction, audited) and reading draws back.

The algorithm is in :mod:`backend.planning.algorithm` and described step by step in
docs/draws.md; this module gathers its inputs and stores its outputs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from uuid import UUID

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.audit.services import record
from backend.china_time import CHINA_TZ
from backend.db import write_transaction
from backend.errors import InvalidInput, NotFound
from backend.inspections.assignments import teams_of
from backend.inspections.schemas import ASSIGNMENT_STATUS_LABELS
from backend.inspections.tables import (
    Assignment,
    AssignmentInspector,
    AssignmentKind,
    AssignmentStatus,
    Inspection,
    InspectionStatus,
)
from backend.planning.algorithm import ALGORITHM, draw_size, rank_pool
from backend.planning.pools import (
    Context,
    check_common,
    load_context,
    resolve_region,
    seed_of,
    staff,
    status_labels,
)
from backend.planning.schemas import (
    DrawOut,
    DrawPreview,
    DrawRequest,
    DrawResult,
    DrawSummary,
    Pick,
    Unassigned,
)
from backend.planning.tables import Draw, DrawItem

DRAW_NOT_FOUND = "抽取记录不存在或不在您的管辖范围内"


def public_path(draw_id: UUID) -> str:
    """The public page (公示) of a draw."""
    return f"/public/draws/{draw_id}"


def _check(data: DrawRequest) -> None:
    if (data.count is None) == (data.proportion is None):
        raise InvalidInput(
            "抽取数量（count）与抽取比例（proportion）须填写且只能填写其中一项",
            details={"field": "count"},
        )
    if data.count is not None and data.count < 1:
        raise InvalidInput("抽取数量须为不小于 1 的整数", details={"field": "count"})
    if data.proportion is not None and not 0 < data.proportion <= 1:
        raise InvalidInput(
            "抽取比例须大于 0 且不超过 1（如 0.2 表示 20%）", details={"field": "proportion"}
        )


def criteria_of(data: DrawRequest, types: list[str], statuses: list[str]) -> dict[str, Any]:
    """The request's pool criteria, as recorded with the draw."""
    return {
        "region": data.region,
        "institution_types": types,
        "agreement_status": statuses,
        "not_inspected_since": str(data.not_inspected_since) if data.not_inspected_since else None,
        "count": data.count,
        "proportion": data.proportion,
    }


async def _compute(
    user: CurrentUser, data: DrawRequest
) -> tuple[DrawPreview, Context, Any, dict[str, Any]]:
    region = await resolve_region(user, data.region)
    types, statuses = check_common(data)
    _check(data)
    ctx = await load_context(region, types, statuses, data.not_inspected_since)
    if not ctx.pool:
        since = f"、{data.not_inspected_since} 以来未检查" if data.not_inspected_since else ""
        raise InvalidInput(
            f"{region['name']}没有符合条件（所选类型、协议状态{status_labels(statuses)}{since}）的机构，无法抽取"
        )
    size = draw_size(len(ctx.pool), data.count, data.proportion)
    if size < 1:
        raise InvalidInput(
            f"按比例 {data.proportion} 从 {len(ctx.pool)} 家机构中抽取，四舍五入为 0 家；"
            "请提高比例或改填抽取数量",
            details={"field": "proportion"},
        )
    seed = seed_of(data.seed)
    by_code = {inst["code"]: inst for inst in ctx.pool}
    drawn = [by_code[code] for code in rank_pool(seed, by_code)[:size]]
    staffing = staff(ctx, seed, drawn)
    preview = DrawPreview(
        seed=seed,
        title=data.title.strip(),
        region=region["code"],
        region_name=region["name"],
        window_start=data.window_start,
        window_end=data.window_end,
        pool_size=len(ctx.pool),
        drawn=size,
        algorithm=ALGORITHM,
        picks=staffing.picks,
        unassigned=staffing.unassigned,
    )
    return preview, ctx, staffing, criteria_of(data, types, statuses)


async def preview_draw(user: CurrentUser, data: DrawRequest) -> DrawPreview:
    """The draw the request would make, stored nowhere."""
    preview, *_ = await _compute(user, data)
    return preview


async def save_draw(user: CurrentUser, data: DrawRequest) -> DrawOut:
    """Make the draw and store it: the draw, its drawn institutions and one assignment of kind
    ``random`` per pick, in one transaction with their audit events.

    Raises:
        NotFound: the region is unknown or outside the caller's region.
        InvalidInput: a rule broken (the message names it).
    """
    if not data.title.strip():
        raise InvalidInput(
            "请填写抽查事项（如：2026年第二季度定点零售药店双随机抽查）", details={"field": "title"}
        )
    preview, ctx, staffing, criteria = await _compute(user, data)
    async with write_transaction():
        draw = Draw(
            title=preview.title,
            region=ctx.region["id"],
            criteria=criteria,
            seed=preview.seed,
            algorithm=ALGORITHM,
            window_start=data.window_start,
            window_end=data.window_end,
            pool=[inst["code"] for inst in ctx.pool],
            roster=ctx.roster_snapshot(),
            created_by=user.id,
        )
        await draw.save()
        items: list[DrawItem] = []
        seq_of = {
            code: n for n, code in enumerate(rank_pool(preview.seed, [p["code"] for p in ctx.pool]))
        }
        for pick in preview.picks:
            assignment = await create_team_assignment(
                user,
                pick,
                staffing,
                AssignmentKind.random,
                data.window_start,
                data.window_end,
                note=f"双随机抽查：{preview.title}",
                extra={"draw": str(draw.id)},
            )
            pick.assignment_id = assignment
            items.append(
                DrawItem(
                    draw=draw.id,
                    seq=seq_of[pick.institution_code],
                    institution=pick.institution_id,
                    assignment=assignment,
                )
            )
        for gap in preview.unassigned:
            items.append(
                DrawItem(
                    draw=draw.id,
                    seq=seq_of[gap.institution_code],
                    institution=gap.institution_id,
                    reason=gap.reason,
                )
            )
        if items:
            await DrawItem.insert(*items)
        await record(
            user.actor,
            "draw.create",
            "draw",
            draw.id,
            after={
                "title": preview.title,
                "criteria": criteria,
                "seed": preview.seed,
                "window": [data.window_start, data.window_end],
                "pool_size": preview.pool_size,
                "picks": [[p.institution_code, p.inspectors] for p in preview.picks],
                "unassigned": [[u.institution_code, u.reason] for u in preview.unassigned],
            },
        )
    return await get_draw(user, draw.id)


async def create_team_assignment(
    user: CurrentUser,
    pick: Pick,
    staffing: Any,
    kind: AssignmentKind,
    window_start: date,
    window_end: date,
    *,
    note: str,
    extra: dict[str, Any] | None = None,
) -> UUID:
    """Store one planned assignment for a pick (inside the caller's transaction), audited."""
    assignment = Assignment(
        institution=pick.institution_id,
        checklist=staffing.checklist_ids[pick.institution_id],
        kind=kind.value,
        window_start=window_start,
        window_end=window_end,
        note=note,
        created_by=user.id,
    )
    await assignment.save()
    await AssignmentInspector.insert(
        *[
            AssignmentInspector(assignment=assignment.id, inspector=staffing.inspector_ids[u])
            for u in pick.inspectors
        ]
    )
    await record(
        user.actor,
        "assignment.create",
        "assignment",
        assignment.id,
        after={
            "institution": pick.institution_code,
            "checklist": f"{pick.checklist_id} v{pick.checklist_version}",
            "window": [window_start, window_end],
            "inspectors": pick.inspectors,
            "kind": kind.value,
            **(extra or {}),
        },
    )
    return assignment.id


def _scope(user: CurrentUser) -> Any:
    if user.role == Role.admin:
        return None
    return Draw.region.is_in(list(user.region_ids or ()))


async def _visible(user: CurrentUser, draw_id: UUID) -> dict[str, Any]:
    query = Draw.select(
        *Draw.all_columns(),
        Draw.region.code,
        Draw.region.name,
        Draw.created_by.username,
    ).where(Draw.id == draw_id)
    scope = _scope(user)
    if scope is not None:
        query = query.where(scope)
    row = await query.output(load_json=True).first()
    if row is None:
        raise NotFound(DRAW_NOT_FOUND)
    return row


async def read_draw(draw_id: UUID) -> dict[str, Any] | None:
    """A draw with its picks, unassigned institutions and results, for any reader (the public
    page uses it too): a dict with ``draw`` (the row), ``picks``, ``unassigned``, ``results``;
    None when there is no such draw."""
    row = (
        await Draw.select(
            *Draw.all_columns(), Draw.region.code, Draw.region.name, Draw.created_by.username
        )
        .where(Draw.id == draw_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    return await _assemble(row)


async def _assemble(row: dict[str, Any]) -> dict[str, Any]:
    items = await DrawItem.select(
        DrawItem.seq,
        DrawItem.reason,
        DrawItem.assignment,
        DrawItem.institution.id,
        DrawItem.institution.code,
        DrawItem.institution.name,
        DrawItem.institution.type,
        DrawItem.institution.region.name,
        DrawItem.assignment.status,
        DrawItem.assignment.checklist.checklist_id,
        DrawItem.assignment.checklist.version,
    ).where(DrawItem.draw == row["id"])
    items.sort(key=lambda r: r["seq"])
    assignment_ids = [r["assignment"] for r in items if r["assignment"] is not None]
    teams = await teams_of(assignment_ids)
    inspections: dict[UUID, dict[str, Any]] = defaultdict(dict)
    if assignment_ids:
        for r in await Inspection.select(
            Inspection.assignment,
            Inspection.status,
            Inspection.submitted_at,
            Inspection.grade,
            Inspection.score_total,
        ).where(Inspection.assignment.is_in(assignment_ids)):
            inspections[r["assignment"]] = r
    picks: list[Pick] = []
    unassigned: list[Unassigned] = []
    results: list[DrawResult] = []
    for r in items:
        if r["assignment"] is None:
            unassigned.append(
                Unassigned(
                    institution_id=r["institution.id"],
                    institution_code=r["institution.code"],
                    institution_name=r["institution.name"],
                    reason=r["reason"],
                )
            )
            continue
        team = teams.get(r["assignment"], [])
        picks.append(
            Pick(
                institution_id=r["institution.id"],
                institution_code=r["institution.code"],
                institution_name=r["institution.name"],
                institution_type=r["institution.type"],
                region_name=r["institution.region.name"],
                checklist_id=r["assignment.checklist.checklist_id"],
                checklist_version=r["assignment.checklist.version"],
                inspectors=[p.username for p in team],
                inspector_names=[p.display_name or p.username for p in team],
                assignment_id=r["assignment"],
            )
        )
        inspection = inspections.get(r["assignment"]) or {}
        submitted = inspection.get("status") == InspectionStatus.submitted.value
        results.append(
            DrawResult(
                institution_id=r["institution.id"],
                institution_code=r["institution.code"],
                assignment_status=ASSIGNMENT_STATUS_LABELS[
                    AssignmentStatus(r["assignment.status"])
                ],
                inspected_on=inspection["submitted_at"].astimezone(CHINA_TZ).date()
                if submitted and inspection.get("submitted_at")
                else None,
                grade=inspection.get("grade") if submitted else None,
                score_total=float(inspection["score_total"])
                if submitted and inspection.get("score_total") is not None
                else None,
            )
        )
    return {"draw": row, "picks": picks, "unassigned": unassigned, "results": results}


def _out(found: dict[str, Any]) -> DrawOut:
    row = found["draw"]
    return DrawOut(
        id=row["id"],
        seed=row["seed"],
        title=row["title"],
        region=row["region.code"],
        region_name=row["region.name"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        pool_size=len(row["pool"] or []),
        drawn=len(found["picks"]) + len(found["unassigned"]),
        algorithm=row["algorithm"],
        picks=found["picks"],
        unassigned=found["unassigned"],
        created_at=row["created_at"],
        created_by=row["created_by.username"],
        criteria=row["criteria"] or {},
        pool=row["pool"] or [],
        roster=row["roster"] or [],
        public_url=public_path(row["id"]),
        csv_url=public_path(row["id"]) + ".csv",
        results=found["results"],
    )


async def get_draw(user: CurrentUser, draw_id: UUID) -> DrawOut:
    """One draw (404 outside the caller's region)."""
    return _out(await _assemble(await _visible(user, draw_id)))


async def list_draws(user: CurrentUser, *, limit: int = 100, offset: int = 0) -> list[DrawSummary]:
    """The draws of the caller's region, newest first."""
    query = (
        Draw.select(
            Draw.id,
            Draw.title,
            Draw.seed,
            Draw.window_start,
            Draw.window_end,
            Draw.created_at,
            Draw.region.code,
            Draw.region.name,
            Draw.created_by.username,
        )
        .order_by(Draw.created_at, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    scope = _scope(user)
    if scope is not None:
        query = query.where(scope)
    rows = await query
    counts: dict[UUID, list[int]] = defaultdict(lambda: [0, 0])
    if rows:
        for r in await DrawItem.select(DrawItem.draw, DrawItem.assignment).where(
            DrawItem.draw.is_in([r["id"] for r in rows])
        ):
            counts[r["draw"]][0 if r["assignment"] is not None else 1] += 1
    return [
        DrawSummary(
            id=r["id"],
            title=r["title"],
            region=r["region.code"],
            region_name=r["region.name"],
            seed=r["seed"],
            window_start=r["window_start"],
            window_end=r["window_end"],
            picks=counts[r["id"]][0],
            unassigned=counts[r["id"]][1],
            created_at=r["created_at"],
            created_by=r["created_by.username"],
        )
        for r in rows
    ]
