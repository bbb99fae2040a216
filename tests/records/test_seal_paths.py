"""The seal written inside a write transaction (the submission's plain statements) and outside
one (through the ORM) store the same row, answer the same dict and log the same audit event."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest

from backend.audit.tables import AuditEvent
from backend.db import write_transaction
from backend.records.seal import seal_inspection
from backend.records.tables import RecordSeal
from tests.rectification.helpers import make_tenant, submit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _stored(seal_id: int) -> dict:
    row = await RecordSeal.select().where(RecordSeal.id == seal_id).first()
    assert row is not None
    return row


async def _event(inspection_id: UUID) -> dict:
    event = (
        await AuditEvent.select(
            AuditEvent.actor_id,
            AuditEvent.actor_username,
            AuditEvent.actor_role,
            AuditEvent.device_id,
            AuditEvent.action,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.before,
            AuditEvent.after,
            AuditEvent.request_id,
        )
        .where((AuditEvent.action == "record.seal") & (AuditEvent.entity_id == str(inspection_id)))
        .order_by(AuditEvent.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    assert event is not None
    return event


async def test_seal_in_a_transaction_and_outside_one_store_and_log_the_same(
    client: httpx.AsyncClient, login
) -> None:
    tenant = await make_tenant(client, login)
    inspection_id = UUID((await submit(client, login, tenant))["id"])
    at = datetime(2026, 5, 1, 2, 3, 4, 123456, tzinfo=UTC)

    async with write_transaction():
        inside = await seal_inspection(inspection_id, reason="change", at=at)
    inside_event = await _event(inspection_id)
    outside = await seal_inspection(inspection_id, reason="change", at=at)
    outside_event = await _event(inspection_id)

    assert list(inside) == list(outside) == [c._meta.name for c in RecordSeal._meta.columns]
    assert outside["id"] > inside["id"]
    assert {k: v for k, v in inside.items() if k != "id"} == {
        k: v for k, v in outside.items() if k != "id"
    }
    for returned in (inside, outside):
        stored = await _stored(returned["id"])
        assert stored == returned
    assert inside_event == outside_event
    assert inside_event["after"] == {
        "digest": inside["digest"],
        "key_id": inside["key_id"],
        "reason": "change",
    }
    assert inside_event["before"] is None
