"""The committed migrations build the schema the tables describe, on the engine under test."""

from __future__ import annotations

import uuid

import pytest
from piccolo.apps.migrations.commands.base import BaseMigrationManager

from backend.audit.tables import AuditEvent
from backend.checklists.tables import ChecklistVersion
from backend.db import engine, is_sqlite
from backend.migrations import migrate, pending_migrations


async def _db_columns(table: str) -> dict[str, bool]:
    """Column name -> nullable, as the database reports it."""
    if is_sqlite():
        rows = await engine().run_ddl(f"PRAGMA table_info({table})")
        return {r["name"]: not r["notnull"] and not r["pk"] for r in rows}
    rows = await engine().run_ddl(
        "SELECT column_name, is_nullable FROM information_schema.columns "
        f"WHERE table_name = '{table}'"
    )
    return {r["column_name"]: r["is_nullable"] == "YES" for r in rows}


def _all_tables() -> list:
    registry = BaseMigrationManager().get_app_registry()
    return [t for app in registry.app_configs.values() for t in app.table_classes]


async def test_nothing_pending_and_migrate_is_idempotent(database: None) -> None:
    assert await pending_migrations() == []
    assert await migrate() == []


async def test_every_table_column_exists_with_its_nullability(database: None) -> None:
    tables = _all_tables()
    assert len(tables) >= 12
    for table in tables:
        columns = await _db_columns(table._meta.tablename)
        assert columns, f"table {table._meta.tablename} missing"
        for column in table._meta.columns:
            name = column._meta.db_column_name
            assert name in columns, f"{table._meta.tablename}.{name} missing"
            if not column._meta.primary_key:
                assert columns[name] == column._meta.null, (
                    f"{table._meta.tablename}.{name} nullability"
                )


async def test_audit_log_refuses_update_and_delete(database: None) -> None:
    event = AuditEvent(action="test.event", entity_type="test", entity_id=str(uuid.uuid4()))
    await event.save()
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.update({AuditEvent.action: "changed"}).where(AuditEvent.id == event.id)
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.delete().where(AuditEvent.id == event.id)
    row = await AuditEvent.select(AuditEvent.action).where(AuditEvent.id == event.id).first()
    assert row == {"action": "test.event"}


async def test_checklist_id_and_version_are_unique(database: None) -> None:
    row = dict(
        checklist_id=f"t-{uuid.uuid4().hex[:8]}",
        version=1,
        title="t",
        content_hash="sha256:x",
        content={},
        source_text="",
    )
    await ChecklistVersion(**row).save()
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        await ChecklistVersion(**row).save()
