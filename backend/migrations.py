"""Applying the committed Piccolo migrations of every domain app."""

from __future__ import annotations

import contextlib
import io
import re

from piccolo.apps.migrations.commands.forwards import run_forwards

from backend.db import engine, prepare_sqlite


class MigrationFailed(RuntimeError):
    """A migration could not be applied; the database is left at the last good migration."""


async def migrate() -> list[str]:
    """Apply every migration not yet applied, on the configured engine.

    Returns:
        The ids of the migrations applied now (empty when the schema was up to date).
    """
    await prepare_sqlite(engine())
    out = io.StringIO()
    # Piccolo prints progress tables meant for its own CLI; keep them for error reports only.
    with contextlib.redirect_stdout(out):
        result = await run_forwards("all")
    if not result.success:
        raise MigrationFailed(f"{result.message}\n{out.getvalue()}")
    return re.findall(r"- (\S+) \[forwards\]\.\.\. ok", out.getvalue())


async def pending_migrations() -> list[str]:
    """``app:migration_id`` of every committed migration not yet applied to the database."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    manager = BaseMigrationManager()
    ran: set[tuple[str, str]] = set()
    if await Migration.table_exists():
        ran = {
            (r["app_name"], r["name"])
            for r in await Migration.select(Migration.app_name, Migration.name)
        }
    missing = []
    for app_config in manager.get_app_registry().app_configs.values():
        modules = manager.get_migration_modules(str(app_config.migrations_folder_path))
        for migration_id in manager.get_migration_ids(modules):
            if (app_config.app_name, migration_id) not in ran:
                missing.append(f"{app_config.app_name}:{migration_id}")
    return missing


async def require_migrated() -> None:
    """Refuse to work on a database whose schema is behind the code.

    Raises:
        MigrationFailed: naming the missing migrations and the command that applies them.
    """
    missing = await pending_migrations()
    if missing:
        raise MigrationFailed(
            f"the database schema is not up to date ({len(missing)} migrations not applied); "
            "run `yibao migrate` first"
        )
