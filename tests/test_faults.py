"""Faults: PostgreSQL restarted under load, and a process killed in the middle of creating a case.

**Restart under load.** The machine's shared PostgreSQL is never touched: :class:`PrivateCluster`
runs ``initdb`` into a temporary directory and ``pg_ctl`` on a free loopback port (as the
``postgres`` OS user through ``runuser`` when the tests run as root — PostgreSQL refuses to run as
root), and removes everything at the end. The app serves from it under uvicorn with its connection
pool on, four signed-in mediators register and read cases in a loop, and the cluster is restarted
twice (``-m fast``, then ``-m immediate``, i.e. crash-like, with fsync on). Expected: while the
database is away every request fails cleanly — 503 with ``Retry-After``, never a 500 page and never
a dropped connection; the app recovers by itself within 5 s of the database being back (no
restart, no wedged pool); every case whose registration answered 303 is in the database,
complete. Skipped with a reason when the PostgreSQL binaries are absent, unless
``FENGQIAO_REQUIRE_POSTGRES=1``.

**Crash mid-transaction.** A child process starts registering a case, is paused right after the
case row and its first party are written (inside the transaction) and is killed with SIGKILL;
on both engines there is then no case, no party and no link row, and the next registration works.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

PG_BIN = Path(os.environ.get("FENGQIAO_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "correct-horse-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_binaries_missing() -> str | None:
    for exe in ("initdb", "pg_ctl"):
        if not (PG_BIN / exe).is_file():
            return f"PostgreSQL binaries not found: {PG_BIN / exe}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root but runuser is missing"
    return None


class PrivateCluster:
    """``initdb`` + ``pg_ctl`` on a free port in a temp dir; ``restart()`` under load; ``destroy()``."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fq-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, user="postgres", group="postgres")
        self.dir.chmod(0o700)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [*(["runuser", "-u", "postgres", "--"] if self.as_root else []), *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({res.returncode}): {res.stderr.strip()[-800:]}\n"
                               f"{self.log_tail()}")
        return res

    def log_tail(self) -> str:
        try:
            return (self.dir / "log").read_text()[-1500:]
        except OSError:
            return ""

    @property
    def options(self) -> str:
        # fsync stays on: "no committed case lost" must survive an immediate (crash-like) restart
        return f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=60"

    def init(self) -> PrivateCluster:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--locale=C.UTF-8")
        return self

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "60",
                  "-o", self.options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-m", mode, "-w",
                  "-t", "60", "-o", self.options, "restart")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Outcome:
    started: float
    ended: float
    kind: str  # "create" | "read"
    status: int  # 0: transport error
    retry_after: str | None = None
    case_id: int | None = None
    summary: str = ""
    error: str = ""


