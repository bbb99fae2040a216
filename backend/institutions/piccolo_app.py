"""Piccolo app for the institutions domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.institutions.tables import Institution, Physician, Region

APP_CONFIG = AppConfig(
    app_name="institutions",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Region, Institution, Physician],
    migration_dependencies=[],
)
