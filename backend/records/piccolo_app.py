"""Piccolo app for sealed records (record_seal)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.records.tables import RecordSeal

APP_CONFIG = AppConfig(
    app_name="records",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[RecordSeal],
    migration_dependencies=["backend.inspections.piccolo_app"],
)
