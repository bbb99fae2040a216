"""app_user.enforcement_cert_no: the inspector's 执法证号, printed on notices."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Accounts: enforcement certificate number (执法证号)."


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    manager.add_column(
        table_class_name="User",
        tablename="app_user",
        column_name="enforcement_cert_no",
        db_column_name="enforcement_cert_no",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": "",
            "null": False,
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
