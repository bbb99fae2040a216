"""Piccolo app for the planning domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.planning.tables import Draw, DrawItem, InspectorRelation

APP_CONFIG = AppConfig(
    app_name="planning",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[InspectorRelation, Draw, DrawItem],
    migration_dependencies=["backend.inspections.piccolo_app"],
)
