"""Database engine set-up for SQLite (default) and PostgreSQL.

One function, :func:`configure`, builds the engine from settings and binds every table to it, so
the same process never talks to two databases by accident (a Piccolo trap: tables otherwise bind
to whatever ``piccolo_conf`` said at import time).

SQLite runs in WAL mode with a 30 s busy timeout, and every write transaction is
``BEGIN IMMEDIATE`` (:func:`write_transaction`): a deferred transaction that reads before it writes
fails with "database is locked" under concurrent writers.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

__all__ = ["configure", "engine", "read_transaction", "write_transaction", "all_tables", "start", "stop", "is_sqlite"]

SQLITE_TIMEOUT = 30.0

_engine: Engine | None = None
_extra_tables: list[type[Table]] = []


def all_tables() -> list[type[Table]]:
    """Core tables, the handoff app's tables, the migrations table and any tables registered by plugin apps."""
    from piccolo.apps.migrations.tables import Migration

    from core.documents.tables import DOCUMENTS_TABLES
    from core.handoff.tables import HANDOFF_TABLES
    from core.statistics.tables import STATS_TABLES
    from core.tables import CORE_TABLES

    return [*CORE_TABLES, *HANDOFF_TABLES, *DOCUMENTS_TABLES, *STATS_TABLES, Migration, *_extra_tables]


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


def build_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        path = _sqlite_path(url)
        con = sqlite3.connect(path)
        try:
            con.execute("PRAGMA journal_mode=WAL")  # persists in the file
        finally:
            con.close()
        return SQLiteEngine(path=str(path), timeout=SQLITE_TIMEOUT)
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
async def write_transaction() -> AsyncIterator[object]:
    """A transaction for a state change: ``BEGIN IMMEDIATE`` on SQLite, a plain one on PostgreSQL.

    Nested use joins the outer transaction.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate) as txn:
            yield txn
    else:
        async with db.transaction() as txn:
            yield txn


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
        async with db.transaction():
            await db.run_ddl("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield


async def start(pool: bool = True) -> None:
    """Open the PostgreSQL connection pool (no-op on SQLite)."""
    db = engine()
    if pool and isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=20)


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()
