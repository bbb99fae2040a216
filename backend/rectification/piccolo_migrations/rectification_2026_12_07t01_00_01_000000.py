"""The loaded official holiday calendar; older tasks keep the deadline basis of their notice
(after the columns of migration 2026-12-07T01:00:00, which Piccolo adds after raw steps)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-12-07T01:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "The official holiday calendar table; older tasks' deadline basis."

SQLITE = [
    'CREATE TABLE IF NOT EXISTS "official_calendar" ("id" UUID PRIMARY KEY NOT NULL,'
    ' "year" INTEGER UNIQUE NOT NULL DEFAULT 0, "holidays" JSONB NOT NULL DEFAULT \'[]\','
    " \"workdays\" JSONB NOT NULL DEFAULT '[]', \"source\" VARCHAR(256) NOT NULL DEFAULT '',"
    ' "loaded_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
]
POSTGRES = [
    'CREATE TABLE IF NOT EXISTS "official_calendar" ("id" UUID PRIMARY KEY NOT NULL'
    ' DEFAULT gen_random_uuid(), "year" INTEGER UNIQUE NOT NULL DEFAULT 0,'
    " \"holidays\" JSONB NOT NULL DEFAULT '[]', \"workdays\" JSONB NOT NULL DEFAULT '[]',"
    " \"source\" VARCHAR(256) NOT NULL DEFAULT '',"
    ' "loaded_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rectification", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)
        # Older tasks were counted on the notice's basis: keep saying so.
        await run_sql(
            [
                "UPDATE rectification_task SET deadline_basis = (SELECT n.deadline_basis FROM"
                " rectification_notice n WHERE n.id = rectification_task.notice)",
            ],
            [
                "UPDATE rectification_task t SET deadline_basis = n.deadline_basis"
                " FROM rectification_notice n WHERE n.id = t.notice",
            ],
        )

    manager.add_raw(run)
    return manager
