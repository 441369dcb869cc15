"""Database engine set-up for SQLite (default) and PostgreSQL.

One function, :func:`configure`, builds the engine from settings and binds every table to it, so
the same process never talks to two databases by accident (a Piccolo trap: tables otherwise bind
to whatever ``piccolo_conf`` said at import time).

SQLite runs in WAL mode with a 30 s busy timeout, and every write transaction is
``BEGIN IMMEDIATE`` (:func:`write_transaction`): a deferred transaction that reads before it writes
fails with "database is locked" under concurrent writers.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

__all__ = ["configure", "engine", "read_transaction", "write_transaction", "all_tables", "start", "stop", "is_sqlite",
           "is_unavailable", "unavailable_exception_types", "RETRY_AFTER_SECONDS"]

SQLITE_TIMEOUT = 30.0
RETRY_AFTER_SECONDS = 5
"""What a request that met an unreachable database tells the client to wait (``Retry-After``)."""

_engine: Engine | None = None
_extra_tables: list[type[Table]] = []


def all_tables() -> list[type[Table]]:
    """The tables of every Piccolo app in ``core.piccolo_conf.APP_REGISTRY``, the migrations table and any
    tables registered with :func:`register_tables`."""
    from piccolo.apps.migrations.tables import Migration

    import core.piccolo_conf as conf

    tables: list[type[Table]] = []
    for app in conf.APP_REGISTRY.app_configs.values():  # every app in the registry, plugin apps included
        tables.extend(t for t in app.table_classes if t not in tables)
    return [*tables, Migration, *(t for t in _extra_tables if t not in tables)]


def register_tables(tables: Iterable[type[Table]]) -> None:
    """Bind extra (plugin) tables to the engine too."""
    for table in tables:
        if table not in _extra_tables:
            _extra_tables.append(table)
            if _engine is not None:
                table._meta.db = _engine


def _sqlite_path(url: str) -> Path:
    path = Path(unquote(url.removeprefix("sqlite:///"))).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


_PENDING_BEGIN = "_fq_pending_begin"
"""Attribute of an ``aiosqlite`` connection: the ``BEGIN …`` of its transaction, not yet sent."""


class _PooledTransaction(SQLiteTransaction):
    """A transaction on a connection from the engine's pool, given back (not closed) when it ends.

    Its ``BEGIN`` goes to the database thread with the transaction's first statement, in the same hop
    (:meth:`_SQLiteEngine.fetch_on`, :meth:`_SQLiteEngine.fetch_many_on`); a transaction that runs no
    statement sends neither ``BEGIN`` nor ``COMMIT``. If that ``BEGIN`` fails (``BEGIN IMMEDIATE``:
    "database is locked"), the statement's caller gets the error, and there is nothing to roll back.
    """

    __slots__ = ()

    async def begin(self) -> None:
        setattr(self.connection, _PENDING_BEGIN, f"BEGIN {self.transaction_type.value}")

    def _unbegun(self) -> bool:
        """True (and forgotten) if ``BEGIN`` was never sent: nothing ran."""
        if getattr(self.connection, _PENDING_BEGIN, None) is None:
            return False
        setattr(self.connection, _PENDING_BEGIN, None)
        return True

    async def commit(self) -> None:
        if self._unbegun():
            self._committed = True
            return
        await super().commit()

    async def rollback(self) -> None:
        if self._unbegun():
            self._rolled_back = True
            return
        await super().rollback()

    async def savepoint(self, name: str | None = None) -> Any:
        await _send_pending_begin(self.connection)
        return await super().savepoint(name)

    async def get_connection(self) -> Any:
        return await self.engine.acquire()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()  # only noted here: sent with the first statement
        except BaseException:
            await self.engine.release(self.connection, reuse=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        clean = False
        try:
            if exception:
                if not self._rolled_back:  # the caller may have rolled back already
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            clean = True
        finally:
            self.engine.current_transaction.reset(self.context)
            await self.engine.release(self.connection, reuse=clean)
        return exception is None


async def _send_pending_begin(connection: Any) -> None:
    begin = getattr(connection, _PENDING_BEGIN, None)
    if begin is not None:
        await connection.execute(begin)
        setattr(connection, _PENDING_BEGIN, None)


class _SQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with two changes for pages that run twenty statements:

    - **a connection pool**, between :func:`start` ``(pool=True)`` and :func:`stop` (the app's
      lifetime; ``FENGQIAO_DB_POOL``). Piccolo opens a new ``aiosqlite`` connection — a new thread and
      a new SQLite handle — for every transaction and for every statement outside one; that costs
      about 3 ms, more than all the case page's reads together. Connections are kept for reuse
      instead (on the event loop that started the pool, at most :attr:`POOL_IDLE` idle), each handed
      back only when its transaction ended cleanly. The file is never replaced under them (``fengqiao restore`` writes
      through SQLite's backup API).
    - **one thread hop per statement.** Inside a transaction Piccolo sends ``PRAGMA foreign_keys = 1``
      before every statement (the connection got it when it was opened; inside a transaction it is a
      no-op anyway) and then executes, fetches and closes the cursor in three more hops.
    """

    POOL_IDLE = 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[Any] = []

    def start_pool(self) -> None:
        self._pool_loop = asyncio.get_running_loop()

    async def acquire(self) -> Any:
        idle = self._idle if self._pool_loop is asyncio.get_running_loop() else None
        while idle:
            connection = idle.pop()
            if connection._running and connection._connection is not None:  # thread alive, handle open
                return connection
        return await self.get_connection()

    async def release(self, connection: Any, *, reuse: bool = True) -> None:
        if (reuse and self._pool_loop is asyncio.get_running_loop() and len(self._idle) < self.POOL_IDLE
                and not connection.in_transaction):
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_pool(self) -> None:
        """Stop pooling and close the idle connections (``core.db.stop``)."""
        self._pool_loop = None
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_existing_connection(self, connection: Any, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: Any = None) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # pragma: no cover - old SQLite
            await _send_pending_begin(connection)
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        return await self.fetch_on(connection, query, args or [])

    @staticmethod
    async def fetch_on(connection: Any, query: str, args: list[Any]) -> list[dict[str, Any]]:
        """Rows of ``query`` (``?`` placeholders) on ``connection`` as dicts, in one thread hop (with
        the transaction's ``BEGIN`` if it is still to be sent)."""
        if getattr(connection, _PENDING_BEGIN, None) is not None:
            rows = await _SQLiteEngine.fetch_many_on(connection, [(query, args)])
            if rows is not None:
                return rows[0]
            await _send_pending_begin(connection)
        connection.row_factory = dict_factory
        return list(await connection.execute_fetchall(query, args))

    @staticmethod
    async def fetch_many_on(connection: Any, statements: list[tuple[str, list[Any]]]) -> list[list[dict[str, Any]]] | None:
        """The rows of each ``(query, args)`` on ``connection``, all run in one hop to its thread (after
        the transaction's ``BEGIN`` if it is still to be sent); ``None`` if this aiosqlite has no way to
        run a function there (then the caller runs them one by one)."""
        run_in_thread, raw = getattr(connection, "_execute", None), getattr(connection, "_conn", None)
        if run_in_thread is None or raw is None:  # pragma: no cover - an aiosqlite without these
            await _send_pending_begin(connection)
            return None
        connection.row_factory = dict_factory

        def run() -> list[list[dict[str, Any]]]:
            begin = getattr(connection, _PENDING_BEGIN, None)
            if begin is not None:
                raw.execute(begin).close()  # raises (locked …) with the transaction still unbegun
                setattr(connection, _PENDING_BEGIN, None)
            out = []
            for query, args in statements:
                cursor = raw.execute(query, args)
                try:
                    out.append(cursor.fetchall())
                finally:
                    cursor.close()
            return out

        return await run_in_thread(run)

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None, query_type: str = "generic",
                                     table: Any = None) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # pragma: no cover - old SQLite
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self.acquire()
        clean = False
        try:
            connection.row_factory = dict_factory
            rows = list(await connection.execute_fetchall(query, args or []))
            await connection.commit()
            clean = True
            return rows
        finally:
            await self.release(connection, reuse=clean)


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = _sqlite_path(url)
        con = sqlite3.connect(path)
        try:
            con.execute("PRAGMA journal_mode=WAL")  # persists in the file
        finally:
            con.close()
        return _SQLiteEngine(path=str(path), timeout=SQLITE_TIMEOUT)
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"unsupported database URL scheme: {parsed.scheme!r}")
    return PostgresEngine(config={"dsn": url}, log_queries=False)


