"""The SQLite connection pool of ``core.db`` (Piccolo opens a connection per transaction otherwise).

Behaviour that matters: a connection is reused only after its transaction ended cleanly and outside
any transaction, a failed transaction's writes are gone for the next user of the connection,
concurrent transactions get their own connections, and ``stop`` closes what the pool kept.
"""

from __future__ import annotations

import asyncio
import contextvars
from pathlib import Path

import pytest

from core import db
from core.migrate import migrate


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'pool.sqlite3'}"
    db.configure(url)
    asyncio.run(migrate())
    return url


def test_pool_reuses_clean_connections_and_drops_failed_work(sqlite_url: str) -> None:
    from core.tables import Organisation

    async def go() -> None:
        engine = db.engine()
        await db.start(pool=True)
        try:
            async with db.read_transaction():
                first = engine.current_transaction.get().connection
            async with db.read_transaction():
                assert engine.current_transaction.get().connection is first  # reused
            with pytest.raises(RuntimeError):
                async with db.write_transaction():
                    await Organisation.insert(Organisation(code="rolled-back", name="回滚的组织"))
                    assert engine.current_transaction.get().connection is first
                    raise RuntimeError("fail after writing")
            assert not first.in_transaction  # handed back rolled back
            async with db.read_transaction():
                assert engine.current_transaction.get().connection is first
                rows = await Organisation.raw("SELECT id FROM core_organisation WHERE code = {}", "rolled-back")
            assert rows == []
            # a statement outside a transaction borrows the pooled connection too, and gives it back
            assert (await Organisation.raw("SELECT COUNT(*) AS n FROM core_organisation"))[0]["n"] == 0
            assert engine._idle == [first]

            # two transactions at once: two connections, both kept afterwards
            seen = []
            gate = asyncio.Event()

            async def reader() -> None:
                async with db.read_transaction():
                    seen.append(engine.current_transaction.get().connection)
                    await gate.wait()

            tasks = [asyncio.create_task(reader()) for _ in range(2)]
            while len(seen) < 2:
                await asyncio.sleep(0.01)
            gate.set()
            await asyncio.gather(*tasks)
            assert seen[0] is not seen[1]
            assert len(engine._idle) == 2
        finally:
            await db.stop()
        assert engine._idle == []
        assert not first._running  # closed by stop

    asyncio.run(go())


def test_without_start_every_transaction_gets_a_fresh_connection(sqlite_url: str) -> None:
    async def go() -> None:
        engine = db.engine()
        async with db.read_transaction():
            first = engine.current_transaction.get().connection
        async with db.read_transaction():
            assert engine.current_transaction.get().connection is not first
        assert engine._idle == [] and not first._running  # closed, as Piccolo does

    asyncio.run(go())


def test_read_transaction_is_one_read_only_snapshot(database_url: str) -> None:
    """A page's reads see one snapshot: a write committed meanwhile by someone else is not seen
    until the next transaction; on PostgreSQL the transaction also refuses writes."""
    from core.tables import Organisation

    async def go() -> None:
        await db.start(pool=True)
        try:
            count = "SELECT COUNT(*) AS n FROM core_organisation"
            async with db.read_transaction():
                assert (await Organisation.raw(count))[0]["n"] == 0

                async def other_writer() -> None:  # a fresh context: not inside this transaction
                    async with db.write_transaction():
                        await Organisation.insert(Organisation(code="later", name="后来的组织"))

                await asyncio.create_task(other_writer(), context=contextvars.Context())
                assert (await Organisation.raw(count))[0]["n"] == 0
            async with db.read_transaction():
                assert (await Organisation.raw(count))[0]["n"] == 1
            if not db.is_sqlite():
                import asyncpg

                with pytest.raises(asyncpg.exceptions.ReadOnlySQLTransactionError):
                    async with db.read_transaction():
                        await Organisation.insert(Organisation(code="refused", name="只读"))
                async with db.read_transaction():
                    iso = await Organisation.raw("SHOW transaction_isolation")
                assert iso[0]["transaction_isolation"] == "repeatable read"
        finally:
            await db.stop()

    asyncio.run(go())


def test_postgresql_pool_hands_connections_back_clean_without_a_reset_round_trip(database_url: str) -> None:
    """The asyncpg pool skips its session reset on release (``core.db._keep_session``): what must still
    hold is that a connection comes back out of any transaction — a failed one is rolled back, its
    writes gone, its transaction-local settings gone — and that a release sends no statement."""
    from core.tables import Organisation

    if db.is_sqlite():
        pytest.skip("PostgreSQL's pool")

    async def go() -> None:
        await db.start(pool=True)
        pool = db.engine().pool
        try:
            assert pool._maxsize == 20 and pool._reset is db._keep_session
            with pytest.raises(RuntimeError):
                async with db.write_transaction():
                    await Organisation.raw("SET LOCAL statement_timeout = 1234")
                    await Organisation.insert(Organisation(code="gone", name="回滚"))
                    raise RuntimeError("fails after writing")
            async with pool.acquire() as con:  # min_size 1: the connection the failed transaction had
                assert not con.is_in_transaction()
                assert await con.fetchval("SHOW statement_timeout") == "0"
                assert await con.fetchval("SELECT COUNT(*) FROM core_organisation WHERE code = 'gone'") == 0
                before = con._protocol.queries_count
            async with pool.acquire() as con:
                assert con._protocol.queries_count == before  # the release above sent nothing
        finally:
            await db.stop()

    asyncio.run(go())


def test_sqlite_begin_travels_with_the_first_statement(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SQLite transaction sends its ``BEGIN`` in the same hop to the database thread as its first
    statement; one that runs nothing sends neither ``BEGIN`` nor ``COMMIT``. Savepoints, rollbacks
    and the snapshot still behave: the first read fixes what the transaction sees."""
    import aiosqlite.core

    from core.sql import fetch
    from core.tables import Organisation

    hops: list[str] = []
    original = aiosqlite.core.Connection._execute

    async def counting(self: object, fn: object, *args: object, **kwargs: object) -> object:
        hops.append(getattr(fn, "__name__", repr(fn)) + (f":{args[0]}" if args and isinstance(args[0], str) else ""))
        return await original(self, fn, *args, **kwargs)  # type: ignore[arg-type]

    count = "SELECT COUNT(*) AS n FROM core_organisation"

    async def go() -> None:
        await db.start(pool=True)
        try:
            async with db.read_transaction():  # warm the pool: a connection opened outside the count
                await fetch(count)
            monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
            async with db.read_transaction():
                pass
            assert hops == [], hops  # nothing sent at all
            async with db.read_transaction():
                assert (await fetch(count))[0]["n"] == 0
            assert hops == ["run", "execute:COMMIT"], hops
            hops.clear()
            with pytest.raises(RuntimeError):
                async with db.write_transaction() as txn:
                    await Organisation.insert(Organisation(code="x", name="回滚"))
                    point = await txn.savepoint()
                    await Organisation.insert(Organisation(code="y", name="回滚到保存点"))
                    await point.rollback_to()
                    raise RuntimeError("after writing")
            assert hops[0] == "run" and hops[-1] == "execute:ROLLBACK", hops
            async with db.write_transaction() as txn:
                point = await txn.savepoint()  # first thing in the transaction: BEGIN goes first
                await Organisation.insert(Organisation(code="z", name="保存"))
                await point.release()
            async with db.read_transaction():
                assert [r["code"] for r in await fetch("SELECT code FROM core_organisation")] == ["z"]
        finally:
            await db.stop()

    asyncio.run(go())
