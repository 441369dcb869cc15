"""The bulk load's SQLite tricks leave an ordinary database behind: the same indexes, WAL, no lock."""

from __future__ import annotations

import sqlite3
from urllib.parse import unquote

import pytest

from core.statistics.seed import seed
from core.statistics.testing import rebuilt_snapshot, rollup_snapshot


def _indexes(con: sqlite3.Connection) -> set[tuple[str, str, str]]:
    return set(con.execute("SELECT name, tbl_name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index'"))


def test_seed_puts_back_the_indexes_and_releases_the_database(registry, database_url, arun):
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite only: PostgreSQL loads with its indexes in place")
    path = unquote(database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as con:
        before = _indexes(con)
    assert any(t == "core_case" and not sql.upper().startswith("CREATE UNIQUE") and sql for _, t, sql in before)
    arun(seed(registry, database_url, 120, first_year=2025, last_year=2026, chunk=50))
    con = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    try:
        assert _indexes(con) == before  # dropped for the load, recreated exactly
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.execute("BEGIN IMMEDIATE")  # the load's exclusive lock is gone: another writer gets in
        con.execute("ROLLBACK")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # the planner uses the recreated indexes
        plan = " ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN SELECT id FROM core_case WHERE status = 'settled'"))
        assert "INDEX" in plan
    finally:
        con.close()
    assert arun(rollup_snapshot()) == arun(rebuilt_snapshot(registry))
