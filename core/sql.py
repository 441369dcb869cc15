"""Plain-SQL reads for the hot pages (the case page reads some twenty row sets per view).

Building a Piccolo ``select`` with joined columns costs about 2 ms of Python per query (measured: the
parties of a case, 2.1 ms through Piccolo against 0.2 ms as the same plain SQL), so the case page's
reads use these helpers instead. They run through the same engine and transaction as Piccolo
(``Table.raw``), so rows come back with the same Python types (SQLite's converters are keyed by the
declared column type, which ``t.*`` and plain column references keep). JSON columns are decoded only
where a caller asks for it, as Piccolo's ``output(load_json=True)`` did.

The SQL of :func:`rows_of` is generated from the table's Piccolo metadata once per shape and cached.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, NamedTuple

from piccolo.columns import JSON, JSONB
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString
from piccolo.table import Table

from core.db import _SQLiteEngine

__all__ = ["Read", "fetch", "fetch_many", "fetch_one", "prefetched", "rows_of", "rows_read",
           "json_columns"]


@lru_cache(maxsize=1)
def _runner() -> type[Table]:
    """A table to run statements through (any table: they all share the engine)."""
    from core.tables import Case

    return Case


def _decode(rows: list[dict[str, Any]], names: Iterable[str]) -> list[dict[str, Any]]:
    names = tuple(names)
    if names:
        for row in rows:
            for name in names:
                value = row.get(name)
                if isinstance(value, str | bytes):
                    row[name] = json.loads(value)
    return rows


@lru_cache(maxsize=1024)
def _compiled(sql: str, postgres: bool) -> str:
    """``sql`` with its ``{}`` placeholders (as in ``Table.raw``) as the driver's: ``$1``… or ``?``."""
    out, n = [], 0
    for literal, field, _spec, _conversion in string.Formatter().parse(sql):
        out.append(literal)
        if field is not None:
            n += 1
            out.append(f"${n}" if postgres else "?")
    return "".join(out)


