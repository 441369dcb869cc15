"""Server-side sessions are written when they change, not on every request."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core import clock


@pytest.fixture
def unfreeze():
    yield
    clock.freeze(None)


def _store_files(settings) -> dict[str, tuple[float, bytes]]:
    folder = Path(settings.data_dir) / "sessions"
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def test_unchanged_session_is_not_rewritten(client, settings, world, login, csrf, unfreeze):
    clock.freeze(clock.now())
    login(client, "med-a")
    before = _store_files(settings)
    assert len(before) == 1
    for _ in range(3):
        assert client.get("/cases").status_code == 200
    assert _store_files(settings) == before  # reads leave the stored session alone
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    assert client.get("/cases").status_code == 200  # last-seen moves on (idle timeout slides)
    after = _store_files(settings)
    assert after.keys() == before.keys() and after != before
    clock.freeze(clock.now() + dt.timedelta(minutes=29))
    assert client.get("/cases").status_code == 200  # 29 min after the last write: still signed in
    clock.freeze(clock.now() + dt.timedelta(minutes=31))
    resp = client.get("/cases", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


def test_plugin_routes_apply_the_session_time_outs(client, world, make_case, login, csrf, unfreeze):
    """Plugin pages sit behind the app's log-in guard: an idle-expired session cannot act through them."""
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    clock.freeze(clock.now())
    login(client, "med-a")
    token = csrf(client)
    url = f"/cases/{case['id']}/deliveries/evt_000000/resend"  # the handoff plugin's staff action
    assert client.post(url, data={"_csrf_token": token}, follow_redirects=False).status_code == 404  # signed in
    clock.freeze(clock.now() + dt.timedelta(minutes=31))
    resp = client.post(url, data={"_csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


def test_session_store_reads_what_it_wrote_and_forgets_the_expired(tmp_path: Path) -> None:
    """The store behind the sessions reads on the event loop; it must still answer like Litestar's
    file store: the stored bytes, nothing for an unknown id, and an expired session deleted."""
    import asyncio

    from web.sessions import SessionFileStore

    async def go() -> None:
        store = SessionFileStore(tmp_path)
        await store.set("alive", b'{"uid": 1}', expires_in=3600)
        await store.set("gone", b'{"uid": 2}', expires_in=1)
        assert await store.get("alive") == b'{"uid": 1}'
        assert await store.get("never-issued") is None
        await asyncio.sleep(1.1)
        assert await store.get("gone") is None
        assert await store.exists("alive") and not await store.exists("gone")  # the expired file is removed

    asyncio.run(go())
