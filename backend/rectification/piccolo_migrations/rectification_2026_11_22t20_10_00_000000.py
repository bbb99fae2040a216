"""One counter row per office and year; one task per finding; one problem number per notice."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-11-22T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One counter row per office and year; one task per finding and problem number."

SQLITE = POSTGRES = [
    # The target of INSERT … ON CONFLICT (office, year) in numbering.py: without it, two
    # workers could both insert the first row of a year.
    "CREATE UNIQUE INDEX IF NOT EXISTS rectification_counter_office_year"
    " ON rectification_counter (office, year)",
    "CREATE UNIQUE INDEX IF NOT EXISTS rectification_task_finding ON rectification_task (finding)",
    "CREATE UNIQUE INDEX IF NOT EXISTS rectification_task_notice_seq"
    " ON rectification_task (notice, seq)",
    "CREATE INDEX IF NOT EXISTS rectification_event_notice_at ON rectification_event (notice, at)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rectification", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
