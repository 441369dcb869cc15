"""The hash-chained audit log: what is recorded, and that tampering is caught by ``verify``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.audit import record, verify
from core.tables import AuditEntry


def _entries(arun):
    return arun(AuditEntry.select(AuditEntry.seq, AuditEntry.actor, AuditEntry.action, AuditEntry.target)
                .order_by(AuditEntry.seq))


def test_logins_reads_changes_and_denials_are_recorded(client, world, login, csrf, make_case, arun):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    other = make_case(world["rooms"]["c"], world["users"]["med-c"])
    client.get("/login")
    client.post("/login", data={"username": "med-a", "password": "wrong-password", "_csrf_token": csrf(client)})
    login(client, "med-a")
    client.get(f"/cases/{case['id']}")
    client.get(f"/cases/{other['id']}")  # another organisation's case: 404
    client.post(f"/cases/{case['id']}/transitions/accept", data={"_csrf_token": csrf(client)})
    client.post(f"/cases/{case['id']}/transitions/archive", data={"_csrf_token": csrf(client)})  # wrong state
    client.post("/logout", data={"_csrf_token": csrf(client)})
    got = [(e["actor"], e["action"], e["target"]) for e in _entries(arun)]
    assert got == [
        ("med-a", "login.failed", ""),
        ("med-a", "login", ""),
        ("med-a", "case.read", f"GET /cases/{case['id']}"),
        ("med-a", "denied", f"GET /cases/{other['id']}"),
        ("med-a", "change", f"POST /cases/{case['id']}/transitions/accept"),
        ("med-a", "case.read", f"GET /cases/{case['id']}"),  # the 303 after the change is followed
        ("med-a", "refused", f"POST /cases/{case['id']}/transitions/archive"),
        ("med-a", "logout", ""),
    ]
    assert arun(verify()).ok and arun(verify()).checked == 8
    assert "110101199003071233" not in str(arun(AuditEntry.select()))


def test_the_log_is_append_only(arun, database_url):
    arun(record("test", actor="x"))
    with pytest.raises(Exception, match="append-only"):
        arun(AuditEntry.update({AuditEntry.actor: "y"}).where(AuditEntry.seq == 1))
    with pytest.raises(Exception, match="append-only"):
        arun(AuditEntry.delete().where(AuditEntry.seq == 1))


def _drop_guard(database_url, arun):
    """What an attacker with database access would do first: remove the triggers."""
    db = AuditEntry._meta.db
    if database_url.startswith("sqlite"):
        arun(db.run_ddl("DROP TRIGGER core_audit_no_update"))
        arun(db.run_ddl("DROP TRIGGER core_audit_no_delete"))
    else:
        arun(db.run_ddl("ALTER TABLE core_audit DISABLE TRIGGER core_audit_append_only"))


@pytest.fixture
def restore_guard(database_url, arun):
    yield
    if not database_url.startswith("sqlite"):  # SQLite tests get a fresh file each time
        arun(AuditEntry._meta.db.run_ddl("ALTER TABLE core_audit ENABLE TRIGGER core_audit_append_only"))


@pytest.mark.parametrize("tamper", ["edit", "delete", "relink"])
def test_verify_finds_the_first_broken_link(arun, database_url, tamper, settings, restore_guard):
    for i in range(5):
        arun(record("case.read", actor=f"user{i}", target=f"GET /cases/{i}"))
    assert arun(verify()) == arun(verify()) and arun(verify()).ok
    _drop_guard(database_url, arun)
    if tamper == "edit":
        arun(AuditEntry.update({AuditEntry.actor: "someone-else"}).where(AuditEntry.seq == 3))
        expected = (3, "altered")
    elif tamper == "delete":
        arun(AuditEntry.delete().where(AuditEntry.seq == 2))
        expected = (2, "missing")
    else:  # recompute entry 3's own hash to hide an edit: entry 4 no longer links to it
        row = arun(AuditEntry.select().where(AuditEntry.seq == 3).first())
        arun(AuditEntry.update({AuditEntry.hash: "f" * 64}).where(AuditEntry.seq == 3))
        expected = (3, "altered")
        assert row["hash"] != "f" * 64
    result = arun(verify())
    assert not result.ok and result.broken_at == expected[0] and expected[1] in result.reason
    env = {**os.environ, "FENGQIAO_DATA_DIR": str(settings.data_dir), "FENGQIAO_DATABASE_URL": settings.database_url,
           "FENGQIAO_SECRET_KEY": settings.secret_key}
    exe = Path(sys.executable).with_name("fengqiao")
    out = subprocess.run([str(exe), "audit", "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and f"broken at entry #{expected[0]}" in out.stderr, out.stderr


def test_cli_reports_an_intact_chain(arun, settings):
    for i in range(3):
        arun(record("login", actor=f"u{i}"))
    env = {**os.environ, "FENGQIAO_DATA_DIR": str(settings.data_dir), "FENGQIAO_DATABASE_URL": settings.database_url,
           "FENGQIAO_SECRET_KEY": settings.secret_key}
    out = subprocess.run([str(Path(sys.executable).with_name("fengqiao")), "audit", "verify"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "audit chain intact: 3 entries", out.stderr


def test_concurrent_writers_keep_one_unbroken_chain(arun, database_url, monkeypatch):
    """Appends from concurrent transactions — each its own connection, and one joining an outer write
    transaction — queue up (PostgreSQL: a transaction-scoped advisory lock, taken in the same round trip
    as ``BEGIN``; SQLite: ``BEGIN IMMEDIATE``) and leave one chain with no gap and no fork."""
    import asyncio
    import contextvars

    from core import db

    sent: list[str] = []
    if not database_url.startswith("sqlite"):
        import asyncpg.connection

        original = asyncpg.connection.Connection.execute

        def execute(self, query, *args, **kwargs):
            sent.append(query)
            return original(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.connection.Connection, "execute", execute)

    async def nested(i):
        async with db.write_transaction():
            return await record("test.nested", actor=f"n{i}")

    async def go():
        await db.start(pool=True)
        try:
            tasks = [asyncio.create_task(record("test.concurrent", actor=f"w{i}"), context=contextvars.Context())
                     for i in range(12)]
            tasks += [asyncio.create_task(nested(i), context=contextvars.Context()) for i in range(3)]
            return await asyncio.gather(*tasks)
        finally:
            await db.stop()

    seqs = arun(go())
    assert sorted(seqs) == list(range(1, 16))
    result = arun(verify())
    assert result.ok and result.checked == 15
    if sent:
        lock = "BEGIN; SELECT pg_advisory_xact_lock("
        assert sum(q.startswith(lock) for q in sent) == 12, sent  # one round trip each: begun and locked
        assert sum(q.startswith("SELECT pg_advisory_xact_lock(") for q in sent) == 3  # inside the outer ones
