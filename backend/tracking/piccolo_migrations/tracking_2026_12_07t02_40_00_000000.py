"""The answer tallies behind the most-failed items, filled from the answers already submitted, and
the indexes that keep the 看板 under 300 ms at province scale (docs/tracking.md, docs/benchmarks.md)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-12-07T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Answer tallies per day and month for the most-failed items; covering indexes."

_TALLY = (
    'CREATE TABLE IF NOT EXISTS "{table}" ("{when}" DATE NOT NULL, "region" UUID NOT NULL,'
    ' "type" VARCHAR(16) NOT NULL, "checklist_id" VARCHAR(64) NOT NULL,'
    ' "item_id" VARCHAR(96) NOT NULL, "failed" INTEGER NOT NULL DEFAULT 0,'
    ' "answered" INTEGER NOT NULL DEFAULT 0,'
    ' PRIMARY KEY ("{when}", "region", "type", "checklist_id", "item_id"))'
)

SQLITE = POSTGRES = [
    _TALLY.format(table="finding_tally_day", when="day"),
    _TALLY.format(table="finding_tally_month", when="month"),
    # Submitted inspections of a period with what the summary, trend and scores read, so that
    # a year (or three) of a province is an index-only scan; supersedes (status, submitted_at).
    "CREATE INDEX IF NOT EXISTS inspection_status_submitted_covering"
    " ON inspection (status, submitted_at, institution, grade, score_total)",
    "DROP INDEX IF EXISTS inspection_status_submitted_at",
    # The inspections that failed one item (the list behind a most-failed item, its tasks):
    # failures are a few per cent of the answers.
    "CREATE INDEX IF NOT EXISTS finding_failed_item ON finding (item_id, inspection)"
    " WHERE result = 'fail'",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tracking", description=DESCRIPTION)

    async def run() -> None:
        from backend.tracking.tally import FINDING_TABLES, refill

        await run_sql(SQLITE, POSTGRES)
        await refill(FINDING_TABLES)  # the answers submitted before the tallies existed

    manager.add_raw(run)
    return manager
