"""Piccolo app for the accounts domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.accounts.tables import DeviceSession, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[User, DeviceSession],
    migration_dependencies=["backend.institutions.piccolo_app"],
)
