"""Piccolo's configuration: the database engine chosen by ``YIBAO_DATABASE_URL``, and the apps."""

from piccolo.conf.apps import AppRegistry

from backend.db import make_engine
from backend.settings import get_settings

DB = make_engine(get_settings())

# Order matters only for readability; Piccolo resolves migration dependencies itself.
APP_REGISTRY = AppRegistry(
    apps=[
        "backend.audit.piccolo_app",
        "backend.institutions.piccolo_app",
        "backend.accounts.piccolo_app",
        "backend.checklists.piccolo_app",
        "backend.inspections.piccolo_app",
        "backend.rectification.piccolo_app",
        "backend.planning.piccolo_app",
        "backend.tracking.piccolo_app",
        "backend.rules.piccolo_app",
        "backend.records.piccolo_app",
    ]
)
