"""Liveness and readiness: the process answers and the database is reachable."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Response
from pydantic import BaseModel, Field

from backend import __version__
from backend.db import engine, is_sqlite


class Health(BaseModel):
    status: str = Field(description="ok, or error when the database is unreachable")
    database: str = Field(description="sqlite or postgresql")
    database_ok: bool
    version: str


class HealthController(Controller):
    path = "/health"
    tags = ["系统"]

    @get(summary="健康检查", description="进程存活且数据库可用时返回 200，否则 503。")
    async def health(self) -> Response[Health]:
        """Answer 200 when the database answers a trivial query, else 503."""
        try:
            await engine().run_ddl("SELECT 1")
            ok = True
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            ok = False
        body = Health(
            status="ok" if ok else "error",
            database="sqlite" if is_sqlite() else "postgresql",
            database_ok=ok,
            version=__version__,
        )
        return Response(body, status_code=200 if ok else 503)
