"""Indexes for the 看板's period and scope filters and the 机构档案's per-institution reads."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-12-07T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes for the dashboard's period and scope filters and the institution page."

# The same statements on both engines: plain B-tree indexes. Why each one:
SQLITE = POSTGRES = [
    # Submitted inspections of a period (every dashboard number, the lists and exports).
    "CREATE INDEX IF NOT EXISTS inspection_status_submitted_at"
    " ON inspection (status, submitted_at)",
    # One institution's inspections, newest first (机构档案, coverage's DISTINCT institution).
    "CREATE INDEX IF NOT EXISTS inspection_institution_submitted_at"
    " ON inspection (institution, submitted_at)",
    # Notices (and through them tasks) of a period, by issue day.
    "CREATE INDEX IF NOT EXISTS rectification_notice_issued_at ON rectification_notice (issued_at)",
    # Open and overdue tasks: status and deadline tested per task of the period's notices.
    "CREATE INDEX IF NOT EXISTS rectification_task_notice_status_deadline"
    " ON rectification_task (notice, status, deadline)",
    # Escalation steps of a period.
    "CREATE INDEX IF NOT EXISTS rectification_escalation_created_at"
    " ON rectification_escalation (created_at)",
    # Institutions of a region and type (the scope of every query).
    "CREATE INDEX IF NOT EXISTS institution_region_type ON institution (region, type)",
    # Physicians who lost points, within the scope.
    "CREATE INDEX IF NOT EXISTS physician_institution_points ON physician (institution, year_points)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tracking", description=DESCRIPTION)

    async def run() -> None:
        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
