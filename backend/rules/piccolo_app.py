"""Piccolo app for the rules domain: physician point deductions and status history."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.rules.tables import PhysicianPointEvent, PhysicianStatusChange

APP_CONFIG = AppConfig(
    app_name="rules",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[PhysicianPointEvent, PhysicianStatusChange],
    migration_dependencies=[
        "backend.institutions.piccolo_app",
        "backend.inspections.piccolo_app",
    ],
)
