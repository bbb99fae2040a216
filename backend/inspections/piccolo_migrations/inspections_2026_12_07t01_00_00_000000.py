"""finding.amount: the fund money a failed monetary item involves, as an exact decimal string."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "finding.amount: yuan as an exact decimal string (never a float)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inspections", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Finding",
        tablename="finding",
        column_name="amount",
        db_column_name="amount",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 24,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