@dataclass
class Load:
    """``workers`` threads, each signed in as ``username``, registering cases and reading them."""

    base_url: str
    room_id: int
    username: str = "med-a"
    workers: int = 4
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _client(self) -> tuple[httpx.Client, str]:
        c = httpx.Client(base_url=self.base_url, timeout=30, trust_env=False)
        c.get("/login")
        token = c.cookies.get("csrftoken")
        r = c.post("/login", data={"username": self.username, "password": PASSWORD, "_csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        return c, token

    def _work(self, n: int) -> None:
        c, token = self._client()
        i = 0
        last_case: int | None = None
        while not self._stop.is_set():
            i += 1
            summary = f"负载测试案件 w{n} #{i}"
            t0 = time.monotonic()
            try:
                r = c.post("/intake/general/walk_in", follow_redirects=False, data={
                    "_csrf_token": token, "room": str(self.room_id), "c.summary": summary,
                    "c.dispute_type": "neighbour", "a.kind": "person", "a.name": "王五",
                    "a.id_number": "110101199003071233", "a.phone": "13800138000",
                    "r.kind": "person", "r.name": "赵六", "f.application_form": "oral"})
                loc = r.headers.get("location", "")
                cid = int(loc.rsplit("/", 1)[1]) if r.status_code == 303 and loc.startswith("/cases/") else None
                out = Outcome(t0, time.monotonic(), "create", r.status_code, r.headers.get("retry-after"), cid, summary,
                              "" if r.status_code < 500 else r.text[:300])
                last_case = cid or last_case
            except httpx.HTTPError as exc:
                out = Outcome(t0, time.monotonic(), "create", 0, error=repr(exc))
            with self._lock:
                self.outcomes.append(out)
            if last_case is not None:
                t0 = time.monotonic()
                try:
                    r = c.get(f"/cases/{last_case}")
                    out = Outcome(t0, time.monotonic(), "read", r.status_code, r.headers.get("retry-after"),
                                  error="" if r.status_code < 500 else r.text[:300])
                except httpx.HTTPError as exc:
                    out = Outcome(t0, time.monotonic(), "read", 0, error=repr(exc))
                with self._lock:
                    self.outcomes.append(out)
            time.sleep(0.01)
        c.close()

    def __enter__(self) -> Load:
        for n in range(self.workers):
            t = threading.Thread(target=self._work, args=(n,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)


# --------------------------------------------------------------------------- PostgreSQL restarted under load

REQUIRE_PG = os.environ.get("FENGQIAO_REQUIRE_POSTGRES") == "1"
RECOVERY_LIMIT = 5.0


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    missing = pg_binaries_missing()
    if missing:
        if REQUIRE_PG:
            pytest.fail(f"FENGQIAO_REQUIRE_POSTGRES=1 but {missing}")
        pytest.skip(missing)
    cluster = PrivateCluster()
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.destroy()
    assert not cluster.dir.exists()


async def _prepare_database(cluster: PrivateCluster) -> tuple[str, int]:
    import asyncpg

    from core import db
    from core.migrate import migrate
    from core.users import create_organisation, create_room, create_user

    con = await asyncpg.connect(cluster.url())
    try:
        await con.execute('CREATE DATABASE "fengqiao"')
    finally:
        await con.close()
    url = cluster.url("fengqiao")
    db.configure(url)
    await migrate()
    org = await create_organisation("org-one", "一号调委会")
    room = await create_room("room-a", name="甲调解室", channel="general", organisation=org["id"], number_prefix="甲人调")
    await create_user("med-a", PASSWORD, role="mediator", room_id="room-a", display_name="med-a")
    return url, room["id"]


async def _stored_cases(url: str) -> dict[int, tuple[str, int]]:
    import asyncpg

    con = await asyncpg.connect(url)
    try:
        rows = await con.fetch("SELECT c.id, c.summary, (SELECT count(*) FROM core_case_party p WHERE p.case = c.id) AS n "
                               "FROM core_case c")
    finally:
        await con.close()
    return {r["id"]: (r["summary"], r["n"]) for r in rows}


def _phase(outcomes: list[Outcome], down_at: float, back_at: float, until: float) -> dict[str, Any]:
    """Recovery after the database came back at ``back_at``: how long after it the last failing
    request ended (0 when none failed), and whether requests succeeded after that."""
    window = [o for o in outcomes if down_at <= o.ended < until]
    failed = [o for o in window if not 200 <= o.status < 400]
    last_failure = max((o.ended for o in failed), default=back_at)
    ok_after = [o for o in window if 200 <= o.status < 400 and o.started > last_failure]
    return {"recovery": max(0.0, last_failure - back_at), "failed": len(failed), "ok_after": len(ok_after),
            "failures": [(round(o.started - back_at, 3), round(o.ended - back_at, 3), o.kind, o.status)
                         for o in failed][-5:]}


def _wait_for_successes(load: Load, since: float, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for o in load.snapshot() if o.started >= since and 200 <= o.status < 400) >= count:
            return
        time.sleep(0.05)


def test_postgres_restart_under_load_fails_cleanly_and_recovers(private_cluster, tmp_path, monkeypatch, arun):
    from core.handoff.testing import ThreadedApp
    from core.settings import load_settings
    from web.app import create_app

    url, room_id = arun(_prepare_database(private_cluster))
    settings = load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path / "data"), "FENGQIAO_DATABASE_URL": url,
                                  "FENGQIAO_SECRET_KEY": "fault-test-secret-key-0123456789-abcdefgh",
                                  "FENGQIAO_DB_POOL": "1", "FENGQIAO_SECURE_COOKIES": "0"})
    figures = []
    with ThreadedApp(create_app(settings, entry_points=False)) as server:
        with Load(server.base_url, room_id, workers=4) as load:
            _wait_for_successes(load, 0, 20, timeout=60)  # warm: the pool is in use
            for mode in ("fast", "immediate"):
                down_at = time.monotonic()
                private_cluster.restart(mode)
                back_at = time.monotonic()
                _wait_for_successes(load, back_at, 12, timeout=RECOVERY_LIMIT + 10)
                time.sleep(2.0)  # steady load after recovery, before the next restart
                figures.append((mode, down_at, back_at))
        outcomes = load.snapshot()

    # never a 500 page or a dropped connection; every failure is a 503 with Retry-After
    bad = [o for o in outcomes if o.status == 0 or (o.status >= 500 and o.status != 503)]
    assert not bad, bad[:5]
    unavailable = [o for o in outcomes if o.status == 503]
    assert all(o.retry_after == "5" for o in unavailable), [o.retry_after for o in unavailable][:5]
    assert all(o.status in (200, 303, 503) for o in outcomes), sorted({o.status for o in outcomes})
    report = []
    for n, (mode, down_at, back_at) in enumerate(figures):
        until = figures[n + 1][1] if n + 1 < len(figures) else float("inf")
        phase = _phase(outcomes, down_at, back_at, until)
        assert phase["recovery"] < RECOVERY_LIMIT, (mode, phase)
        assert phase["ok_after"] >= 10, (mode, phase)
        report.append(f"{mode} restart took {back_at - down_at:.2f} s, {phase['failed']} requests answered 503, "
                      f"the app recovered {phase['recovery']:.2f} s after PostgreSQL was back")

    # no committed case lost, none half-written
    stored = arun(_stored_cases(url))
    committed = {o.case_id: o.summary for o in outcomes if o.kind == "create" and o.status == 303}
    assert committed and len(committed) == sum(1 for o in outcomes if o.kind == "create" and o.status == 303)
    missing = {cid: s for cid, s in committed.items() if cid not in stored or stored[cid][0] != s}
    assert not missing, missing
    assert all(n == 2 for _, n in stored.values()), {cid: n for cid, (_, n) in stored.items() if n != 2}
    print(f"\nPostgreSQL restart under load: {len(outcomes)} requests, {len(committed)} cases committed "
          f"(all present), {len(unavailable)} × 503, 0 × 500; " + "; ".join(report))


