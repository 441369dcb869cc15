"""Benchmark of statistics, case list and case page at scale, on SQLite and PostgreSQL, in one run.

    python bench/statistics.py [--cases 1000000] [--engines sqlite,postgres] [--seconds 10]

For each engine: a throw-away database (a temporary SQLite file; a PostgreSQL database created next to
``FENGQIAO_TEST_POSTGRES_URL`` or postgresql://postgres@127.0.0.1:5432/test and dropped afterwards)
is migrated and filled by the generator behind ``fengqiao seed``; then, over HTTP against a real
uvicorn process on loopback:

- the statistics page (province-wide admin view, a year) p95, with the same filters again and again
  (charts cached by their numbers) and with a different period on every request (charts drawn each
  time), and its ratio to a naive ``GROUP BY`` over the case table for the same scope and period;
- the case list's first page and deepest page (keyset pagination), p95 and their ratio;
- the generation time (cases, parties, events, sessions, agreements, then the rollups rebuilt);
- the case page's requests per second against a bare Litestar + Jinja app that reads the same rows
  with plain SQL, served by uvicorn the same way, under the same load.

Prints one table with every number, its target and PASS/FAIL. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import run_load  # noqa: E402

PG_ADMIN = os.environ.get("FENGQIAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-not-for-production-0123456789"


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))] if values else float("nan")


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


@dataclass
class Row:
    what: str
    value: str
    target: str = ""
    ok: bool | None = None


@dataclass
class EngineResult:
    engine: str
    rows: list[Row] = field(default_factory=list)

    def add(self, what: str, value: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(what, value, target, ok))
        flag = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"  [{self.engine}] {what}: {value} {('(target ' + target + ') ' + flag) if target else ''}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A uvicorn subprocess on loopback (``bench/serve.py``)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve.py"), args[0], str(self.port),
                                      *args[1:]], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, path: str = "/", timeout: float = 60) -> None:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def create_pg_database() -> str:
    import asyncpg

    name = f"fengqiao_bench_{uuid.uuid4().hex[:10]}"
    con = await asyncpg.connect(PG_ADMIN)
    try:
        await con.execute(f'CREATE DATABASE "{name}"')
    finally:
        await con.close()
    return urlunparse(urlparse(PG_ADMIN)._replace(path="/" + name))


async def drop_pg_database(url: str) -> None:
    import asyncpg

    con = await asyncpg.connect(PG_ADMIN)
    try:
        await con.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')
    finally:
        await con.close()


def env_for(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update({"FENGQIAO_DATA_DIR": str(data_dir), "FENGQIAO_DATABASE_URL": url, "FENGQIAO_SECRET_KEY": SECRET,
                "FENGQIAO_SECURE_COOKIES": "0", "FENGQIAO_DB_POOL": "1", "PYTHONPATH": str(ROOT)})
    return env


def login(port: int, username: str, password: str) -> Any:
    import httpx

    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    client.get("/login")
    r = client.post("/login", data={"username": username, "password": password,
                                    "_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False)
    if r.status_code != 303:
        raise RuntimeError(f"login failed for {username}: {r.status_code}")
    return client


def timed_gets(client: Any, paths: list[str], repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        for path in paths:
            t0 = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"GET {path}: {r.status_code}")
    return times


def timed_alternating(client: Any, paths: dict[str, str], repeat: int) -> dict[str, list[float]]:
    """Times of GET ``paths`` (name → path), requested in turn ``repeat`` times: pages compared by their
    ratio are measured under the same conditions (caches, other load) rather than one after the other."""
    out: dict[str, list[float]] = {k: [] for k in paths}
    for _ in range(repeat):
        for name, path in paths.items():
            out[name] += timed_gets(client, [path])
    return out


def merge_loads(runs: list[Any]) -> Any:
    from loadgen import LoadResult

    total = LoadResult()
    for r in runs:
        total.requests += r.requests
        total.errors += r.errors
        total.seconds += r.seconds
        total.latencies += r.latencies
        for k, v in r.statuses.items():
            total.statuses[k] = total.statuses.get(k, 0) + v
    return total


async def compare_throughput(targets: dict[str, tuple[int, str]], paths: list[str], *, concurrency: int,
                             seconds: float, rounds: int = 4) -> dict[str, Any]:
    """Requests per second of several servers (name → (port, cookie)) over the same ``paths``: after a
    warm-up, runs of ``seconds / rounds`` alternate between them, so that whatever else the machine
    does falls on all alike; returns each server's merged result."""
    for port, cookie in targets.values():
        await run_load("127.0.0.1", port, paths[:100], cookie=cookie, concurrency=concurrency, seconds=2)
    runs: dict[str, list[Any]] = {k: [] for k in targets}
    for _ in range(rounds):
        for name, (port, cookie) in targets.items():
            runs[name].append(await run_load("127.0.0.1", port, paths, cookie=cookie, concurrency=concurrency,
                                             seconds=seconds / rounds))
    return {k: merge_loads(v) for k, v in runs.items()}


