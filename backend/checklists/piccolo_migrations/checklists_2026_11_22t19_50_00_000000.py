"""One row per checklist id and version."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-11-22T19:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One row per checklist id and version."

SQLITE = POSTGRES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS checklist_version_id_version"
    " ON checklist_version (checklist_id, version)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="checklists", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