# --------------------------------------------------------------------------- killed mid-transaction

CHILD = r'''
import asyncio, json, os, sys, time
from pathlib import Path

args = json.loads(sys.argv[1])
from core import db
from core.settings import load_settings
from core.registry import build_registry
from core.crypto import FieldCipher
from core.access import UserCtx
from core.intake import CaseIntake, PartyIn
import core.cases as cases
from core.tables import Room, User

settings = load_settings(env={"FENGQIAO_DATA_DIR": args["data"], "FENGQIAO_DATABASE_URL": args["url"],
                              "FENGQIAO_SECRET_KEY": args["secret"], "FENGQIAO_DB_POOL": "0"})
reg = build_registry(settings, entry_points=False)
db.configure(settings.database_url)
real_insert_party = cases._insert_party
calls = []

async def paused_insert_party(p, cipher):
    party_id = await real_insert_party(p, cipher)
    calls.append(party_id)
    if len(calls) == 1:  # the case row and the first party are written, inside the transaction
        Path(args["marker"]).write_text(str(party_id))
        await asyncio.sleep(120)  # killed here
    return party_id

cases._insert_party = paused_insert_party

async def main():
    room = await Room.select().where(Room.room_id == "room-a").first()
    user = UserCtx.from_row(await User.select().where(User.username == "med-a").first())
    form = reg.form("general", "walk_in")
    await cases.create_case(reg, room=room, form=form, intake=CaseIntake(summary="被中断的登记", dispute_type="neighbour"),
                            parties=[PartyIn(role="applicant", name="张三", id_number="110101199003071233"),
                                     PartyIn(role="respondent", name="李四")],
                            fields=form.schema(), actor=user, cipher=FieldCipher.from_settings(settings))

asyncio.run(main())
'''


