"""One finding per item per inspection; one team membership per inspector."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-11-22T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One finding per item per inspection; one team membership per inspector."

SQLITE = POSTGRES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS finding_inspection_item ON finding (inspection, item_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS assignment_inspector_unique"
    " ON assignment_inspector (assignment, inspector)",
    "CREATE INDEX IF NOT EXISTS photo_inspection_sha ON photo (inspection_id, sha256)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inspections", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
