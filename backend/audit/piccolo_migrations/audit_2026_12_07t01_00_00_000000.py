"""The audit chain's columns (mac, seq, prev_hash, hash) and the signed checkpoints' table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, BigSerial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The audit chain's columns and the signed checkpoints' table."


def _params(**extra: object) -> dict:
    return {
        "default": None,
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    for name, cls, extra in (
        ("mac", Varchar, {"length": 96}),
        ("seq", BigInt, {}),
        ("prev_hash", Varchar, {"length": 64}),
        ("hash", Varchar, {"length": 64}),
    ):
        manager.add_column(
            table_class_name="AuditEvent",
            tablename="audit_event",
            column_name=name,
            db_column_name=name,
            column_class_name=cls.__name__,
            column_class=cls,
            params=_params(**extra),
            schema=None,
        )

    manager.add_table(
        class_name="AuditCheckpoint", tablename="audit_checkpoint", schema=None, columns=None
    )
    checkpoint_columns = (
        ("id", BigSerial, {"null": False, "primary_key": True, "default": None}),
        ("seq", BigInt, {"null": False, "default": 0}),
        ("head_hash", Varchar, {"null": False, "default": "", "length": 64}),
        ("at", Timestamptz, {"null": False, "default": TimestamptzNow(), "index": True}),
        ("key_id", Varchar, {"null": False, "default": "", "length": 64}),
        ("algorithm", Varchar, {"null": False, "default": "Ed25519", "length": 16}),
        ("signature", Text, {"null": False, "default": ""}),
    )
    for name, cls, extra in checkpoint_columns:
        manager.add_column(
            table_class_name="AuditCheckpoint",
            tablename="audit_checkpoint",
            column_name=name,
            db_column_name=name,
            column_class_name=cls.__name__,
            column_class=cls,
            params=_params(**extra),
            schema=None,
        )
    return manager
