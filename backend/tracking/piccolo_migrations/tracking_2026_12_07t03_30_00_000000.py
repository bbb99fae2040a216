"""The inspection tallies behind the 看板's inspections, grades, mean score, monthly trend and
score bands, filled from the inspections already submitted (docs/tracking.md)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-12-07T03:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Inspection tallies per day and month (count, grade, score band, score sum)."

_TALLY = (
    'CREATE TABLE IF NOT EXISTS "{table}" ("{when}" DATE NOT NULL, "region" UUID NOT NULL,'
    ' "type" VARCHAR(16) NOT NULL, "grade" VARCHAR(16) NOT NULL, "band" INTEGER NOT NULL,'
    ' "inspections" INTEGER NOT NULL DEFAULT 0, "scored" INTEGER NOT NULL DEFAULT 0,'
    ' "score_sum" NUMERIC(14, 1) NOT NULL DEFAULT 0,'
    ' PRIMARY KEY ("{when}", "region", "type", "grade", "band"))'
)

SQLITE = POSTGRES = [
    _TALLY.format(table="inspection_tally_day", when="day"),
    _TALLY.format(table="inspection_tally_month", when="month"),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tracking", description=DESCRIPTION)

    async def run() -> None:
        from backend.tracking.tally import INSPECTION_TABLES, refill

        await run_sql(SQLITE, POSTGRES)
        await refill(INSPECTION_TABLES)  # the inspections submitted before the tallies existed

    manager.add_raw(run)
    return manager