def test_process_killed_mid_case_creation_leaves_no_half_case(settings, world, make_case, arun, tmp_path):
    import signal
    import subprocess
    import sys

    from core.handoff.testing import wait_until
    from core.tables import Case, CaseEvent, CaseParty, Party

    marker = tmp_path / "paused"
    args = {"url": settings.database_url, "data": str(tmp_path / "child"), "secret": settings.secret_key,
            "marker": str(marker)}
    import json

    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], cwd=Path(__file__).parent.parent,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: marker.exists() or child.poll() is not None, timeout=60, message="child paused")
        assert child.poll() is None, child.communicate()[1][-2000:]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    assert child.returncode == -signal.SIGKILL

    # nothing of the interrupted registration is visible
    assert arun(Case.count()) == 0
    assert arun(Party.count()) == 0
    assert arun(CaseParty.count()) == 0
    assert arun(CaseEvent.count()) == 0
    # the database is not left locked or wedged, and the number sequence has no gap
    started = time.monotonic()
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    assert time.monotonic() - started < 10
    assert case["number"].endswith("第0001号"), case["number"]
    assert arun(CaseParty.count().where(CaseParty.case == case["id"])) == 2
    if settings.is_sqlite:
        import sqlite3

        con = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            con.close()


# --------------------------------------------------------------------------- which errors mean "database unavailable"


def _raiser(exc: BaseException):
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


def _chained() -> BaseException:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError("could not load the user") from inner
    except RuntimeError as outer:
        return outer


def test_unavailable_database_is_a_503_with_retry_after_and_other_errors_stay_500(client, world, login, monkeypatch):
    """Every query of the app's engine raises the given error (after log-in): pages and the partner
    API answer 503 + Retry-After for a lost database, 500 for anything else."""
    import sqlite3

    import asyncpg

    from core import db

    login(client, "med-a")
    engine = db.engine()

    def fail_with(exc: BaseException) -> None:
        monkeypatch.setattr(type(engine), "run_querystring", _raiser(exc))

    unavailable = [asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
                   asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
                   asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
                   asyncpg.InterfaceError("connection is closed"),
                   asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
                   sqlite3.OperationalError("database is locked"), ConnectionResetError(104, "reset"), _chained()]
    for exc in unavailable:
        fail_with(exc)
        resp = client.get("/cases", follow_redirects=False)
        assert resp.status_code == 503, (exc, resp.status_code)
        assert resp.headers["retry-after"] == "5" and resp.headers["cache-control"] == "no-store"
        assert "稍候" in resp.text and "text/html" in resp.headers["content-type"]
    for exc in (sqlite3.OperationalError("no such table: nope"), asyncpg.InterfaceError("cannot perform operation: "
                "another operation is in progress"), ValueError("a bug")):
        fail_with(exc)
        resp = client.get("/cases", follow_redirects=False)
        assert resp.status_code == 500, (exc, resp.status_code)
        assert "retry-after" not in resp.headers
    # the partner API answers with its contract's error body
    fail_with(asyncpg.exceptions.CannotConnectNowError("starting up"))
    resp = client.get("/api/v1/channels", headers={"Authorization": "Bearer x"})
    assert resp.status_code == 503 and resp.headers["retry-after"] == "5"
    assert resp.json()["error"]["code"] == "unavailable"
    fail_with(KeyError("bug"))
    resp = client.get("/api/v1/channels", headers={"Authorization": "Bearer x"})
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "internal_error"
