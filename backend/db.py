"""Database engine construction and the write-transaction discipline shared by all services.

SQLite allows one writer at a time. Piccolo's default DEFERRED transactions upgrade their lock
late and fail with ``database is locked`` under concurrent read-modify-write requests, so on
SQLite every write goes through one IMMEDIATE transaction, serialised per process by an
``asyncio.Lock`` (several processes then wait on SQLite's busy timeout). On PostgreSQL, writes
use ordinary transactions and row locks (``SELECT … FOR UPDATE``) where they read before writing.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from backend.settings import Settings, get_settings

SQLITE_BUSY_TIMEOUT_S = 30
SQLITE_WRITER_CACHE_KIB = 64 * 1024
# How long a client should wait before retrying after the database connection was lost: the
# pool reconnects on the next request, so a short pause is enough.
RETRY_AFTER_S = 2

_write_lock: asyncio.Lock | None = None
_pool_users = 0


class _RecoveringTransaction(PostgresTransaction):
    """Piccolo's transaction, but one that always gives its connection back to the pool.

    Piccolo's own ``__aexit__`` skips the release when the rollback fails, and ``__aenter__``
    keeps the connection when ``BEGIN`` fails: both happen when PostgreSQL drops the connection
    (a restart, ``pg_terminate_backend``, a network cut). Every such request would then hold one
    pool slot for ever, until the pool is exhausted and the server hangs. Here the connection is
    released in every case (asyncpg replaces a closed one on the next acquire), so the pool
    recovers by itself.
    """

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    try:
                        await self.rollback()
                    except Exception:  # noqa: BLE001 - the original error is the one to raise
                        # A dead connection cannot roll back; PostgreSQL rolls back itself.
                        pass
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            await self._give_back()
            self.engine.current_transaction.reset(self.context)
        return exception is None

    async def _give_back(self) -> None:
        try:
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()
        except Exception:  # noqa: BLE001 - a connection that cannot be released is dropped
            self.connection.terminate()


class RecoveringPostgresEngine(PostgresEngine):
    """The PostgreSQL engine with transactions that survive dropped connections."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        """A transaction whose connection always returns to the pool."""
        return _RecoveringTransaction(engine=self, allow_nested=allow_nested)


class QuickSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine without three of its per-statement costs on the write path.

    - Piccolo runs ``PRAGMA foreign_keys = 1`` before every statement of a transaction; the
      pragma is a no-op inside a transaction and is already set when the connection opens.
    - A statement is one trip to the connection's thread (``execute_fetchall``), not three
      (execute, fetch, close the cursor).
    - :func:`write_transaction` keeps its connection open between transactions (one per process:
      writes are serialised per process anyway) instead of opening a connection, and a thread
      for it, per transaction. A connection whose transaction failed to end is closed and the
      next transaction opens a fresh one.
    """

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # pragma: no cover
            # Without RETURNING, Piccolo's own path reads the inserted key back.
            return await super()._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        connection.row_factory = dict_factory
        transaction = self.current_transaction.get()
        if isinstance(transaction, _KeptConnectionTransaction):
            return await transaction.run(query, args or [])
        # One trip to the connection's thread: opening, fetching and closing a cursor take
        # three, each costing more than a lookup by key.
        return await connection.execute_fetchall(query, args or [])


