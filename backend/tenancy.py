"""Tenancy: who may see which institution, in one place that every controller uses.

The rule: an admin sees everything; an inspector or a supervisor sees the institutions of their
region and of the regions under it (a city covers its counties); a manager sees their own
institution only. A record outside one's tenancy answers 404, exactly as a record that does not
exist, so that nobody can probe for other institutions' data. A role that may never use a route
gets 403 (see :func:`require_roles`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from piccolo.columns.combination import WhereRaw

from backend.accounts.auth import CurrentUser
from backend.accounts.tables import ROLE_LABELS, Role
from backend.errors import NotFound
from backend.institutions.tables import Institution

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def require_roles(*roles: Role) -> Guard:
    """A guard letting only the given roles through (403 with a plain message otherwise)."""
    allowed = frozenset(roles)
    names = "、".join(ROLE_LABELS[r] for r in roles)

    # Async although it awaits nothing: Litestar runs a plain function guard in a worker
    # thread, a trip that costs more than the check.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.user
        if not isinstance(user, CurrentUser) or user.role not in allowed:
            raise PermissionDeniedException(detail=f"无权执行此操作：仅限{names}")

    guard.__name__ = f"require_{'_'.join(sorted(r.value for r in roles))}"
    return guard


def institution_where(user: CurrentUser, column: Any = Institution.id) -> Any:
    """A WHERE clause restricting ``column`` (an institution id column, possibly through a join)
    to the institutions the user may see; ``None`` for an admin (no restriction)."""
    if user.role == Role.admin:
        return None
    if user.role == Role.manager:
        if user.institution_id is None:
            return WhereRaw("1 = 0")
        return column == user.institution_id
    if not user.region_ids:
        return WhereRaw("1 = 0")
    visible = Institution.select(Institution.id).where(
        Institution.region.is_in(list(user.region_ids))
    )
    return column.is_in(visible)


def can_see_institution(user: CurrentUser, institution: dict[str, Any]) -> bool:
    """Whether the user may see this institution row (needs its ``id`` and ``region``)."""
    if user.role == Role.admin:
        return True
    if user.role == Role.manager:
        return institution["id"] == user.institution_id
    return bool(user.region_ids) and institution["region"] in user.region_ids  # type: ignore[operator]


async def visible_institution(user: CurrentUser, institution_id: UUID) -> dict[str, Any]:
    """The institution row if the user may see it.

    Raises:
        NotFound: it does not exist or lies outside the user's tenancy (the same answer).
    """
    row = await Institution.select().where(Institution.id == institution_id).first()
    if row is None or not can_see_institution(user, row):
        raise NotFound("机构不存在或不在您的管辖范围内")
    return row
