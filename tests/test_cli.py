"""The ``fengqiao`` command line, run as a real console script in a subprocess.

Covers ``serve --demo`` over real HTTP, ``migrate``, ``rooms add`` / ``users add`` (SQLite and
PostgreSQL through the ``database_url`` fixture), ``plugins`` and configuration errors. Every
error must be one ``fengqiao: error:`` line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest

FENGQIAO = str(Path(sys.executable).with_name("fengqiao"))
SECRET = "cli-test-secret-key-not-for-production-0123456789"
DEMO_USERS = ("mediator", "mediator2", "supervisor", "admin")
DEMO_PASSWORD = "fengqiao-demo"


# --------------------------------------------------------------------------- helpers


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The parent environment without any FENGQIAO_* variable, plus a data dir and secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(FENGQIAO_DATA_DIR=str(data_dir), FENGQIAO_SECRET_KEY=SECRET, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def fq(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None,
       timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FENGQIAO, *args], env=env, cwd=cwd, input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=timeout)


def assert_ok(res: subprocess.CompletedProcess[str]) -> None:
    assert res.returncode == 0, f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert "Traceback" not in res.stderr, res.stderr


def assert_one_line_error(res: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """A non-zero exit with exactly one ``fengqiao: error:`` line on stderr containing ``fragments``."""
    assert res.returncode != 0, f"expected failure\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got:\n{res.stderr}"
    line = lines[0]
    assert line.startswith("fengqiao: error: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def arun(coro: Any) -> Any:
    async def _go() -> Any:
        return await coro

    return asyncio.run(_go())


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one read query against the SQLite or PostgreSQL database at ``url`` (``?`` placeholders)."""
    if url.startswith("sqlite:///"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    import asyncpg

    pg_sql = sql
    for i in range(1, len(params) + 1):
        pg_sql = pg_sql.replace("?", f"${i}", 1)

    async def go() -> list[tuple[Any, ...]]:
        con = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await con.fetch(pg_sql, *params)]
        finally:
            await con.close()

    return asyncio.run(go())


