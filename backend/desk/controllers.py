"""The desk's own routes: the counts in its navigation."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import Role
from backend.rectification.queue import desk_counts
from backend.rectification.schemas import DeskCounts
from backend.tenancy import require_roles


class DeskController(Controller):
    path = "/api/desk"
    tags = ["工作台"]

    @get("/counts", summary="工作台导航计数", guards=[require_roles(Role.admin, Role.supervisor)])
    async def counts(self, current_user: NamedDependency[CurrentUser]) -> DeskCounts:
        """Answers waiting for 验收, pending objections, draft notices and overdue tasks in
        one's region (everything for an admin)."""
        return await desk_counts(current_user)
