"""An escalation step records the day it was decided and the number of its document."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Date, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Escalation steps: decision date and document number."


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rectification", description=DESCRIPTION)
    common = {
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    # Both are added with a default so that rows recorded before keep working: the day falls
    # back to the row's created_at when read, the number to "" (none given).
    manager.add_column(
        table_class_name="Escalation",
        tablename="rectification_escalation",
        column_name="decided_on",
        db_column_name="decided_on",
        column_class_name="Date",
        column_class=Date,
        params={"default": None, "null": True, **common},
        schema=None,
    )
    manager.add_column(
        table_class_name="Escalation",
        tablename="rectification_escalation",
        column_name="document_no",
        db_column_name="document_no",
        column_class_name="Varchar",
        column_class=Varchar,
        params={"length": 64, "default": "", "null": False, **common},
        schema=None,
    )
    return manager
