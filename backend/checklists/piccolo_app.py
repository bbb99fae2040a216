"""Piccolo app for the checklists domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.checklists.tables import ChecklistVersion

APP_CONFIG = AppConfig(
    app_name="checklists",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ChecklistVersion],
    migration_dependencies=[],
)
