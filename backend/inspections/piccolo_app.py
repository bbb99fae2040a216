"""Piccolo app for the inspections domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.inspections.tables import (
    Assignment,
    AssignmentInspector,
    Finding,
    FindingRevision,
    Inspection,
    Photo,
)

APP_CONFIG = AppConfig(
    app_name="inspections",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Assignment, AssignmentInspector, Inspection, Finding, FindingRevision, Photo],
    migration_dependencies=[
        "backend.accounts.piccolo_app",
        "backend.checklists.piccolo_app",
        "backend.institutions.piccolo_app",
    ],
)
