"""pytest fixtures for plugin authors, exported by the ``fengqiao`` distribution (entry point ``pytest11``).

Every fixture is prefixed ``fengqiao_`` so it never collides with a project's own fixtures, and
importing this module imports nothing but pytest and the standard library (the app and the database
are loaded only when a fixture is used).

Override these in your ``conftest.py`` to shape the deployment under test:

- ``fengqiao_plugins`` — the built-in plugin list (default ``core.plugins.DEFAULT_PLUGINS``); add your
  own module here to test it without installing it;
- ``fengqiao_entry_points`` — also load installed outside plugins (default ``False``: only the list);
- ``fengqiao_config`` — the deployment's ``fengqiao.toml`` text (e.g. ``enabled_channels = [...]``).

Then use ``fengqiao_settings``, ``fengqiao_registry``, ``fengqiao_app``, ``fengqiao_client`` (a Litestar
``TestClient`` on ``https://testserver.local``), ``fengqiao_room(channel)`` (a room with a mediator
and a supervisor; returns ``{"room", "mediator", "supervisor", "admin"}``), ``fengqiao_login(client,
username)`` and ``fengqiao_run(awaitable)``. The database is a fresh, migrated SQLite file per test
(``FENGQIAO_SDK_DATABASE_URL`` names another database, e.g. PostgreSQL, to use instead).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PASSWORD = "correct-horse-1"
SECRET = "fengqiao-sdk-test-secret-0123456789abcdef"


def _run(awaitable: Any) -> Any:
    import asyncio

    async def go() -> Any:
        return await awaitable

    return asyncio.run(go())


@pytest.fixture
def fengqiao_run() -> Any:
    """``fengqiao_run(awaitable)`` runs a coroutine (or a Piccolo query) from synchronous test code."""
    return _run


@pytest.fixture
def fengqiao_plugins() -> Any:
    """The built-in plugin list; ``None`` = ``core.plugins.DEFAULT_PLUGINS``."""
    return None


@pytest.fixture
def fengqiao_entry_points() -> bool:
    """Whether outside plugins are loaded from the ``fengqiao`` entry-point group."""
    return False


@pytest.fixture
def fengqiao_config() -> str:
    """The deployment's ``fengqiao.toml`` (TOML text)."""
    return ""


@pytest.fixture(scope="session")
def _fengqiao_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core import db
    from core.migrate import migrate

    path = tmp_path_factory.mktemp("fengqiao-sdk") / "template.sqlite3"
    db.configure(f"sqlite:///{path}")
    _run(migrate())
    return path


@pytest.fixture
def fengqiao_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database for this test (a fresh SQLite copy, or ``FENGQIAO_SDK_DATABASE_URL``)."""
    from core import db

    url = os.environ.get("FENGQIAO_SDK_DATABASE_URL")
    if url:
        from core.migrate import migrate

        db.configure(url)
        _run(migrate())
        return url
    path = tmp_path / "fengqiao.sqlite3"
    shutil.copy(request.getfixturevalue("_fengqiao_template"), path)
    url = f"sqlite:///{path}"
    db.configure(url)
    return url


@pytest.fixture
def fengqiao_settings(fengqiao_database_url: str, fengqiao_config: str, tmp_path: Path) -> Any:
    from core.settings import load_settings

    data = tmp_path / "fengqiao-data"
    data.mkdir(exist_ok=True)
    (data / "fengqiao.toml").write_text(fengqiao_config, encoding="utf-8")
    return load_settings(env={"FENGQIAO_DATA_DIR": str(data), "FENGQIAO_DATABASE_URL": fengqiao_database_url,
                              "FENGQIAO_SECRET_KEY": SECRET, "FENGQIAO_DB_POOL": "0"})


@pytest.fixture
def fengqiao_registry(fengqiao_settings: Any, fengqiao_plugins: Any, fengqiao_entry_points: bool) -> Any:
    from core.registry import build_registry

    return build_registry(fengqiao_settings, fengqiao_plugins, entry_points=fengqiao_entry_points)


@pytest.fixture
def fengqiao_app(fengqiao_settings: Any, fengqiao_plugins: Any, fengqiao_entry_points: bool) -> Any:
    from web.app import create_app

    return create_app(fengqiao_settings, plugins=fengqiao_plugins, entry_points=fengqiao_entry_points)


@pytest.fixture
def fengqiao_client(fengqiao_app: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(fengqiao_app, base_url="https://testserver.local") as client:
        yield client


@pytest.fixture
def fengqiao_cipher() -> Any:
    from core.crypto import FieldCipher

    return FieldCipher.from_secret(SECRET)


@pytest.fixture
def fengqiao_room(fengqiao_database_url: str) -> Any:
    """``fengqiao_room(channel)`` creates an organisation, a room of ``channel`` and its users
    (``<channel>-med`` mediator, ``<channel>-sup`` supervisor, ``<channel>-admin`` admin; password
    :data:`PASSWORD`); returns ``{"room": row, "mediator": UserCtx, "supervisor": …, "admin": …}``."""

    def make(channel: str) -> dict[str, Any]:
        from core.access import UserCtx
        from core.users import create_organisation, create_room, create_user

        async def build() -> dict[str, Any]:
            org = await create_organisation(f"{channel}-org", f"{channel}调解委员会", kind="industry")
            room = await create_room(f"{channel}-room", name=f"{channel}调解室", channel=channel,
                                     organisation=org["id"], number_prefix=f"{channel}调")
            out: dict[str, Any] = {"room": room, "organisation": org}
            for role, suffix, room_id in (("mediator", "med", f"{channel}-room"), ("supervisor", "sup", f"{channel}-room"),
                                          ("admin", "admin", None)):
                row = await create_user(f"{channel}-{suffix}", PASSWORD, role=role, room_id=room_id,
                                        display_name=f"{channel}-{suffix}")
                out[role] = UserCtx.from_row(row)
            return out

        return _run(build())

    return make


@pytest.fixture
def fengqiao_login() -> Any:
    """``fengqiao_login(client, username, password=PASSWORD)`` logs in through the real form."""

    def login(client: Any, username: str, password: str = PASSWORD) -> Any:
        client.get("/login")
        token = client.cookies.get("csrftoken")
        resp = client.post("/login", data={"username": username, "password": password, "_csrf_token": token},
                           follow_redirects=False)
        assert resp.status_code == 303, resp.text
        return resp

    return login