async def fetch(sql: str, *args: Any, load_json: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Rows of ``sql`` (``{}`` placeholders, as in ``Table.raw``) as dicts; ``load_json`` names the
    columns to decode from JSON text.

    Inside a transaction the statement goes straight to the transaction's connection, as Piccolo
    would send it but without building a ``Raw`` query and its ``QueryString`` (~40 µs a statement;
    the case page sends fifteen); outside one, through ``Table.raw`` (its pool or a new connection)."""
    ready = _ready.get()
    if ready is not None:
        load_json = tuple(load_json)
        rows = ready.get(_key(sql, args, load_json))  # type: ignore[arg-type]
        if rows is not None:
            return [dict(row) for row in rows]
    db = _runner()._meta.db
    txn = db.current_transaction.get()
    if (txn is None or not isinstance(db, PostgresEngine | _SQLiteEngine)
            or any(isinstance(a, QueryString) for a in args)):
        return _decode(await _runner().raw(sql, *args), load_json)
    if isinstance(db, PostgresEngine):
        rows = [dict(r.items()) for r in await txn.connection.fetch(_compiled(sql, True), *args)]
    else:
        rows = await db.fetch_on(txn.connection, _compiled(sql, False), list(args))
    return _decode(rows, load_json)


_ready: ContextVar[dict[tuple[Any, ...], list[dict[str, Any]]] | None] = ContextVar("fq_prefetched", default=None)


def _key(sql: str, args: Iterable[Any], load_json: Iterable[str]) -> tuple[Any, ...] | None:
    key = (sql, tuple(args), tuple(load_json))
    try:
        hash(key)
    except TypeError:  # a value that cannot be a key (a list …): never prefetched
        return None
    return key


@contextmanager
def prefetched(reads: Sequence[Read], rows: Sequence[list[dict[str, Any]]]) -> Iterator[None]:
    """Within this block, a :func:`fetch` (or :func:`fetch_many`, :func:`rows_of` …) of one of ``reads``
    — the same statement text, values and JSON columns — gets a copy of its ``rows`` (read already, in
    a batch, in the same read transaction) instead of asking the database. The case page reads its
    panels' statements (``fengqiao_case_page_reads``) together with its own this way."""
    ready = dict(_ready.get() or {})
    for read, result in zip(reads, rows, strict=True):
        key = _key(read.sql, read.args, read.load_json)
        if key is not None:
            ready[key] = result
    token = _ready.set(ready)
    try:
        yield
    finally:
        _ready.reset(token)


class Read(NamedTuple):
    """One statement of a batch (:func:`fetch_many`): ``{}`` placeholders, their values, and the
    columns to decode from JSON text. (A named tuple: a case page builds some twenty.)"""

    sql: str
    args: tuple[Any, ...] = ()
    load_json: tuple[str, ...] = ()


_pg_columns: dict[str, tuple[str, ...]] = {}


async def _columns_of(connection: Any, sql: str) -> tuple[str, ...]:
    """The result columns of ``sql`` (PostgreSQL; asked of the server once per statement text)."""
    names = _pg_columns.get(sql)
    if names is None:
        if len(_pg_columns) > 2048:  # statement texts are generated from a fixed set; this is only a bound
            _pg_columns.clear()
        statement = await connection.prepare(sql)
        names = _pg_columns[sql] = tuple(a.name for a in statement.get_attributes())
    return names


async def _fetch_many_pg(connection: Any, reads: Sequence[Read]) -> list[list[dict[str, Any]]]:
    """One statement, one round trip: ``SELECT ARRAY(SELECT q FROM (<read>) q), …`` — each read's rows
    come back as an array of records, which asyncpg decodes with the same codecs as a plain result
    (timestamps, dates, numerics, JSON as text …); their column names are the read's own, asked once."""
    names = [await _columns_of(connection, _compiled(r.sql, True)) for r in reads]
    combined = "SELECT " + ", ".join(f"ARRAY(SELECT q FROM ({r.sql}) q)" for r in reads)
    row = await connection.fetchrow(_compiled(combined, True), *(a for r in reads for a in r.args))
    return [[dict(zip(cols, record, strict=True)) for record in records] for cols, records in zip(names, row, strict=True)]


async def fetch_many(*reads: Read) -> list[list[dict[str, Any]]]:
    """The rows of each of ``reads``, in order — statements that do not depend on each other's results.

    Inside a transaction they are sent together. SQLite: to the connection's thread in one hop — each
    hop (queue, thread wake-up, result handed back to the event loop) costs about 100 µs of CPU, more
    than most of the case page's statements take to run. PostgreSQL: as one statement, in one round
    trip (:func:`_fetch_many_pg`). Outside a transaction they run one after another, exactly as
    :func:`fetch` would run them."""
    ready = _ready.get()
    if ready is not None:
        found = [ready.get(_key(r.sql, r.args, r.load_json)) for r in reads]  # type: ignore[arg-type]
        found = [None if rows is None else [dict(row) for row in rows] for rows in found]
        if any(rows is not None for rows in found):
            rest = iter(await fetch_many(*(r for r, rows in zip(reads, found, strict=True) if rows is None)))
            return [rows if rows is not None else next(rest) for rows in found]
    db = _runner()._meta.db
    txn = db.current_transaction.get()
    if txn is not None and len(reads) > 1 and not any(isinstance(a, QueryString) for r in reads for a in r.args):
        if isinstance(db, PostgresEngine):
            results = await _fetch_many_pg(txn.connection, reads)
        elif isinstance(db, _SQLiteEngine):
            results = await db.fetch_many_on(txn.connection, [(_compiled(r.sql, False), list(r.args)) for r in reads])
        else:  # pragma: no cover - the two engines this project runs on
            results = None
        if results is not None:
            return [_decode(rows, r.load_json) for rows, r in zip(results, reads, strict=True)]
    return [await fetch(r.sql, *r.args, load_json=r.load_json) for r in reads]


async def fetch_one(sql: str, *args: Any, load_json: Iterable[str] = ()) -> dict[str, Any] | None:
    rows = await fetch(sql, *args, load_json=load_json)
    return rows[0] if rows else None


@lru_cache(maxsize=256)
def json_columns(table: type[Table]) -> tuple[str, ...]:
    """Names of ``table``'s JSON / JSONB columns."""
    return tuple(c._meta.db_column_name for c in table._meta.columns if isinstance(c, JSON | JSONB))


@lru_cache(maxsize=256)
def _rows_sql(table: type[Table], key: str, user_names: tuple[tuple[str, str], ...], order_by: str,
              limit: int | None) -> str:
    t = table._meta.tablename
    cols = "t.*"
    joins = []
    for i, (alias, fk) in enumerate(user_names):
        cols += f', u{i}.display_name AS "{alias}"'
        joins.append(f'LEFT JOIN core_user u{i} ON u{i}.id = t."{fk}"')
    sql = f'SELECT {cols} FROM "{t}" t {" ".join(joins)} WHERE t."{key}" = {{}}'
    if order_by:
        sql += " ORDER BY " + ", ".join(f't."{c}"' for c in order_by.split(","))
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql


def rows_read(table: type[Table], key: str, value: Any, *, user_names: Sequence[tuple[str, str]] = (),
              order_by: str = "id", load_json: bool = False, limit: int | None = None) -> Read:
    """Every column of ``table``'s rows whose ``key`` column equals ``value``, ordered by ``order_by``
    (comma-separated column names); ``user_names`` adds ``(alias, fk column)`` pairs: the display name
    of the user a foreign key points to (``NULL`` when it is empty). As a :class:`Read`, to batch."""
    return Read(_rows_sql(table, key, tuple(user_names), order_by, limit), (value,),
                json_columns(table) if load_json else ())


async def rows_of(table: type[Table], key: str, value: Any, *, user_names: Sequence[tuple[str, str]] = (),
                  order_by: str = "id", load_json: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """The rows of :func:`rows_read`, read now."""
    r = rows_read(table, key, value, user_names=user_names, order_by=order_by, load_json=load_json, limit=limit)
    return await fetch(r.sql, *r.args, load_json=r.load_json)