def cursor_for(case_id: int) -> str:
    return base64.urlsafe_b64encode(str(case_id).encode()).decode().rstrip("=")


async def db_timings(url: str, settings: Any, year: int, runs: int) -> dict[str, list[float]]:
    """The page's rollup reads and the naive GROUP BY, in-process on the same engine (pool on PostgreSQL)."""
    from core import db
    from core.access import UserCtx
    from core.registry import build_registry
    from core.statistics.queries import StatsFilters, load_stats, naive_type_source, resolve_scope
    from core.tables import User

    reg = build_registry(settings)
    db.configure(url)
    await db.start(pool=True)
    try:
        admin = UserCtx.from_row(await User.select().where(User.username == "seed-admin").first())
        scope = await resolve_scope(admin, StatsFilters(year * 100 + 1, year * 100 + 12))
        out: dict[str, list[float]] = {"rollup": [], "naive": []}
        await load_stats(scope, reg.statistics)
        for _ in range(runs):
            t0 = time.perf_counter()
            await load_stats(scope, reg.statistics)
            out["rollup"].append(time.perf_counter() - t0)
        await naive_type_source(scope)
        for _ in range(max(3, runs // 5)):
            t0 = time.perf_counter()
            await naive_type_source(scope)
            out["naive"].append(time.perf_counter() - t0)
        return out
    finally:
        await db.stop()


async def bench_engine(engine: str, n_cases: int, seconds: float, concurrency: int, first_year: int,
                       last_year: int) -> EngineResult:
    from core import db
    from core.migrate import migrate
    from core.registry import build_registry
    from core.settings import load_settings
    from core.statistics.seed import seed

    res = EngineResult(engine)
    tmp = Path(tempfile.mkdtemp(prefix=f"fengqiao-bench-{engine}-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}" if engine == "sqlite" else await create_pg_database()
    try:
        env = env_for(url, tmp / "data")
        settings = load_settings(env=env)
        reg = build_registry(settings)
        db.configure(url)
        await migrate()
        print(f"[{engine}] generating {n_cases:,} cases …", flush=True)
        marks = {0}

        def progress(n: int, done=[0]) -> None:  # noqa: B006 - a counter
            done[0] += n
            pct = done[0] * 10 // n_cases
            if pct not in marks:
                marks.add(pct)
                print(f"  [{engine}] {done[0]:,} cases", flush=True)

        result = await seed(reg, url, n_cases, first_year=first_year, last_year=last_year, progress=progress)
        res.add("generation (cases + rollups)", f"{result.seconds:.0f} s ({result.rebuild_seconds:.0f} s rollups; "
                f"{sum(result.rows.values()):,} rows)", "≤ 300 s", result.seconds <= 300)
        await db.stop()

        server = Server(["fengqiao"], env)
        try:
            server.wait("/login")
            admin = login(server.port, "seed-admin", "fengqiao-seed")
            year = last_year
            q = f"/statistics?from={year}-01&to={year}-12"
            timed_gets(admin, [q], 3)
            warm = timed_gets(admin, [q], 60)
            res.add("statistics page p95, province-wide, one year (charts cached by their numbers)", ms(p95(warm)),
                    "≤ 100 ms", p95(warm) <= 0.1)
            periods = [(y, a, b) for y in range(first_year, last_year + 1) for a in range(1, 13) for b in range(a, 13)]
            random.Random(7).shuffle(periods)
            varied = [f"/statistics?from={y}-{a:02d}&to={y}-{b:02d}" for y, a, b in periods[:60]]
            cold = timed_gets(admin, varied)
            res.add("statistics page p95, a different period each time (charts drawn)", ms(p95(cold)), "≤ 100 ms",
                    p95(cold) <= 0.1)
            sup = login(server.port, "seed-sup-01", "fengqiao-seed")
            sup_t = timed_gets(sup, [q], 40)
            res.add("statistics page p95, one county (supervisor)", ms(p95(sup_t)))
            xlsx = timed_gets(admin, [f"/statistics/report.xlsx?from={year}-01&to={year}-12"], 10)
            res.add("monthly report XLSX export p95", ms(p95(xlsx)))

            # case list: first vs deepest page (keyset)
            ids = [int(r) for r in _scalar_rows(url, "SELECT MIN(id), MAX(id) FROM core_case")[0]]
            deepest_path = f"/cases?cursor={cursor_for(ids[0] + 25)}"
            timed_alternating(admin, {"first": "/cases", "deep": deepest_path}, 5)
            pages = timed_alternating(admin, {"first": "/cases", "deep": deepest_path}, 100)
            first, deep = pages["first"], pages["deep"]
            ratio = p95(deep) / p95(first)
            res.add("case list p95 first page, province-wide (admin)", ms(p95(first)), "≤ 50 ms", p95(first) <= 0.05)
            res.add("case list p95 deepest page, province-wide (admin)", ms(p95(deep)), "≤ 50 ms", p95(deep) <= 0.05)
            res.add("case list deepest / first page", f"{ratio:.2f}×", "≤ 1.2×", ratio <= 1.2)
            room_user, room_id = _scalar_rows(url, "SELECT username, room FROM core_user WHERE role = 'mediator' "
                                                   "ORDER BY id LIMIT 1")[0]
            med = login(server.port, room_user, "fengqiao-seed")
            lo = int(_scalar_rows(url, f"SELECT MIN(id) FROM core_case WHERE room = {int(room_id)}")[0][0])
            mpages = timed_alternating(med, {"first": "/cases", "deep": f"/cases?cursor={cursor_for(lo + 1)}"}, 40)
            mfirst, mdeep = mpages["first"], mpages["deep"]
            res.add("case list p95 first / deepest page, one room (mediator)",
                    f"{ms(p95(mfirst))} / {ms(p95(mdeep))} ({p95(mdeep) / p95(mfirst):.2f}×)")

            # case page throughput: both servers up, runs alternating (compare_throughput)
            rng = random.Random(11)
            case_paths = [f"/cases/{rng.randint(ids[0], ids[1])}" for _ in range(500)]
            cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
            bare = Server(["bare", url], env)
            try:
                bare.wait("/cases/1")
                loads = await compare_throughput({"ours": (server.port, cookie), "bare": (bare.port, "")},
                                                 case_paths, concurrency=concurrency, seconds=seconds)
            finally:
                bare.stop()
            ours, base = loads["ours"], loads["bare"]
        finally:
            server.stop()
        share = ours.rps / base.rps if base.rps else 0.0
        res.add("case page req/s: Fengqiao vs bare Litestar+Jinja",
                f"{ours.rps:.0f} vs {base.rps:.0f} = {share:.2f}× (p95 {ms(p95(ours.latencies))} vs "
                f"{ms(p95(base.latencies))}; errors {ours.errors}/{base.errors})", "≥ 0.6×", share >= 0.6)

        timings = await db_timings(url, settings, last_year, 40)
        res.add("rollup reads behind the page p95 (in-process)", ms(p95(timings["rollup"])))
        res.add("naive GROUP BY over core_case p95 (in-process)", ms(p95(timings["naive"])))
        r1 = p95(timings["naive"]) / p95(warm)
        res.add("naive GROUP BY / statistics page (HTTP, p95)", f"{r1:.0f}×", "≥ 20×", r1 >= 20)
        res.add("naive GROUP BY / rollup reads (p95)", f"{p95(timings['naive']) / p95(timings['rollup']):.0f}×")
    finally:
        if engine == "postgres":
            await drop_pg_database(url)
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def _scalar_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        import sqlite3

        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    async def go() -> list[tuple[Any, ...]]:
        import asyncpg

        con = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await con.fetch(sql)]
        finally:
            await con.close()

    return asyncio.run(go()) if not _loop_running() else _run_in_thread(go)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def _run_in_thread(factory: Any) -> Any:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput run")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--years", default="2022-2026")
    args = ap.parse_args()
    first, _, last = args.years.partition("-")
    started = time.time()
    results = []
    for engine in args.engines.split(","):
        results.append(asyncio.run(bench_engine(engine.strip(), args.cases, args.seconds, args.concurrency,
                                                int(first), int(last or first))))
    width = max(len(r.what) for res in results for r in res.rows)
    print()
    print(f"Fengqiao statistics benchmark — {args.cases:,} cases, years {args.years}, {os.cpu_count()} CPUs, "
          f"total {time.time() - started:.0f} s")
    for res in results:
        print(f"\n{res.engine}")
        print(f"  {'measure'.ljust(width)}  {'value':<60} {'target':<10} result")
        for r in res.rows:
            flag = "" if r.ok is None else ("PASS" if r.ok else "FAIL")
            print(f"  {r.what.ljust(width)}  {r.value:<60} {r.target:<10} {flag}")


if __name__ == "__main__":
    main()
