"""Shared fixtures: every test that touches the database runs on SQLite and on PostgreSQL.

- SQLite: migrations run once into a template file; each test gets a fresh copy.
- PostgreSQL: ``FENGQIAO_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
  names the server; each test session creates its own database there (and drops it at the end),
  migrates it once and truncates every table before each test. When the
  server is unreachable the PostgreSQL variants are skipped — unless
  ``FENGQIAO_REQUIRE_POSTGRES=1`` (CI), which turns that into a failure.

Tests build their own plugin set (``entry_points=False``) and never depend on each other.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

from core import db
from core.settings import Settings, load_settings

PG_URL = os.environ.get("FENGQIAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("FENGQIAO_REQUIRE_POSTGRES") == "1"
TEST_SECRET = "test-secret-key-not-for-production-0123456789"


def run(awaitable: Any) -> Any:
    """Run a coroutine or a Piccolo query to completion from synchronous test code."""

    async def _go() -> Any:
        return await awaitable

    return asyncio.run(_go())


def _pg_reachable(url: str) -> bool:
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=2):
            return True
    except OSError:
        return False


async def _migrate(url: str) -> None:
    from core.migrate import migrate

    db.configure(url)
    await migrate()


async def _create_pg_database(admin_url: str) -> str:
    """Create a throw-away database next to ``admin_url``'s and return its URL."""
    import uuid

    import asyncpg

    name = f"fengqiao_test_{uuid.uuid4().hex[:12]}"
    con = await asyncpg.connect(admin_url)
    try:
        await con.execute(f'CREATE DATABASE "{name}"')
    finally:
        await con.close()
    return urlunparse(urlparse(admin_url)._replace(path="/" + name))


async def _drop_pg_database(admin_url: str, url: str) -> None:
    import asyncpg

    name = urlparse(url).path.lstrip("/")
    con = await asyncpg.connect(admin_url)
    try:
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await con.close()


async def _truncate_pg(url: str) -> None:
    import asyncpg

    con = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await con.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migration'")]
        if tables:
            await con.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    finally:
        await con.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    """A migrated PostgreSQL database of this test session's own (created and dropped here), so
    that parallel test runs against one server never see each other's rows."""
    if not _pg_reachable(PG_URL):
        if REQUIRE_PG:
            pytest.fail(f"FENGQIAO_REQUIRE_POSTGRES=1 but PostgreSQL at {PG_URL} is unreachable")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable (set FENGQIAO_REQUIRE_POSTGRES=1 to make this fail)")
    url = run(_create_pg_database(PG_URL))
    try:
        run(_migrate(url))
        yield url
    finally:
        run(_drop_pg_database(PG_URL, url))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each engine, bound to the tables for this test."""
    if request.param == "sqlite":
        path = tmp_path / "fengqiao.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_ready")
        run(_truncate_pg(url))
    db.configure(url)
    yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own data dir, database and secret; no connection pool."""
    return load_settings(
        env={
            "FENGQIAO_DATA_DIR": str(tmp_path / "data"),
            "FENGQIAO_DATABASE_URL": database_url,
            "FENGQIAO_SECRET_KEY": TEST_SECRET,
            "FENGQIAO_DB_POOL": "0",
        }
    )


@pytest.fixture
def registry(settings: Settings) -> Any:
    from core.registry import build_registry

    return build_registry(settings, entry_points=False)


@pytest.fixture
def cipher() -> Any:
    from core.crypto import FieldCipher

    return FieldCipher.from_secret(TEST_SECRET)


@pytest.fixture
def world(registry: Any) -> dict[str, Any]:
    """Two organisations' worth of rooms and users: room A and B (org 1), room C (org 2)."""
    from core.access import UserCtx
    from core.users import create_organisation, create_room, create_user

    async def build() -> dict[str, Any]:
        org1 = await create_organisation("org-one", "一号调委会")
        org2 = await create_organisation("org-two", "二号调委会")
        rooms = {
            "a": await create_room("room-a", name="甲调解室", channel="general", organisation=org1["id"], number_prefix="甲人调"),
            "b": await create_room("room-b", name="乙调解室", channel="general", organisation=org1["id"], number_prefix="乙人调"),
            "c": await create_room("room-c", name="丙调解室", channel="general", organisation=org2["id"], number_prefix="丙人调"),
        }
        users = {}
        for name, role, room in [("med-a", "mediator", "room-a"), ("med-b", "mediator", "room-b"),
                                 ("med-c", "mediator", "room-c"), ("sup-1", "supervisor", "room-a"),
                                 ("admin", "admin", None)]:
            row = await create_user(name, "correct-horse-1", role=role, room_id=room, display_name=name)
            users[name] = UserCtx.from_row(row)
        return {"orgs": (org1, org2), "rooms": rooms, "users": users, "password": "correct-horse-1"}

    return run(build())


def _make_case(registry: Any, cipher: Any, room: dict[str, Any], user: Any, **overrides: Any) -> dict[str, Any]:
    """Register a walk-in case through the engine (helper shared by many tests)."""
    from core.cases import create_case
    from core.intake import CaseIntake, PartyIn

    form = registry.form("general", "walk_in")
    intake = CaseIntake(
        summary=overrides.pop("summary", "邻居装修噪音扰民"),
        dispute_type=overrides.pop("dispute_type", "neighbour"),
    )
    parties = overrides.pop("parties", None) or [
        PartyIn(role="applicant", name=overrides.pop("applicant", "张三"), id_number="110101199003071233",
                phone="13800138000"),
        PartyIn(role="respondent", name=overrides.pop("respondent", "李四")),
    ]
    return run(create_case(registry, room=room, form=form, intake=intake, parties=parties,
                           fields=form.schema(), actor=user, cipher=cipher, **overrides))


@pytest.fixture
def app(settings: Settings) -> Any:
    from web.app import create_app

    return create_app(settings, entry_points=False)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(app, base_url="https://testserver.local") as c:
        yield c


def _login(client: Any, username: str, password: str = "correct-horse-1") -> Any:
    """Log in through the real form (fetching the CSRF cookie first)."""
    client.get("/login")
    token = client.cookies.get("csrftoken")
    resp = client.post("/login", data={"username": username, "password": password, "_csrf_token": token},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return resp


def _csrf(client: Any) -> str:
    token = client.cookies.get("csrftoken")
    if not token:
        client.get("/login")
        token = client.cookies.get("csrftoken")
    return token


@pytest.fixture
def make_case(registry: Any, cipher: Any) -> Any:
    """``make_case(room, user, **overrides)`` registers a walk-in case and returns ``{id, number, …}``."""
    return lambda room, user, **kw: _make_case(registry, cipher, room, user, **kw)


@pytest.fixture
def login() -> Any:
    """``login(client, username, password=…)`` logs in through the real form."""
    return _login


@pytest.fixture
def csrf() -> Any:
    """``csrf(client)`` returns the CSRF token to send as ``_csrf_token`` or ``x-csrftoken``."""
    return _csrf


@pytest.fixture
def arun() -> Any:
    """``arun(coro)`` runs a coroutine from synchronous test code."""
    return run


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at production cost takes ~130 ms a hash; tests use the minimum cost (same code path)."""
    from argon2 import PasswordHasher

    import core.users

    monkeypatch.setattr(core.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
