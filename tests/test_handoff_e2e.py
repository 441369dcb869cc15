"""End to end, from outside: partners created with the CLI, ``fengqiao serve`` in a subprocess (with
its in-process outbox worker), a partner system talking HTTP to it, staff acting through the web
pages, and the partner's callback server down for a while, then up. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from core.handoff.tables import OutboxEvent, Partner
from core.handoff.testing import PartnerServer, free_port, sample_referral, wait_until
from core.tables import Case
from core.users import create_room, create_user

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct-horse-1"


def cli_env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", FENGQIAO_DATA_DIR=str(settings.data_dir),
               FENGQIAO_DATABASE_URL=settings.database_url, FENGQIAO_SECRET_KEY=settings.secret_key,
               FENGQIAO_SECURE_COOKIES="0", FENGQIAO_OUTBOX_RETRY_SCALE="0.001", FENGQIAO_OUTBOX_POLL="0.05")
    return env


def fq(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    res = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, input=stdin,
                         capture_output=True, text=True, timeout=60)
    return res


def ok(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, f"{res.args}\n{res.stdout}\n{res.stderr}"
    return res.stdout


def test_referral_to_callbacks_through_an_outage(settings, arun, tmp_path):
    env = cli_env(settings)
    partner_server = PartnerServer()  # not listening yet: the partner's system is down
    arun(create_room("room-a", name="甲调解室", channel="general"))  # (rooms/users CLI: tests/test_cli.py)
    arun(create_user("med-a", PASSWORD, role="mediator", room_id="room-a"))
    out = ok(fq(env, "partners", "add", "court-a", "--channel", "general", "--room", "room-a",
                "--callback-url", partner_server.url("/court-a")))
    created = json.loads(out)
    assert set(created) == {"partner", "token", "secret"} and created["secret"].startswith("whsec_")
    token, secret = created["token"], created["secret"]
    partner_server.secrets["/court-a"] = secret

    # neither the token nor the secret is stored in plain text, nor listed again
    row = arun(Partner.select().where(Partner.partner_id == "court-a").first())
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(row, default=str) and secret not in json.dumps(row, default=str)
    listed = ok(fq(env, "partners", "list"))
    assert "court-a" in listed and token not in listed and secret not in listed
    err = fq(env, "partners", "add", "court-b", "--channel", "nosuch", "--room", "room-a", "--callback-url", "http://x/")
    assert err.returncode == 1 and err.stderr.startswith("fengqiao: error:") and len(err.stderr.splitlines()) == 1

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    partner = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, trust_env=False, timeout=30)
    staff = httpx.Client(base_url=base, trust_env=False, timeout=30)
    try:
        wait_until(lambda: _up(base), timeout=30, message="fengqiao serve")
        numbers = []
        for i in range(3):
            resp = partner.post("/api/v1/referrals", json=sample_referral(f"E2E-{i}"))
            assert resp.status_code == 201, resp.text
            numbers.append(resp.json()["case_number"])

        staff.get("/login")
        assert staff.post("/login", data={"username": "med-a", "password": PASSWORD,
                                          "_csrf_token": staff.cookies.get("csrftoken")}).status_code in (200, 303)
        dashboard = staff.get("/").text
        assert all(n in dashboard for n in numbers)
        csrf = {"x-csrftoken": staff.cookies.get("csrftoken")}
        case_ids = [arun(Case.select(Case.id).where(Case.number == n).first())["id"] for n in numbers]
        for case_id in case_ids:
            for key, form in (("accept", {}), ("withdraw", {"reason": "当事人撤回申请"}), ("close", {})):
                resp = staff.post(f"/cases/{case_id}/transitions/{key}", data=form, headers=csrf,
                                  follow_redirects=False)
                assert resp.status_code == 303, (key, resp.status_code, resp.text[:500])

        # the partner is down: every attempt fails and is retried
        wait_until(lambda: all(e["attempts"] >= 1 for e in _head_events(arun)), timeout=10,
                   message="first attempts")
        state = partner.get(f"/api/v1/referrals/{quote('E2E-0', safe='')}").json()
        assert [e["type"] for e in state["events"]] == ["case.accepted", "case.withdrawn", "case.closed"]
        assert state["events"][0]["state"] == "failing" and state["events"][1]["state"] == "pending"
        assert "HTTP" not in json.dumps(state)  # partners see states, not our error texts

        partner_server.start()  # … and comes back: everything arrives, in order per case
        try:
            wait_until(lambda: len(partner_server.unique_ids()) == 9, timeout=30, message="all 9 events")
            received = partner_server.unique_ids()
            for n in numbers:
                types = [d.body["type"] for d in partner_server.accepted() if d.body["case_number"] == n]
                first = list(dict.fromkeys(types))
                assert first == ["case.accepted", "case.withdrawn", "case.closed"], (n, types)
            assert all(d.verified for d in partner_server.snapshot())
            wait_until(lambda: all(e["state"] == "delivered" for e in partner.get(
                "/api/v1/referrals/E2E-2").json()["events"]), timeout=10, message="delivered state")

            # a rotated secret signs every later delivery
            new_secret = json.loads(ok(fq(env, "partners", "rotate-secret", "court-a")))["secret"]
            partner_server.secrets["/court-a"] = new_secret
            resp = partner.post("/api/v1/referrals", json=sample_referral("E2E-9"))
            case_id = arun(Case.select(Case.id).where(Case.number == resp.json()["case_number"]).first())["id"]
            assert staff.post(f"/cases/{case_id}/transitions/accept", headers=csrf,
                              follow_redirects=False).status_code == 303
            wait_until(lambda: len(partner_server.unique_ids()) == 10, timeout=10, message="event after rotation")
            assert partner_server.accepted()[-1].verified and partner_server.unique_ids()[:9] == received
        finally:
            partner_server.stop()

        ok(fq(env, "partners", "disable", "court-a"))
        assert partner.get("/api/v1/channels").status_code == 401
    finally:
        partner.close()
        staff.close()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(20)
        log.close()
    # uvicorn shuts down gracefully (lifespan: the worker is stopped), then re-raises SIGTERM
    text = (tmp_path / "serve.log").read_text()
    assert code in (0, -signal.SIGTERM), (code, text[-1500:])
    assert "Traceback" not in text and "ERROR" not in text, text[-3000:]


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/-/health", timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _head_events(arun: Any) -> list[dict[str, Any]]:
    rows = arun(OutboxEvent.select(OutboxEvent.case, OutboxEvent.attempts, OutboxEvent.type).order_by(OutboxEvent.id))
    heads: dict[int, dict[str, Any]] = {}
    for r in rows:
        heads.setdefault(r["case"], r)
    return list(heads.values()) if len(heads) == 3 else [{"attempts": 0}]
