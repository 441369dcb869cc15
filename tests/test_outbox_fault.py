"""Fault test: the outbox worker is killed with SIGKILL again and again during a burst of state
changes; afterwards every event has reached the partner at least once, none is missing once
deliveries are deduplicated by ``webhook-id``, and each case's events arrived in order.

The worker is the real CLI (``fengqiao worker``, run as ``python -m web.cli worker``) in a subprocess;
the partner is a real HTTP server that verifies every signature. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.cases import apply_transition
from core.crypto import FieldCipher
from core.handoff import referrals
from core.handoff.partners import authenticate, create_partner
from core.handoff.tables import OutboxEvent
from core.handoff.testing import PartnerServer, sample_referral, wait_until

ROOT = Path(__file__).resolve().parents[1]
N_CASES = 12
KILLS = 6


def worker_env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        FENGQIAO_DATA_DIR=str(settings.data_dir),
        FENGQIAO_DATABASE_URL=settings.database_url,
        FENGQIAO_SECRET_KEY=settings.secret_key,
        FENGQIAO_OUTBOX_LEASE="1",  # a killed worker's claims come free after 1 s
        FENGQIAO_OUTBOX_POLL="0.05",
        FENGQIAO_OUTBOX_RETRY_SCALE="0.001",
        FENGQIAO_OUTBOX_CONCURRENCY="4",
    )
    return env


def start_worker(env: dict[str, str], log: Path, *, wait_running: bool = False) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=log.open("ab"))
    if wait_running:  # "outbox worker … running" is printed once it is migrated and polling
        line = proc.stdout.readline()
        assert b"running" in line or proc.poll() is not None, line
    return proc


def test_sigkilled_worker_loses_no_event(settings, registry, world, arun, tmp_path):
    cipher = FieldCipher.from_secret(settings.secret_key)
    with PartnerServer() as server:
        server.delay = 0.02  # deliveries are in flight when the kills land
        created = arun(create_partner("court-a", channel="general", room_id="room-a",
                                      callback_url=server.url("/court-a"), cipher=cipher,
                                      known_channels=set(registry.channels)))
        server.secrets["/court-a"] = created["secret"]
        partner = arun(authenticate(f"Bearer {created['token']}"))
        med = world["users"]["med-a"]
        env = worker_env(settings)
        log = tmp_path / "worker.log"

        kills: list[float] = []
        burst_done = threading.Event()
        rng = random.Random(4)

        problems: list[BaseException] = []

        def killer() -> None:
            try:
                while len(kills) < KILLS or not burst_done.is_set():
                    proc = start_worker(env, log, wait_running=rng.random() < 0.8)  # some kills hit start-up
                    time.sleep(rng.uniform(0.05, 0.6))
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(30)
                    assert proc.returncode == -signal.SIGKILL, proc.returncode
                    kills.append(time.monotonic())
            except BaseException as exc:  # reported by the test thread
                problems.append(exc)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        cases = []
        try:
            for i in range(N_CASES):  # the burst: 3 partner events per case, interleaved with the kills
                valid = referrals.validate_referral(registry, sample_referral(f"KILL-{i}"))
                _, summary = arun(referrals.submit_referral(registry, partner, valid, cipher))
                cases.append(summary["case_id"])
                arun(apply_transition(registry, summary["case_id"], "accept", med))
                time.sleep(0.05)
            for case_id in cases:
                arun(apply_transition(registry, case_id, "withdraw", med, {"reason": "当事人撤回申请"}))
                time.sleep(0.05)
                arun(apply_transition(registry, case_id, "close", med))
        finally:
            burst_done.set()
            thread.join(120)
        assert not problems, problems
        assert len(kills) >= KILLS
        delivered_while_killing = len(server.accepted())

        # a last worker, left alone, finishes the job and stops cleanly on SIGTERM
        proc = start_worker(env, log)
        try:
            wait_until(lambda: not arun(OutboxEvent.exists().where(OutboxEvent.status != "delivered")),
                       timeout=90, interval=0.1, message="every event delivered")
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, log.read_text()[-2000:]

        rows = arun(OutboxEvent.select(OutboxEvent.event_id, OutboxEvent.case).order_by(OutboxEvent.id))
        assert len(rows) == 3 * N_CASES
        received = server.unique_ids("/court-a")
        expected = {r["event_id"] for r in rows}
        assert expected <= set(received), f"missing: {sorted(expected - set(received))}"
        assert set(received) <= expected, "the partner got events that were never committed"
        assert all(d.verified for d in server.snapshot())
        # ordered per case by first successful arrival
        order = {event_id: i for i, event_id in enumerate(received)}
        for case_id in cases:
            ids = [r["event_id"] for r in rows if r["case"] == case_id]
            assert sorted(ids, key=order.__getitem__) == ids, f"case {case_id} out of order"
        assert delivered_while_killing > 0, "the kills should have interrupted a working worker"
        duplicates = len(server.accepted()) - len(received)
        print(f"\n{len(kills)} kills, {len(received)} events, {duplicates} duplicate deliveries")
        if duplicates < 0:  # pragma: no cover - impossible by construction
            pytest.fail("negative duplicates")