class _KeptConnectionTransaction(SQLiteTransaction):
    """A write transaction on the process's kept connection (see :class:`QuickSQLiteEngine`).

    Each statement is a trip to the connection's thread, costing the event loop more than a
    write by key costs SQLite. So ``BEGIN`` and the writes of :func:`run_many` wait, in order,
    and go with the next statement that returns rows, or with ``COMMIT``, in one trip: a sync
    push makes four trips instead of ten. The transaction is IMMEDIATE and serialised per
    process, so nothing else can see the order change, and any error of a waiting write is
    raised inside the transaction, which then rolls back as before.

    The trip uses aiosqlite's ``_execute`` and ``_conn`` (pinned in the lock files): its public
    calls each make a trip of their own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: list[tuple[str, Any, bool]] = []  # (statement, parameters, many rows)

    async def get_connection(self) -> Any:
        return await _writer_connection(self.engine)

    async def begin(self) -> None:
        """Start with the first statement (SQLite takes the write lock then)."""
        self._waiting.append((f"BEGIN {self.transaction_type.value}", (), False))

    def defer(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Write ``rows`` with ``sql`` (``?`` placeholders) on the next trip."""
        self._waiting.append((sql, rows, True))

    async def run(self, sql: str | None, args: Any = ()) -> list[Any]:
        """The waiting statements, then ``sql``, in one trip; the rows of ``sql``."""
        waiting, self._waiting = self._waiting, []
        raw = self.connection._conn

        def work() -> list[Any]:
            for text, parameters, many in waiting:
                if many:
                    raw.executemany(text, parameters)
                else:
                    raw.execute(text, parameters)
            return raw.execute(sql, args).fetchall() if sql is not None else []

        return await self.connection._execute(work)

    async def commit(self) -> None:
        """What waits, and ``COMMIT``, in one trip."""
        await self.run("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        """Drop what waits; roll back what was sent (nothing, when ``BEGIN`` never went)."""
        self._waiting = []
        if self.connection.in_transaction:
            await self.connection.execute("ROLLBACK")
        self._rolled_back = True

    async def savepoint(self, name: str | None = None) -> Any:
        """A savepoint after everything that waits."""
        await self.run(None)
        return await super().savepoint(name)

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await _drop_writer()
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
            # A COMMIT or ROLLBACK that did not happen (unless the connection is closed already).
            if _writer is not None and _writer[1] is self.connection:
                if self.connection.in_transaction:
                    await _drop_writer()
        return exception is None


# (path, device, inode) of the open file, and the kept aiosqlite connection of write transactions.
_writer: tuple[tuple[str, int, int], Any] | None = None


def _file_key(path: str) -> tuple[str, int, int]:
    try:
        stat = os.stat(path)
    except OSError:
        return (path, 0, 0)
    return (path, stat.st_dev, stat.st_ino)


async def _writer_connection(db: SQLiteEngine) -> Any:
    global _writer
    key = _file_key(str(db.connection_kwargs["database"]))
    if _writer is not None and _writer[0] != key:
        await _drop_writer()  # the file was replaced (a restore): open the new one
    if _writer is None:
        connection = aiosqlite.connect(**db.connection_kwargs)
        # Its worker thread must not keep the process alive at exit if nobody closes it.
        thread = getattr(connection, "_thread", None)
        if thread is not None:
            thread.daemon = True
        await connection
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        # A page cache for the indexes writes walk (random client UUIDs touch pages all over
        # them); SQLite's default of 2 MB is re-read from the OS at every write once the
        # database holds a few hundred thousand answers.
        await connection.execute(f"PRAGMA cache_size = -{SQLITE_WRITER_CACHE_KIB}")
        _writer = (key, connection)
    return _writer[1]


async def _drop_writer() -> None:
    global _writer
    if _writer is not None:
        connection, _writer = _writer[1], None
        try:
            await connection.close()
        except Exception:  # noqa: BLE001 - a broken connection is dropped all the same
            pass


def make_engine(settings: Settings) -> Engine:
    """Build the Piccolo engine the settings ask for."""
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return QuickSQLiteEngine(path=str(settings.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_S)
    dsn = settings.database_url.replace("postgres://", "postgresql://", 1)
    return RecoveringPostgresEngine(config={"dsn": dsn})


def is_connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` (or an error it was raised from) means the database connection was
    lost or refused: PostgreSQL terminated it, restarted, refused new ones, or the link broke.

    Such a request changed nothing (its transaction did not commit), so the API answers 503 and
    the client retries; it is not a bug of the request.
    """
    import asyncpg.exceptions as pg  # only installed with PostgreSQL support

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            (
                pg.PostgresConnectionError,  # connection does not exist, failure
                pg.OperatorInterventionError,  # admin shutdown / terminate, crash, starting up
                pg.TooManyConnectionsError,
                # The protocol state of a connection broken mid-query, met when the pool resets
                # it on release ("cannot switch to state …; another operation is in progress").
                pg.InternalClientError,
                ConnectionError,  # reset, refused, broken pipe
            ),
        ):
            return True
        # "connection is closed", "connection was closed in the middle of operation"
        if isinstance(current, pg.InterfaceError) and "connection" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


_engine: Engine | None = None


def engine() -> Engine:
    """The configured engine (found once: Piccolo binds its tables to it at import, so it is
    the process's engine for good; finding it costs more than a push's queries build)."""
    global _engine
    if _engine is None:
        found = engine_finder()
        if found is None:  # pragma: no cover - only when PICCOLO_CONF is broken
            raise RuntimeError("no Piccolo engine configured")
        _engine = found
    return _engine


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
            if isinstance(db, QuickSQLiteEngine) and db.current_transaction.get() is None:
                transaction: SQLiteTransaction = _KeptConnectionTransaction(
                    engine=db, transaction_type=TransactionType.immediate
                )
            else:
                transaction = db.transaction(transaction_type=TransactionType.immediate)
            async with transaction as txn:
                yield txn
    else:
        async with db.transaction() as txn:
            yield txn


