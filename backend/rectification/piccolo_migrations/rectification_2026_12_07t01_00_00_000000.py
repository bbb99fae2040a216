"""The notice's service (送达), contact and provisional windows; each task's deadline basis,
provisional mark, amount to be returned and fraud flag."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Date, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Notice service date and contact; task deadline basis, amount, fraud; holidays."

COMMON = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

# (table class, table, column, class, params). Notices and tasks made before keep reading as
# they did: served on their issue day (filled below), deadlines final, counted as they were.
COLUMNS = [
    (
        "RectificationNotice",
        "rectification_notice",
        "served_on",
        Date,
        {"default": None, "null": True},
    ),
    (
        "RectificationNotice",
        "rectification_notice",
        "service_method",
        Varchar,
        {"length": 16, "default": "", "null": False},
    ),
    (
        "RectificationNotice",
        "rectification_notice",
        "objection_provisional",
        Boolean,
        {"default": False, "null": False},
    ),
    (
        "RectificationNotice",
        "rectification_notice",
        "contact",
        Varchar,
        {"length": 128, "default": "", "null": False},
    ),
    (
        "RectificationTask",
        "rectification_task",
        "deadline_basis",
        Varchar,
        {"length": 16, "default": "calendar", "null": False},
    ),
    (
        "RectificationTask",
        "rectification_task",
        "deadline_provisional",
        Boolean,
        {"default": False, "null": False},
    ),
    (
        "RectificationTask",
        "rectification_task",
        "amount",
        Varchar,
        {"length": 24, "default": None, "null": True},
    ),
    (
        "RectificationTask",
        "rectification_task",
        "fraud",
        Boolean,
        {"default": False, "null": False},
    ),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rectification", description=DESCRIPTION)
    for class_name, table, column, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name=class_name,
            tablename=table,
            column_name=column,
            db_column_name=column,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={**params, **COMMON},
            schema=None,
        )
    return manager
