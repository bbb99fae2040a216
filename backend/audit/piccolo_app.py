"""Piccolo app for the audit domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.audit.tables import AuditCheckpoint, AuditEvent

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AuditEvent, AuditCheckpoint],
    migration_dependencies=[],
)
