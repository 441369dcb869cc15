"""Case page throughput alone, against an existing database (no generation): Fengqiao vs the bare app.

    FENGQIAO_DATABASE_URL=… python bench/casepage.py [--seconds 12] [--rounds 4] [--concurrency 8]

The same measurement as the case-page line of ``bench/statistics.py`` (``compare_throughput``), for
iterating on the case page without regenerating a million cases. Settings come from the ``FENGQIAO_*``
variables; the database must hold seeded data (``fengqiao seed``; logins ``seed-admin`` …).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from statistics import Server, _scalar_rows, compare_throughput, login, p95  # noqa: E402  (bench/statistics.py)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=12.0, help="measured seconds per server, all rounds")
    ap.add_argument("--rounds", type=int, default=4, help="alternating runs of each server")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--user", default="seed-admin")
    args = ap.parse_args()
    url = os.environ["FENGQIAO_DATABASE_URL"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    lo, hi = (int(x) for x in _scalar_rows(url, "SELECT MIN(id), MAX(id) FROM core_case")[0])
    rng = random.Random(11)
    paths = [f"/cases/{rng.randint(lo, hi)}" for _ in range(500)]
    ours, bare = Server(["fengqiao"], env), Server(["bare", url], env)
    try:
        ours.wait("/login")
        bare.wait("/cases/1")
        client = login(ours.port, args.user, "fengqiao-seed")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        out = await compare_throughput({"fengqiao": (ours.port, cookie), "bare": (bare.port, "")}, paths,
                                       concurrency=args.concurrency, seconds=args.seconds, rounds=args.rounds)
    finally:
        ours.stop()
        bare.stop()
    for k, r in out.items():
        print(f"{k:9} {r.rps:7.0f} req/s  p95 {p95(r.latencies) * 1000:6.1f} ms  errors {r.errors} {r.statuses}")
    print(f"ratio {out['fengqiao'].rps / out['bare'].rps:.2f}×  (target ≥ 0.6×)")


if __name__ == "__main__":
    asyncio.run(main())
