"""Piccolo app for tracking (看板, exports, 机构档案): no tables of its own, only the indexes its
queries over the other domains' tables need (see docs/tracking.md)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="tracking",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[],
    migration_dependencies=[
        "backend.institutions.piccolo_app",
        "backend.inspections.piccolo_app",
        "backend.rectification.piccolo_app",
    ],
)