async def run_many(sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run one INSERT or UPDATE for many rows on the current write transaction's connection.

    For the few hot paths where building a statement per row in the ORM costs far more than the
    database does (a sync push writes dozens of findings and their history rows). ``sql`` uses
    ``$1, $2, …`` placeholders (rewritten to ``?`` on SQLite, where they appear in order); values
    are passed as the ORM would pass them: UUIDs, aware datetimes, JSON as text.
    """
    if not rows:
        return
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("run_many needs a write transaction")
    if isinstance(transaction, _KeptConnectionTransaction):
        transaction.defer(_QMARKS.sub("?", sql), rows)
    elif isinstance(db, SQLiteEngine):
        await transaction.connection.executemany(_QMARKS.sub("?", sql), rows)
    else:
        await transaction.connection.executemany(sql, rows)


_QMARKS = re.compile(r"\$\d+")


async def read_row(sql: str, *args: Any) -> dict[str, Any] | None:
    """The first row of a read-only query (``$1, $2, …`` placeholders, in order), or None.

    For reads made on every request (the session check): Piccolo opens a new SQLite connection,
    with a thread of its own, for each query outside a transaction, which costs far more than a
    lookup by primary key. Here SQLite reads go through one connection per process, kept open
    on one thread (reopened when the database file is replaced); PostgreSQL reads use the pool.
    Inside a transaction the transaction's connection is used, as the ORM would.
    """
    db = engine()
    transaction = db.current_transaction.get()
    if isinstance(db, SQLiteEngine):
        sql = _QMARKS.sub("?", sql)
        if transaction is not None:
            rows = await _sqlite_rows(transaction, sql, args)
            return dict(rows[0]) if rows else None
        return await asyncio.get_running_loop().run_in_executor(
            _sqlite_reader_thread(), _sqlite_read, db.connection_kwargs, sql, args
        )
    if transaction is not None:
        row = await transaction.connection.fetchrow(sql, *args)
    elif db.pool:
        async with db.pool.acquire() as connection:
            row = await connection.fetchrow(sql, *args)
    else:
        connection = await db.get_new_connection()
        try:
            row = await connection.fetchrow(sql, *args)
        finally:
            await connection.close()
    return None if row is None else dict(row)


async def read_rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Every row of a read-only query (``$1, $2, …`` placeholders, in order), on the current
    write transaction's connection.

    For the reads of the hot write paths (a sync push, the notice and the sealed record it
    makes), where building the statement in the ORM costs more than running it.
    """
    db = engine()
    transaction = db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("read_rows needs a write transaction")
    if isinstance(db, SQLiteEngine):
        rows = await _sqlite_rows(transaction, _QMARKS.sub("?", sql), args)
        return [dict(row) for row in rows]
    return [dict(row) for row in await transaction.connection.fetch(sql, *args)]


async def _sqlite_rows(transaction: Any, sql: str, args: Any) -> list[Any]:
    # One trip to the connection's thread, with the writes waiting for it (see the classes).
    if isinstance(transaction, _KeptConnectionTransaction):
        return await transaction.run(sql, args)
    return await transaction.connection.execute_fetchall(sql, args)


_reader_executor: ThreadPoolExecutor | None = None
# (path, device, inode) of the open file, and the connection (used only on the reader thread).
_reader: tuple[tuple[str, int, int], sqlite3.Connection] | None = None


def _sqlite_reader_thread() -> ThreadPoolExecutor:
    global _reader_executor
    if _reader_executor is None:
        _reader_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
    return _reader_executor


def _sqlite_read(
    connection_kwargs: dict[str, Any], sql: str, args: tuple[Any, ...]
) -> dict[str, Any] | None:
    # Runs on the reader thread only, so the connection is never used by two threads at once.
    global _reader
    path = str(connection_kwargs["database"])
    try:
        stat = os.stat(path)
        key = (path, stat.st_dev, stat.st_ino)
    except OSError:
        key = (path, 0, 0)
    if _reader is None or _reader[0] != key:
        if _reader is not None:
            _reader[1].close()
        # Autocommit (isolation_level None, as Piccolo's): each read sees the latest commit.
        connection = sqlite3.connect(**{**connection_kwargs, "check_same_thread": False})
        connection.row_factory = sqlite3.Row
        _reader = (key, connection)
    cursor = _reader[1].execute(sql, args)
    try:
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else dict(row)


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
    if isinstance(db, SQLiteEngine):
        await _drop_writer()
    if isinstance(db, PostgresEngine) and _pool_users > 0:
        _pool_users -= 1
        if _pool_users == 0:
            await db.close_connection_pool()
