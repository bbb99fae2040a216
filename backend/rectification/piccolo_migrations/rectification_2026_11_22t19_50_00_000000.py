"""Notice sequence numbers are unique per office and year."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-11-22T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Notice sequence numbers are unique per office and year."

SQLITE = POSTGRES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS rectification_notice_office_year_seq"
    " ON rectification_notice (office, year, seq)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rectification", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
