"""Planning over HTTP: relations (回避), 双随机 draws and bulk routine plans (supervisors of the
region and admins)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.errors import InvalidInput
from backend.planning import draws, relations, routine
from backend.planning.listing import PlannedAssignment, list_planned
from backend.planning.options import planning_options
from backend.planning.schemas import (
    DrawOut,
    DrawPreview,
    DrawRequest,
    DrawSummary,
    RelationCreate,
    RelationOut,
    RoutineOut,
    RoutinePreview,
    RoutineRequest,
)
from backend.tenancy import require_roles

PLANNERS = require_roles(Role.admin, Role.supervisor)


class InspectorRelationController(Controller):
    path = "/api/inspector-relations"
    tags = ["检查计划"]
    guards = [PLANNERS]

    @get("/", summary="回避关系列表")
    async def list_relations(
        self,
        current_user: NamedDependency[CurrentUser],
        institution_id: FromQuery[UUID | None] = None,
        inspector: FromQuery[str | None] = None,
    ) -> list[RelationOut]:
        """Relations of the institutions in one's region; filter by institution or inspector."""
        return await relations.list_relations(
            current_user, institution_id=institution_id, inspector=inspector
        )

    @post("/", summary="登记回避关系")
    async def create_relation(
        self, data: JSONBody[RelationCreate], current_user: NamedDependency[CurrentUser]
    ) -> RelationOut:
        """Record that an inspector must never be drawn for an institution (with the reason)."""
        return await relations.create_relation(current_user, data)

    @delete("/{relation_id:uuid}", summary="删除回避关系")
    async def delete_relation(
        self, relation_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> None:
        """Remove a recorded relation (204)."""
        await relations.delete_relation(current_user, relation_id)


class DrawController(Controller):
    path = "/api/draws"
    tags = ["检查计划"]
    guards = [PLANNERS]

    @post("/preview", summary="双随机抽取预览", status_code=200)
    async def preview(
        self, data: JSONBody[DrawRequest], current_user: NamedDependency[CurrentUser]
    ) -> DrawPreview:
        """The draw this body makes (same seed, pool and roster: same picks), stored nowhere."""
        return await draws.preview_draw(current_user, data)

    @post("/", summary="双随机抽取并创建检查任务")
    async def create(
        self, data: JSONBody[DrawRequest], current_user: NamedDependency[CurrentUser]
    ) -> DrawOut:
        """Make and store the draw: one assignment of kind ``random`` per pick (201)."""
        return await draws.save_draw(current_user, data)

    @get("/", summary="双随机抽取记录")
    async def list_draws(
        self,
        current_user: NamedDependency[CurrentUser],
        limit: FromQuery[int] = 100,
        offset: FromQuery[int] = 0,
    ) -> list[DrawSummary]:
        """The draws of one's region, newest first."""
        if not 1 <= limit <= 500 or offset < 0:
            raise InvalidInput("limit 须在 1–500 之间，offset 不能为负")
        return await draws.list_draws(current_user, limit=limit, offset=offset)

    @get("/{draw_id:uuid}", summary="双随机抽取详情")
    async def get_draw(
        self, draw_id: FromPath[UUID], current_user: NamedDependency[CurrentUser]
    ) -> DrawOut:
        """One draw with its picks, unassigned institutions and results (404 outside one's region)."""
        return await draws.get_draw(current_user, draw_id)


class BulkAssignmentController(Controller):
    path = "/api/assignments/bulk"
    tags = ["检查计划"]
    guards = [PLANNERS]

    @post("/preview", summary="批量日常检查预览", status_code=200)
    async def preview(
        self, data: JSONBody[RoutineRequest], current_user: NamedDependency[CurrentUser]
    ) -> RoutinePreview:
        """Every institution of the types in the region, each with a balanced pair; stored nowhere."""
        return await routine.preview_routine(current_user, data)

    @post("/", summary="批量创建日常检查任务")
    async def create(
        self, data: JSONBody[RoutineRequest], current_user: NamedDependency[CurrentUser]
    ) -> RoutineOut:
        """Create the routine assignments the preview showed (same seed: same pairs) (201)."""
        return await routine.save_routine(current_user, data)


class PlanningOptionsController(Controller):
    path = "/api/planning"
    tags = ["检查计划"]
    guards = [PLANNERS]

    @get("/options", summary="检查计划的可选项（地区、检查人员、检查表）")
    async def options(self, current_user: NamedDependency[CurrentUser]) -> dict[str, Any]:
        """Regions one plans in, inspectors who may be put on a team there, checklist versions."""
        return await planning_options(current_user)

    @get("/assignments", summary="检查计划：本地区检查任务（可筛选）")
    async def assignments(
        self,
        current_user: NamedDependency[CurrentUser],
        status: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        window_from: FromQuery[date | None] = None,
        window_to: FromQuery[date | None] = None,
    ) -> list[PlannedAssignment]:
        """Assignments of one's region whose window overlaps the dates, with their region."""
        return await list_planned(
            current_user,
            status=status,
            kind=kind,
            region=region,
            window_from=window_from,
            window_to=window_to,
        )
