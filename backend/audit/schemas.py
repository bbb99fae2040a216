"""What the audit log API speaks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEventOut(BaseModel):
    """One audit event: who did what to which record, from which device, before and after."""

    id: int
    at: datetime
    actor_username: str | None = None
    actor_role: str | None = None
    device_id: str | None = None
    action: str
    entity_type: str
    entity_id: str
    before: Any = None
    after: Any = None
    request_id: str | None = None


class AuditPage(BaseModel):
    """One page of audit events, newest first, with the number matching the filters."""

    items: list[AuditEventOut]
    total: int
    limit: int
    offset: int
