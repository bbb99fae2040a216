"""Piccolo app for the rectification domain: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.rectification.tables import (
    Attachment,
    Escalation,
    LastSeen,
    NoticeCounter,
    Objection,
    RectificationNotice,
    RectificationTask,
    Reinspection,
    TaskEvent,
)

APP_CONFIG = AppConfig(
    app_name="rectification",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        RectificationNotice,
        RectificationTask,
        NoticeCounter,
        TaskEvent,
        Attachment,
        Objection,
        Escalation,
        Reinspection,
        LastSeen,
    ],
    migration_dependencies=["backend.inspections.piccolo_app"],
)
