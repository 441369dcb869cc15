"""Benchmark of the partner handoff: referral POST → signed callback received, on SQLite and PostgreSQL.

    python bench/handoff.py [--samples 100] [--backlog 1000] [--engines sqlite,postgres]

For each engine, in a throw-away database (PostgreSQL: a database created next to
``FENGQIAO_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``, and dropped):

1. **Latency** — ``fengqiao serve`` (with its in-process outbox worker, production settings) runs in a
   subprocess. One at a time, the "partner" POSTs a referral, a mediator accepts it through the web
   page, and the partner's callback server (loopback, verifying every Standard Webhooks signature)
   receives ``case.accepted``. Reported: p50/p95 of POST → callback, and of accept → callback.
2. **Throughput** — a backlog of ``--backlog`` events is written with the server stopped, then one
   ``fengqiao worker`` delivers it to a fast partner (answers 200 at once). Reported: deliveries per
   second from the worker's first look to the last callback.

Everything runs on 127.0.0.1; counts and times are bounded. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.handoff.testing import PartnerServer, free_port, sample_referral, wait_until  # noqa: E402

PG_ADMIN = os.environ.get("FENGQIAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-not-for-production-0123456789"
PASSWORD = "correct-horse-1"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def env_for(data_dir: Path, url: str) -> dict[str, str]:
    # FENGQIAO_OUTBOX_* tunes the worker under test; every other FENGQIAO_ setting is the bench's own
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_") or k.startswith("FENGQIAO_OUTBOX_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", FENGQIAO_DATA_DIR=str(data_dir),
               FENGQIAO_DATABASE_URL=url, FENGQIAO_SECRET_KEY=SECRET, FENGQIAO_SECURE_COOKIES="0")
    return env


def cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    res = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, input=stdin,
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise SystemExit(f"fengqiao {' '.join(args)} failed: {res.stderr.strip()}")
    return res.stdout


async def _pg(sql: str) -> None:
    import asyncpg

    con = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await con.execute(sql)
    finally:
        await con.close()


def make_database(engine: str, tmp: Path) -> tuple[str, Any]:
    if engine == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: None
    name = f"fengqiao_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    url = urlunparse(urlparse(PG_ADMIN)._replace(path="/" + name))
    return url, lambda: asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def setup(env: dict[str, str], partner: PartnerServer) -> str:
    import json

    cli(env, "rooms", "add", "room-a", "--name", "基准调解室", "--channel", "general")
    cli(env, "users", "add", "med-a", "--role", "mediator", "--room", "room-a", stdin=PASSWORD + "\n")
    created = json.loads(cli(env, "partners", "add", "bench", "--channel", "general", "--room", "room-a",
                             "--callback-url", partner.url("/bench")))
    partner.secrets["/bench"] = created["secret"]
    return created["token"]


def measure_latency(env: dict[str, str], token: str, partner: PartnerServer, samples: int,
                    tmp: Path) -> tuple[list[float], list[float]]:
    port = free_port()
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    post_to_cb: list[float] = []
    accept_to_cb: list[float] = []
    try:
        wait_until(lambda: _up(base), timeout=60, message="fengqiao serve")
        with httpx.Client(base_url=base, trust_env=False, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as api, \
                httpx.Client(base_url=base, trust_env=False, timeout=30) as staff:
            staff.get("/login")
            staff.post("/login", data={"username": "med-a", "password": PASSWORD,
                                       "_csrf_token": staff.cookies.get("csrftoken")})
            csrf = {"x-csrftoken": staff.cookies.get("csrftoken")}
            for i in range(samples + 5):  # the first 5 warm up
                t0 = time.monotonic()
                resp = api.post("/api/v1/referrals", json=sample_referral(f"LAT-{i}"))
                assert resp.status_code == 201, resp.text
                number = resp.json()["case_number"]
                case_id = _case_id(staff, number)
                t1 = time.monotonic()
                r = staff.post(f"/cases/{case_id}/transitions/accept", headers=csrf, follow_redirects=False)
                assert r.status_code == 303, r.status_code
                got = partner.wait_for(lambda ds: next((d for d in ds if d.verified and
                                                        d.body.get("case_number") == number), None), timeout=30)
                if i >= 5:
                    post_to_cb.append(got.received_at - t0)
                    accept_to_cb.append(got.received_at - t1)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    return post_to_cb, accept_to_cb


def _case_id(staff: httpx.Client, number: str) -> int:
    """The case id of ``number`` from the staff case list (as a mediator would find it)."""
    import re

    page = staff.get("/cases", params={"q": number}).text
    m = re.search(r'href="/cases/(\d+)"', page)
    assert m, "case not on the list"
    return int(m.group(1))


def build_backlog(env: dict[str, str], n_events: int) -> None:
    """Write ``n_events`` partner events (referral + accept + withdraw per case) with no worker running."""
    code = f"""
