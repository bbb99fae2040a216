"""Make the audit log append-only: refuse UPDATE and DELETE on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-11-22T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Make the audit log append-only: refuse UPDATE and DELETE on both engines."

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
