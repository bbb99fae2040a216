"""The audit log for the administrator: read-only, filtered, paged."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromQuery

from backend.accounts.tables import Role
from backend.audit import reading
from backend.audit.schemas import AuditEventOut, AuditPage
from backend.tenancy import require_roles


class AuditController(Controller):
    path = "/api/admin/audit"
    tags = ["系统管理"]
    guards = [require_roles(Role.admin)]

    @get("/", summary="审计日志")
    async def list_events(
        self,
        entity_type: FromQuery[str | None] = None,
        entity_id: FromQuery[str | None] = None,
        username: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        date_from: FromQuery[str | None] = None,
        date_to: FromQuery[str | None] = None,
        limit: FromQuery[int] = reading.DEFAULT_LIMIT,
        offset: FromQuery[int] = 0,
    ) -> AuditPage:
        """Audit events, newest first. Filters: ``entity_type``, ``entity_id``, ``username`` (the
        actor), ``action`` (exact, or a prefix ending with a dot such as ``institution.``),
        ``date_from`` / ``date_to`` (YYYY-MM-DD, China time, both included). ``limit`` 1–200
        (default 50) and ``offset`` page; ``total`` counts every match. 422 for a bad filter."""
        rows, total = await reading.search(
            entity_type=entity_type,
            entity_id=entity_id,
            username=username,
            action=action,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            offset=offset,
        )
        return AuditPage(
            items=[AuditEventOut(**row) for row in rows], total=total, limit=limit, offset=offset
        )

    @get("/actions", summary="审计日志中出现的操作")
    async def list_actions(self) -> list[str]:
        """Every action name in the log, sorted (the choices of the action filter)."""
        return await reading.actions()
