"""The task tally behind the 看板's 整改事项 numbers, kept by triggers on the rectification tables
(in the transaction of every write that changes a task or a notice), filled from the rows already
there (backend/tracking/task_tally.py, docs/tracking.md "Summary tables")."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.migration_sql import run_sql

ID = "2026-12-07T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Task tally per issue day, scope, statuses and deadline, kept by triggers."


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tracking", description=DESCRIPTION)

    async def run() -> None:
        from backend.tracking.task_tally import POSTGRES, SQLITE

        await run_sql(SQLITE, POSTGRES)

    manager.add_raw(run)
    return manager