import asyncio, os
from core import db
from core.access import UserCtx
from core.cases import apply_transition
from core.crypto import FieldCipher
from core.handoff import referrals
from core.handoff.partners import authenticate
from core.handoff.tables import Partner
from core.handoff.testing import sample_referral
from core.registry import build_registry
from core.settings import load_settings
from core.tables import User

async def main():
    settings = load_settings()
    reg = build_registry(settings)
    db.configure(settings.database_url)
    await db.start(pool=True)
    cipher = FieldCipher.from_secret(settings.secret_key)
    row = await Partner.select().where(Partner.partner_id == "bench").first()
    from core.handoff.partners import PartnerCtx
    partner = PartnerCtx(id=row["id"], partner_id="bench", channel="general", room=row["room"])
    med = UserCtx.from_row(await User.select().where(User.username == "med-a").first())
    sem = asyncio.Semaphore(8)
    async def one(i):
        async with sem:
            valid = referrals.validate_referral(reg, sample_referral(f"TP-{{i}}"))
            _, s = await referrals.submit_referral(reg, partner, valid, cipher)
            await apply_transition(reg, s["case_id"], "accept", med)
            await apply_transition(reg, s["case_id"], "withdraw", med, {{"reason": "当事人撤回申请"}})
    await asyncio.gather(*(one(i) for i in range({n_events // 2})))
    await db.stop()

asyncio.run(main())
"""
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    if res.returncode != 0:
        raise SystemExit(f"building the backlog failed:\n{res.stderr[-3000:]}")


def measure_throughput(env: dict[str, str], partner: PartnerServer, n_events: int, tmp: Path) -> tuple[float, float]:
    before = len(partner.unique_ids())
    errors = (tmp / "worker.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=errors)
    try:
        line = proc.stdout.readline()
        assert b"running" in line, (line, (tmp / "worker.log").read_text()[-2000:])
        t0 = time.monotonic()
        partner.wait_for(lambda ds: len({d.webhook_id for d in ds if d.verified}) >= before + n_events,
                         timeout=300)
        elapsed = partner.snapshot()[-1].received_at - t0
    finally:
        proc.terminate()
        proc.wait(30)
        errors.close()
    return n_events / elapsed, elapsed


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/-/health", timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def pg_reachable() -> bool:
    try:
        asyncio.run(_pg("SELECT 1"))
        return True
    except Exception:
        return False


def run_engine(engine: str, samples: int, backlog: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"fengqiao-bench-{engine}-"))
    url, drop = make_database(engine, tmp)
    try:
        env = env_for(tmp / "data", url)
        with PartnerServer() as partner:
            token = setup(env, partner)
            post_cb, accept_cb = measure_latency(env, token, partner, samples, tmp)
            build_backlog(env, backlog)
            rate, elapsed = measure_throughput(env, partner, backlog, tmp)
            dupes = len(partner.accepted()) - len(partner.unique_ids())
        return {"engine": engine, "samples": len(post_cb), "post_p50": pct(post_cb, 50), "post_p95": pct(post_cb, 95),
                "accept_p50": pct(accept_cb, 50), "accept_p95": pct(accept_cb, 95), "rate": rate,
                "backlog": backlog, "elapsed": elapsed, "duplicates": dupes}
    finally:
        drop()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    samples, backlog = max(1, min(args.samples, 1000)), max(2, min(args.backlog, 20000))
    rows = []
    for engine in args.engines.split(","):
        if engine == "postgres" and not pg_reachable():
            print(f"postgres: skipped, {PG_ADMIN} is unreachable", file=sys.stderr)
            continue
        print(f"{engine}: running …", file=sys.stderr, flush=True)
        rows.append(run_engine(engine, samples, backlog))
    head = ("engine", "samples", "POST→callback p50", "p95", "accept→callback p50", "p95", "deliveries/s",
            "backlog", "dupes")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print(f"| {r['engine']} | {r['samples']} | {r['post_p50'] * 1000:.0f} ms | {r['post_p95'] * 1000:.0f} ms | "
              f"{r['accept_p50'] * 1000:.0f} ms | {r['accept_p95'] * 1000:.0f} ms | {r['rate']:.0f} | "
              f"{r['backlog']} in {r['elapsed']:.1f} s | {r['duplicates']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
