"""Engine-specific SQL for hand-written migrations (constraints Piccolo's columns can't express)."""

from collections.abc import Sequence

from piccolo.engine.sqlite import SQLiteEngine

from backend.db import engine


async def run_sql(sqlite: Sequence[str], postgres: Sequence[str]) -> None:
    """Run the statements written for the configured engine, in order."""
    db = engine()
    for statement in sqlite if isinstance(db, SQLiteEngine) else postgres:
        await db.run_ddl(statement)
