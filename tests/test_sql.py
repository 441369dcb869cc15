"""``core.sql``: plain-SQL reads give the same rows inside a transaction (straight to its connection)
as outside one (through Piccolo's ``Table.raw``), with the same Python types, on both engines."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

from core import db
from core.sql import _compiled, fetch, fetch_one


def test_placeholders_become_the_drivers() -> None:
    sql = "SELECT {} AS a FROM t WHERE x = {} AND y IN ({}, {})"
    assert _compiled(sql, False) == "SELECT ? AS a FROM t WHERE x = ? AND y IN (?, ?)"
    assert _compiled(sql, True) == "SELECT $1 AS a FROM t WHERE x = $2 AND y IN ($3, $4)"


def test_rows_inside_and_outside_a_transaction_agree(world: Any, make_case: Any, arun: Any) -> None:
    from core.tables import Case

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    arun(Case.update({Case.amount: decimal.Decimal("1234.50")}).where(Case.id == case["id"]))
    sql = "SELECT id, number, amount, registered_at, deadline, intake, {} AS label FROM core_case WHERE id = {}"

    async def both() -> tuple[Any, Any]:
        outside = await fetch(sql, "标签", case["id"], load_json=["intake"])
        async with db.read_transaction():
            inside = await fetch(sql, "标签", case["id"], load_json=["intake"])
            missing = await fetch_one(sql, "x", -1)
        assert missing is None
        return outside, inside

    outside, inside = arun(both())
    assert outside == inside and len(inside) == 1
    row = inside[0]
    assert row["label"] == "标签" and isinstance(row["intake"], dict)
    assert isinstance(row["registered_at"], dt.datetime) and row["registered_at"].tzinfo is not None
    assert row["amount"] == decimal.Decimal("1234.50")


def test_a_batch_gives_what_its_statements_give_one_by_one(world: Any, make_case: Any, arun: Any) -> None:
    """``fetch_many`` returns each statement's rows, in order, with the same types as ``fetch`` — in a
    transaction (SQLite: one hop for the whole batch) and outside one; an empty result stays empty."""
    from core.sql import Read, fetch_many

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    reads = (Read("SELECT id, number, registered_at, intake FROM core_case WHERE id = {}", (case["id"],), ("intake",)),
             Read('SELECT id, type, data FROM core_case_event WHERE "case" = {} ORDER BY id', (case["id"],), ("data",)),
             Read("SELECT id FROM core_case WHERE id = {}", (-1,)),
             Read("SELECT {} AS a, CAST({} AS INTEGER) AS b", ("甲", 2)))

    async def run() -> tuple[Any, Any, Any]:
        one_by_one = [await fetch(r.sql, *r.args, load_json=r.load_json) for r in reads]
        outside = await fetch_many(*reads)
        async with db.read_transaction():
            inside = await fetch_many(*reads)
        return one_by_one, outside, inside

    one_by_one, outside, inside = arun(run())
    assert inside == outside == one_by_one
    assert len(inside[1]) >= 1 and isinstance(inside[1][0]["data"], dict)
    assert isinstance(inside[0][0]["intake"], dict) and inside[0][0]["registered_at"].tzinfo is not None
    assert inside[2] == [] and inside[3] == [{"a": "甲", "b": 2}]


def test_a_batch_is_one_hop_to_the_sqlite_thread(world: Any, arun: Any, monkeypatch: Any) -> None:
    """On SQLite the batch runs in the connection's thread in one go: the aiosqlite private API it uses
    (``Connection._execute``) still exists and is what runs it — if an upgrade removed it, this fails
    rather than the case page silently going back to a hop per statement."""
    import aiosqlite.core

    from core.sql import Read, fetch_many

    if not db.is_sqlite():
        pytest.skip("PostgreSQL has no database thread")
    hops: list[str] = []
    original = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)

    async def run() -> tuple[list[Any], list[str]]:
        async with db.read_transaction():
            hops.clear()
            rows = await fetch_many(*(Read("SELECT CAST({} AS INTEGER) AS n", (i,)) for i in range(6)))
            return rows, list(hops)

    rows, batch_hops = arun(run())
    assert [r[0]["n"] for r in rows] == list(range(6))
    assert batch_hops == ["run"], batch_hops


def test_a_batch_is_one_round_trip_to_postgresql(world: Any, make_case: Any, arun: Any, monkeypatch: Any) -> None:
    """On PostgreSQL the batch is one statement: after the first time (which asks the server for each
    read's column names), one ``fetchrow`` and nothing else — with rows in each read's own order."""
    import asyncpg.connection

    from core.sql import Read, fetch_many

    if db.is_sqlite():
        pytest.skip("SQLite batches in its database thread (test above)")
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    calls: list[str] = []
    for name in ("fetch", "fetchrow", "fetchval", "execute", "prepare"):
        original = getattr(asyncpg.connection.Connection, name)

        def counting(self: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(asyncpg.connection.Connection, name, counting)
    reads = (Read("SELECT n FROM generate_series(5, 1, -1) AS n WHERE n > {} ORDER BY n DESC", (1,)),
             Read('SELECT id, data FROM core_case_event WHERE "case" = {} ORDER BY id DESC', (case["id"],), ("data",)))

    async def run() -> tuple[list[Any], list[str]]:
        async with db.read_transaction():
            await fetch_many(*reads)  # asks for the column names
            calls.clear()
            rows = await fetch_many(*reads)
            return rows, list(calls)

    rows, batch_calls = arun(run())
    assert batch_calls == ["fetchrow"], batch_calls
    assert [r["n"] for r in rows[0]] == [5, 4, 3, 2]
    ids = [r["id"] for r in rows[1]]
    assert ids == sorted(ids, reverse=True) and len(ids) >= 1 and isinstance(rows[1][0]["data"], dict)


def test_prefetched_rows_are_handed_out_as_copies(world: Any, make_case: Any, arun: Any) -> None:
    """Inside ``prefetched`` a read of one of the named statements (same text, values, JSON columns) gets
    the batch's rows without asking the database — each time a fresh copy, so a caller that adds keys
    does not change what the next one gets; anything else, or outside the block, goes to the database."""
    from core.sql import Read, fetch_many, prefetched, rows_of
    from core.tables import CaseEvent

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    named = Read("SELECT COUNT(*) AS n FROM core_case WHERE id = {}", (case["id"],))
    other = Read("SELECT COUNT(*) AS n FROM core_case WHERE id = {}", (-1,))

    async def run() -> tuple[Any, ...]:
        async with db.read_transaction():
            with prefetched([named], [[{"n": 99}]]):  # not what the database holds: proves where it came from
                first = await fetch(named.sql, *named.args)
                first[0]["added"] = True
                second = await fetch_one(named.sql, *named.args)
                mixed = await fetch_many(other, named)
                events = await rows_of(CaseEvent, "case", case["id"])
            after = await fetch(named.sql, *named.args)
        return first, second, mixed, events, after

    first, second, mixed, events, after = arun(run())
    assert first == [{"n": 99, "added": True}] and second == {"n": 99}
    assert [int(rows[0]["n"]) for rows in mixed] == [0, 99]
    assert len(events) >= 1 and int(after[0]["n"]) == 1