def count(url: str, table: str) -> int:
    return query(url, f'SELECT COUNT(*) FROM "{table}"')[0][0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cookies_from(resp: httpx.Response) -> dict[str, str]:
    """name → value of every Set-Cookie on ``resp`` (parsed by hand: the cookies are Secure)."""
    out: dict[str, str] = {}
    for header in resp.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        out.update({name: morsel.value for name, morsel in jar.items()})
    return out


class Server:
    """``fengqiao serve`` in the background, stdout/stderr captured to files."""

    def __init__(self, tmp: Path, env: dict[str, str], *args: str, tag: str = "serve") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out_path, self.err_path = tmp / f"{tag}.out", tmp / f"{tag}.err"
        self._out, self._err = self.out_path.open("w"), self.err_path.open("w")
        self.proc = subprocess.Popen(
            [FENGQIAO, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", *args],
            env=env, cwd=tmp, stdout=self._out, stderr=self._err, text=True,
        )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text()

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited with {self.proc.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}")
            try:
                if httpx.get(self.base + "/login", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"serve did not answer within {timeout}s\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._out.close()
        self._err.close()


def assert_no_unexpected_traceback(stderr: str) -> None:
    """Server logs may hold tracebacks only for the expected 401 of an anonymous ``GET /``."""
    tracebacks = stderr.count("Traceback (most recent call last)")
    expected = stderr.count("NotAuthorizedException: 401")
    assert tracebacks == expected, stderr


def demo_logins(stdout: str) -> list[tuple[str, str]]:
    lines = stdout.splitlines()
    assert "demo logins (username / password):" in lines, stdout
    start = lines.index("demo logins (username / password):") + 1
    out = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        username, password, *_ = line.split()
        out.append((username, password))
    return out


# --------------------------------------------------------------------------- serve --demo


def _login_over_http(base: str, username: str, password: str) -> tuple[httpx.Response, str]:
    """GET /login for the CSRF cookie, POST the form; returns the POST response (not followed) and the token."""
    page = httpx.get(base + "/login", timeout=5)
    csrf = cookies_from(page).get("csrftoken")
    assert csrf, page.headers
    return httpx.post(base + "/login", timeout=10, follow_redirects=False,
                      data={"username": username, "password": password, "_csrf_token": csrf},
                      headers={"Cookie": f"csrftoken={csrf}"}), csrf


def test_serve_demo_over_http_and_idempotent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = cli_env(data)
    db_file = data / "fengqiao.sqlite3"

    server = Server(tmp_path, env, "--demo", tag="first")
    try:
        server.wait_ready()
        logins = demo_logins(server.stdout)
        assert logins == [(u, DEMO_PASSWORD) for u in DEMO_USERS]
        assert f"serving on http://127.0.0.1:{server.port}/" in server.stdout

        page = httpx.get(server.base + "/login", timeout=5)
        assert page.status_code == 200
        assert "登录" in page.text
        assert "csrftoken" in cookies_from(page)

        home = httpx.get(server.base + "/", timeout=5, follow_redirects=False)
        assert home.status_code in (302, 303), home.status_code
        assert home.headers["location"].startswith("/login"), home.headers["location"]

        bad, _ = _login_over_http(server.base, "mediator", "wrong-password")
        assert bad.status_code == 401
        assert "用户名或密码不正确" in bad.text

        resp, csrf = _login_over_http(server.base, "mediator", DEMO_PASSWORD)
        assert resp.status_code == 303, resp.text
        set_cookies = resp.headers.get_list("set-cookie")
        session_headers = [h for h in set_cookies if h.startswith("fq_session=")]
        assert session_headers and "secure" in session_headers[0].lower()
        session = cookies_from(resp)["fq_session"]

        dash = httpx.get(server.base + "/", timeout=10, follow_redirects=False,
                         headers={"Cookie": f"csrftoken={csrf}; fq_session={session}"})
        assert dash.status_code == 200, dash.text[:500]
        assert "今日工作台" in dash.text
        assert "王秀兰" in dash.text  # the demo mediator's display name
    finally:
        server.stop()
    assert_no_unexpected_traceback(server.stderr)

    assert db_file.is_file()
    cases = count(f"sqlite:///{db_file}", "core_case")
    users = count(f"sqlite:///{db_file}", "core_user")
    assert cases == 10 and users == len(DEMO_USERS)

    again = Server(tmp_path, env, "--demo", tag="second")
    try:
        again.wait_ready()
        assert demo_logins(again.stdout) == logins
    finally:
        again.stop()
    assert_no_unexpected_traceback(again.stderr)
    assert count(f"sqlite:///{db_file}", "core_case") == cases
    assert count(f"sqlite:///{db_file}", "core_user") == users
    assert count(f"sqlite:///{db_file}", "core_organisation") == 1

    # `fengqiao demo` on the same data dir is idempotent too
    demo = fq("demo", env=env, cwd=tmp_path)
    assert_ok(demo)
    assert demo_logins(demo.stdout) == logins
    assert count(f"sqlite:///{db_file}", "core_case") == cases


def test_login_rotates_session_id(tmp_path: Path) -> None:
    """No session fixation: a session id issued before login is not the authenticated one."""
    env = cli_env(tmp_path / "data")
    assert_ok(fq("users", "add", "root", "--role", "admin", env=env, cwd=tmp_path, stdin="admin-pass-99\n"))
    server = Server(tmp_path, env)
    try:
        server.wait_ready()
        page = httpx.get(server.base + "/login", timeout=5)
        pre = cookies_from(page)
        csrf = pre["csrftoken"]
        planted = pre.get("fq_session") or "0" * 64
        resp = httpx.post(server.base + "/login", timeout=10, follow_redirects=False,
                          data={"username": "root", "password": "admin-pass-99", "_csrf_token": csrf},
                          headers={"Cookie": f"csrftoken={csrf}; fq_session={planted}"})
        assert resp.status_code == 303, resp.text
        fresh = cookies_from(resp)["fq_session"]
        # the pre-login id must not be the authenticated one, and must not open the dashboard
        old = httpx.get(server.base + "/", timeout=10, follow_redirects=False,
                        headers={"Cookie": f"csrftoken={csrf}; fq_session={planted}"})
        assert fresh != planted
        assert old.status_code in (302, 303)
    finally:
        server.stop()


# --------------------------------------------------------------------------- migrate


def test_migrate_creates_sqlite_file_and_is_repeatable(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "nested"
    db_file = data / "fengqiao.sqlite3"
    env = cli_env(data)
    assert not data.exists()

    res = fq("migrate", env=env, cwd=tmp_path)
    assert_ok(res)
    assert db_file.is_file()
    assert res.stdout.strip() == f"database is up to date: sqlite:///{db_file}"
    url = f"sqlite:///{db_file}"
    tables = {r[0] for r in query(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"core_case", "core_room", "core_user", "core_organisation", "migration"} <= tables
    applied = count(url, "migration")
    assert applied >= 1

    again = fq("migrate", env=env, cwd=tmp_path)
    assert_ok(again)
    assert again.stdout == res.stdout
    assert count(url, "migration") == applied


def test_migrate_default_data_dir_is_relative_to_cwd(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    del env["FENGQIAO_DATA_DIR"]
    res = fq("migrate", env=env, cwd=tmp_path)
    assert_ok(res)
    assert (tmp_path / "fengqiao-data" / "fengqiao.sqlite3").is_file()
    assert str(tmp_path / "fengqiao-data" / "fengqiao.sqlite3") in res.stdout


def test_migrate_uses_database_url(database_url: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL=database_url)
    res = fq("migrate", env=env, cwd=tmp_path)
    assert_ok(res)
    assert res.stdout.startswith("database is up to date: ")
    assert count(database_url, "migration") >= 1
    # the URL from the environment was used, not a SQLite file in the data dir
    assert not (tmp_path / "data" / "fengqiao.sqlite3").exists()


# --------------------------------------------------------------------------- rooms / users


def test_rooms_and_users_add_then_login(database_url: str, tmp_path: Path) -> None:
    from core.users import authenticate

    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL=database_url)

    res = fq("rooms", "add", "room-x", "--name", "城关调解室", "--channel", "general", "--agency", "城关司法所",
             "--prefix", "城关人调", "--organisation", "org-x", env=env, cwd=tmp_path)
    assert_ok(res)
    assert res.stdout.strip() == "room room-x created (城关调解室, channel general)"
    rows = query(database_url, "SELECT room_id, name, channel, partner_agency, number_prefix FROM core_room")
    assert rows == [("room-x", "城关调解室", "general", "城关司法所", "城关人调")]
    assert query(database_url, "SELECT code FROM core_organisation") == [("org-x",)]

    res = fq("users", "add", "med-x", "--role", "mediator", "--room", "room-x", "--display-name", "调解员甲",
             env=env, cwd=tmp_path, stdin="correct-horse-9\n")
    assert_ok(res)
    assert res.stdout.strip() == "user med-x created (role mediator)"
    assert "correct-horse-9" not in res.stdout + res.stderr

    res = fq("users", "add", "sup-x", "--role", "supervisor", "--room", "room-x",
             env=env, cwd=tmp_path, stdin="another-pass-7\n")
    assert_ok(res)
    res = fq("users", "add", "root", "--role", "admin", env=env, cwd=tmp_path, stdin="admin-pass-99\n")
    assert_ok(res)

    rows = query(database_url,
                 "SELECT u.username, u.role, u.display_name, r.room_id FROM core_user u "
                 "LEFT JOIN core_room r ON r.id = u.room ORDER BY u.username")
    assert rows == [("med-x", "mediator", "调解员甲", "room-x"), ("root", "admin", "root", None),
                    ("sup-x", "supervisor", "sup-x", "room-x")]
    (pw_hash,) = query(database_url, "SELECT password_hash FROM core_user WHERE username = ?", "med-x")[0]
    assert pw_hash.startswith("$argon2id$")

    # the database_url fixture bound the tables to this database in-process
    user = arun(authenticate("med-x", "correct-horse-9"))
    assert user is not None and user.username == "med-x" and user.role == "mediator"
    assert arun(authenticate("med-x", "wrong-horse-9")) is None
    admin = arun(authenticate("root", "admin-pass-99"))
    assert admin is not None and admin.role == "admin"


REFUSALS = {
    # validated before the database is touched: engine-independent, checked on SQLite only
    "short-password": (("short", "--role", "admin"), "short7\n", ("密码至少 8 位",)),
    "common-password": (("common", "--role", "admin"), "password1\n", ("密码过于常见",)),
    "empty-password": (("nobody", "--role", "admin"), "\n", ("no password given on stdin",)),
    "bad-username": (("Bad Name", "--role", "admin"), "correct-horse-9\n", ("must be a slug",)),
    # need the database: checked on both engines
    "unknown-room": (("ghost", "--role", "mediator", "--room", "no-such-room"), "correct-horse-9\n",
                     ("room 'no-such-room' does not exist",)),
    "mediator-without-room": (("loner", "--role", "mediator"), "correct-horse-9\n", ("a mediator needs --room",)),
    "supervisor-without-room": (("boss", "--role", "supervisor"), "correct-horse-9\n",
                                ("a supervisor needs --room",)),
}
DB_FREE_REFUSALS = ("short-password", "common-password", "empty-password", "bad-username")


def _check_refusal(database_url: str, tmp_path: Path, case: str) -> None:
    args, stdin, fragments = REFUSALS[case]
    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL=database_url)
    assert count(database_url, "core_user") == 0
    res = fq("users", "add", *args, env=env, cwd=tmp_path, stdin=stdin)
    assert_one_line_error(res, *fragments)
    assert res.stdout == ""
    assert count(database_url, "core_user") == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", DB_FREE_REFUSALS)
def test_users_add_refusals_input(database_url: str, tmp_path: Path, case: str) -> None:
    _check_refusal(database_url, tmp_path, case)


@pytest.mark.parametrize("case", [c for c in REFUSALS if c not in DB_FREE_REFUSALS])
def test_users_add_refusals_db(database_url: str, tmp_path: Path, case: str) -> None:
    _check_refusal(database_url, tmp_path, case)


def test_users_add_role_must_be_known(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    res = fq("users", "add", "x-user", "--role", "wizard", env=env, cwd=tmp_path, stdin="correct-horse-9\n")
    assert res.returncode == 2  # argparse usage error
    assert "invalid choice: 'wizard'" in res.stderr
    assert "Traceback" not in res.stderr


def test_duplicates_are_refused(database_url: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL=database_url)
    assert_ok(fq("rooms", "add", "room-d", "--name", "甲室", "--channel", "general", env=env, cwd=tmp_path))
    assert_ok(fq("users", "add", "dup", "--role", "mediator", "--room", "room-d", env=env, cwd=tmp_path,
                 stdin="first-password-1\n"))

    res = fq("rooms", "add", "room-d", "--name", "乙室", "--channel", "general", env=env, cwd=tmp_path)
    assert_one_line_error(res, "room 'room-d' already exists")
    assert query(database_url, "SELECT room_id, name FROM core_room") == [("room-d", "甲室")]

    res = fq("users", "add", "dup", "--role", "admin", env=env, cwd=tmp_path, stdin="second-password-2\n")
    assert_one_line_error(res, "user 'dup' already exists")
    assert query(database_url, "SELECT username, role FROM core_user") == [("dup", "mediator")]

    from core.users import authenticate

    assert arun(authenticate("dup", "first-password-1")) is not None
    assert arun(authenticate("dup", "second-password-2")) is None


def test_rooms_add_unknown_channel_lists_enabled(database_url: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL=database_url)
    res = fq("rooms", "add", "room-q", "--name", "某室", "--channel", "nosuch", env=env, cwd=tmp_path)
    assert_one_line_error(res, "'nosuch'", "enabled: ", "general")
    assert res.stdout == ""
    assert count(database_url, "core_room") == 0

    res = fq("rooms", "add", "Bad Room", "--name", "某室", "--channel", "general", env=env, cwd=tmp_path)
    assert_one_line_error(res, "must be a slug")
    assert count(database_url, "core_room") == 0


def test_rooms_add_bad_organisation_code_is_one_line_error(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    res = fq("rooms", "add", "room-o", "--name", "某室", "--channel", "general", "--organisation", "Bad Code",
             env=env, cwd=tmp_path)
    assert_one_line_error(res, "must be a slug")


def test_rooms_add_refused_creates_no_organisation(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    url = f"sqlite:///{tmp_path / 'data' / 'fengqiao.sqlite3'}"
    res = fq("rooms", "add", "room-o", "--name", "某室", "--channel", "nosuch", "--organisation", "org-new",
             env=env, cwd=tmp_path)
    assert_one_line_error(res, "'nosuch'")
    assert count(url, "core_room") == 0
    assert count(url, "core_organisation") == 0


# --------------------------------------------------------------------------- plugins


def test_plugins_lists_builtin_and_general(tmp_path: Path) -> None:
    res = fq("plugins", env=cli_env(tmp_path / "data"), cwd=tmp_path)
    assert_ok(res)
    lines = res.stdout.splitlines()
    names = [line.split()[0] for line in lines if line and not line.startswith(" ") and not line.startswith("channels:")]
    assert names == sorted(names)
    assert {"builtin", "court", "documents", "general", "handoff", "industry", "online", "petition", "police",
            "procuratorate", "statistics"} <= set(names)
    general = next(i for i, line in enumerate(lines) if line.startswith("general"))
    assert lines[general].split()[1:] == ["0.1.0", "plugins.general"]
    general_hooks = lines[general + 1].strip()
    assert general_hooks.startswith("hooks: ")
    assert "fengqiao_register_channels" in general_hooks
    assert "fengqiao_register_intake_forms" in general_hooks
    builtin = next(i for i, line in enumerate(lines) if line.startswith("builtin"))
    assert "fengqiao_register_deadline_rules" in lines[builtin + 1]
    assert lines[-1].startswith("channels: ") and "general (general)" in lines[-1] and "court (court)" in lines[-1]
    assert res.stderr == ""  # no hook tracing unless asked for


def test_plugins_unknown_enabled_channel(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_ENABLED_CHANNELS="nonexistent")
    res = fq("plugins", env=env, cwd=tmp_path)
    assert_one_line_error(res, "nonexistent")
    assert res.stdout == ""


def test_plugins_unknown_enabled_channel_names_installed(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_ENABLED_CHANNELS="nonexistent")
    res = fq("plugins", env=env, cwd=tmp_path)
    assert_one_line_error(res, "nonexistent", "installed: [", "'court'", "'general'")


def test_plugins_trace(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_TRACE_PLUGINS="1")
    res = fq("plugins", env=env, cwd=tmp_path)
    assert_ok(res)
    assert "fengqiao_register_channels" in res.stderr
    assert "general" in res.stderr
    assert "builtin" in res.stdout and "general" in res.stdout


def test_enabled_channels_restricts_rooms(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_ENABLED_CHANNELS="general")
    res = fq("rooms", "add", "room-e", "--name", "某室", "--channel", "general", env=env, cwd=tmp_path)
    assert_ok(res)
    assert count(f"sqlite:///{tmp_path / 'data' / 'fengqiao.sqlite3'}", "core_room") == 1


# --------------------------------------------------------------------------- configuration errors


@pytest.mark.parametrize(
    ("command", "url"),
    [(("migrate",), "mysql://x"), (("migrate",), "not a url"), (("migrate",), "sqlite://relative.db"),
     (("plugins",), "mysql://x"), (("serve", "--port", "1"), "mysql://x")],
)
def test_malformed_database_url(tmp_path: Path, url: str, command: tuple[str, ...]) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL=url)
    res = fq(*command, env=env, cwd=tmp_path, timeout=20)
    assert_one_line_error(res, "FENGQIAO_DATABASE_URL")
    assert res.stdout == ""
    assert not (tmp_path / "data" / "fengqiao.sqlite3").exists()


@pytest.mark.parametrize("url", ["postgresql://u@127.0.0.1:notaport/x", "sqlite:///"],
                         ids=["pg-bad-port", "sqlite-empty-path"])
def test_malformed_but_prefixed_database_url(tmp_path: Path, url: str) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL=url)
    res = fq("migrate", env=env, cwd=tmp_path, timeout=20)
    assert_one_line_error(res)


def test_unreachable_postgres_is_one_line_and_hides_password(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_DATABASE_URL="postgresql://u:s3cr3t-pw@127.0.0.1:1/x")
    res = fq("migrate", env=env, cwd=tmp_path, timeout=20)
    assert "s3cr3t-pw" not in res.stderr + res.stdout
    assert_one_line_error(res, "127.0.0.1")


def test_bad_boolean_setting(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_TRACE_PLUGINS="maybe")
    res = fq("plugins", env=env, cwd=tmp_path)
    assert_one_line_error(res, "FENGQIAO_TRACE_PLUGINS", "'maybe'")


def test_missing_config_file(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data", FENGQIAO_CONFIG=str(tmp_path / "nope.toml"))
    res = fq("migrate", env=env, cwd=tmp_path)
    assert_one_line_error(res, "FENGQIAO_CONFIG", "nope.toml")


def test_malformed_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("database_url = \n", encoding="utf-8")
    env = cli_env(tmp_path / "data", FENGQIAO_CONFIG=str(cfg))
    res = fq("migrate", env=env, cwd=tmp_path)
    assert_one_line_error(res, "bad.toml")
