"""One relation per inspector and institution; a drawn institution appears once per draw."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-12-06T23:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One relation per inspector and institution; one item per institution and draw."

SQLITE = POSTGRES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS inspector_relation_pair"
    " ON inspector_relation (inspector, institution)",
    "CREATE UNIQUE INDEX IF NOT EXISTS draw_item_institution ON draw_item (draw, institution)",
    "CREATE INDEX IF NOT EXISTS draw_created_at ON draw (created_at)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="planning", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
