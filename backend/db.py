"""Database engine construction and the write-transaction discipline shared by all services.

SQLite allows one writer at a time. Piccolo's default DEFERRED transactions upgrade their lock
late and fail with ``database is locked`` under concurrent read-modify-write requests, so on
SQLite every write goes through one IMMEDIATE transaction, serialised per process by an
``asyncio.Lock`` (several processes then wait on SQLite's busy timeout). On PostgreSQL, writes
use ordinary transactions and row locks (``SELECT … FOR UPDATE``) where they read before writing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from backend.settings import Settings, get_settings

SQLITE_BUSY_TIMEOUT_S = 30

_write_lock: asyncio.Lock | None = None
_pool_users = 0


def make_engine(settings: Settings) -> Engine:
    """Build the Piccolo engine the settings ask for."""
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(settings.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_S)
    dsn = settings.database_url.replace("postgres://", "postgresql://", 1)
    return PostgresEngine(config={"dsn": dsn})


def engine() -> Engine:
    """The configured engine."""
    found = engine_finder()
    if found is None:  # pragma: no cover - only when PICCOLO_CONF is broken
        raise RuntimeError("no Piccolo engine configured")
    return found


def is_sqlite() -> bool:
    """True when running on the embedded SQLite database."""
    return isinstance(engine(), SQLiteEngine)


def _lock() -> asyncio.Lock:
    # Created lazily so that it binds to the running loop, not to import time.
    global _write_lock
    if _write_lock is None:
        _write_lock = asyncio.Lock()
    return _write_lock


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """One atomic write: IMMEDIATE and serialised on SQLite, a plain transaction on PostgreSQL.

    Everything done inside commits together or not at all.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with _lock():
            async with db.transaction(transaction_type=TransactionType.immediate) as txn:
                yield txn
    else:
        async with db.transaction() as txn:
            yield txn


async def prepare_sqlite(db: Engine) -> None:
    """Switch a SQLite database to WAL so readers never block the writer (persists in the file)."""
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def start(db: Engine | None = None) -> None:
    """Open the connection pool (PostgreSQL) or prepare the file (SQLite).

    Calls nest: the pool opens on the first call and closes with the matching last :func:`stop`,
    so a CLI command or a test can hold the database while an app inside it starts and stops.
    """
    global _pool_users
    db = db or engine()
    if isinstance(db, PostgresEngine):
        if _pool_users == 0:
            await db.start_connection_pool(max_size=get_settings().pg_pool_max)
        _pool_users += 1
    else:
        await prepare_sqlite(db)


async def stop(db: Engine | None = None) -> None:
    """Release the connection pool; it closes when its last user stops."""
    global _pool_users
    db = db or engine()
    if isinstance(db, PostgresEngine) and _pool_users > 0:
        _pool_users -= 1
        if _pool_users == 0:
            await db.close_connection_pool()