def configure(url: str) -> Engine:
    """Create the engine for ``url`` and bind all tables (and ``core.piccolo_conf.DB``) to it."""
    global _engine
    os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
    _engine = build_engine(url)
    import core.piccolo_conf as conf

    conf.DB = _engine
    for table in all_tables():
        table._meta.db = _engine
    return _engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database not configured: call core.db.configure(url) first")
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


@asynccontextmanager
async def write_transaction(*, advisory_lock: int | None = None) -> AsyncIterator[object]:
    """A transaction for a state change: ``BEGIN IMMEDIATE`` on SQLite, a plain one on PostgreSQL.

    ``advisory_lock``: on PostgreSQL, also take ``pg_advisory_xact_lock(advisory_lock)`` first (writers
    of one chain, such as the audit log's, queue up on it) — begun and locked in one round trip. On
    SQLite ``BEGIN IMMEDIATE`` already lets one writer in at a time. Nested use joins the outer
    transaction (and takes the lock there).
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate) as txn:
            yield txn
    elif advisory_lock is not None and db.current_transaction.get() is None:
        async with _LockedTransaction(engine=db, lock=advisory_lock) as txn:
            yield txn
    else:
        async with db.transaction() as txn:
            if advisory_lock is not None:
                await db.current_transaction.get().connection.execute(
                    f"SELECT pg_advisory_xact_lock({int(advisory_lock)})")
            yield txn


class _LockedTransaction(PostgresTransaction):
    """Piccolo's PostgreSQL transaction begun as ``BEGIN; SELECT pg_advisory_xact_lock(<key>)`` — one
    round trip, where the transaction and the lock took two — and ended with plain ``COMMIT`` /
    ``ROLLBACK``."""

    __slots__ = ("lock",)

    def __init__(self, engine: PostgresEngine, lock: int) -> None:
        super().__init__(engine=engine, allow_nested=False)
        self.lock = int(lock)

    async def begin(self) -> None:
        try:
            await self.connection.execute(f"BEGIN; SELECT pg_advisory_xact_lock({self.lock})")
        except BaseException:  # not entered, so not exited: end the transaction, hand the connection back
            try:
                if self.connection.is_in_transaction():
                    await self.connection.execute("ROLLBACK")
            finally:
                if self.engine.pool:
                    await self.engine.pool.release(self.connection)
                else:
                    await self.connection.close()
            raise

    async def commit(self) -> None:
        await self.connection.execute("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        await self.connection.execute("ROLLBACK")
        self._rolled_back = True


@asynccontextmanager
async def read_transaction() -> AsyncIterator[None]:
    """Run a page's reads on one connection in one read-only snapshot (SQLite: a deferred
    transaction in WAL mode; PostgreSQL: REPEATABLE READ, READ ONLY). On SQLite this also means one
    connection instead of one per query. Joins an enclosing transaction."""
    db = engine()
    if db.current_transaction.get() is not None:
        yield
        return
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.deferred):
            yield
    else:
        async with _ReadOnlyTransaction(engine=db):
            yield


class _ReadOnlyTransaction(PostgresTransaction):
    """Piccolo's PostgreSQL transaction begun as ``BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY``:
    one statement, where ``BEGIN`` and then ``SET TRANSACTION`` took two round trips."""

    async def begin(self) -> None:
        self.transaction = self.connection.transaction(isolation="repeatable_read", readonly=True)
        await self.transaction.start()


def unavailable_exception_types() -> tuple[type[BaseException], ...]:
    """Exception classes that *may* mean "the database is unreachable right now" (the web layer
    routes them to one handler, which asks :func:`is_unavailable`)."""
    import asyncpg

    return (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
            asyncpg.exceptions.InsufficientResourcesError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError,
            sqlite3.OperationalError)


_UNAVAILABLE_MESSAGES = ("connection is closed", "connection was closed", "pool is closed", "pool is closing",
                         "database is locked", "unable to open database", "disk i/o error")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means the database cannot be reached or is restarting —
    a condition to answer with 503 and ``Retry-After`` rather than 500. Programming errors (bad SQL,
    constraint violations, misuse of a connection) are not."""
    import socket

    import asyncpg

    seen = 0
    while exc is not None and seen < 6:
        if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.exceptions.CannotConnectNowError
                      | asyncpg.exceptions.AdminShutdownError | asyncpg.exceptions.CrashShutdownError
                      | asyncpg.exceptions.TooManyConnectionsError | ConnectionError | TimeoutError
                      | socket.gaierror):
            return True
        if isinstance(exc, asyncpg.InternalClientError) and "another operation" in str(exc):
            return True  # a connection torn down mid-operation; the pool terminates and replaces it
        if isinstance(exc, asyncpg.InterfaceError | sqlite3.OperationalError):
            if any(m in str(exc).lower() for m in _UNAVAILABLE_MESSAGES):
                return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    return False


async def start(pool: bool = True) -> None:
    """Open the connection pool (PostgreSQL: asyncpg's; SQLite: reuse of ``aiosqlite`` connections)."""
    db = engine()
    if isinstance(db, _SQLiteEngine) and pool:
        db.start_pool()
    if pool and isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=20, reset=_keep_session)


async def _keep_session(connection: Any) -> None:
    """What asyncpg's pool runs when a connection comes back, after it has rolled back any transaction
    left open: nothing more. Its default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` — a round trip on every release, two per case view — to undo session state this
    application never creates: it changes settings only with ``SET LOCAL``, takes advisory locks only
    per transaction, and uses no ``LISTEN`` and no cursors outside a transaction."""


async def stop() -> None:
    db = engine()
    if isinstance(db, _SQLiteEngine):
        await db.close_pool()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()
