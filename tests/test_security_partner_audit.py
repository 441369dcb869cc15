"""Partner API calls reach the hash-chained audit log (reads, creations, refusals, bad tokens)."""

from __future__ import annotations

import json

import httpx

from core.audit import verify
from core.crypto import FieldCipher
from core.handoff.partners import create_partner
from core.handoff.testing import ThreadedApp, sample_referral
from core.tables import AuditEntry


def test_partner_calls_are_audited(settings, world, arun):
    from web.app import create_app

    token = arun(create_partner("court-a", channel="general", room_id="room-a", callback_url="http://127.0.0.1:9/x",
                                cipher=FieldCipher.from_secret(settings.secret_key), known_channels={"general"}))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    with ThreadedApp(create_app(settings.with_(secure_cookies=False), entry_points=False)) as server:
        with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as http:
            assert http.get("/api/v1/channels", headers=auth).status_code == 200
            assert http.post("/api/v1/referrals", json=sample_referral("A-1"), headers=auth).status_code == 201
            assert http.get("/api/v1/referrals/A-1", headers=auth).status_code == 200
            assert http.post("/api/v1/referrals", json={"external_id": "A-2"}, headers=auth).status_code == 422
            assert http.get("/api/v1/channels", headers={"Authorization": "Bearer stolen"}).status_code == 401
            assert http.get("/api/v1/referrals/NOPE", headers=auth).status_code == 404
        # entries are written after each response; the server has finished them when it stops
    rows = arun(AuditEntry.select(AuditEntry.actor, AuditEntry.action, AuditEntry.target, AuditEntry.detail)
                .order_by(AuditEntry.seq))
    api = [(r["actor"], r["action"], r["target"], json.loads(r["detail"])["status"]) for r in rows
           if r["target"].split(" ", 1)[-1].startswith("/api/")]
    # each entry is written after its response has gone out, so neighbouring calls may land in either order
    assert sorted(api) == sorted([
        ("partner:court-a", "api.read", "GET /api/v1/channels", 200),
        ("partner:court-a", "api.change", "POST /api/v1/referrals", 201),
        ("partner:court-a", "api.read", "GET /api/v1/referrals/A-1", 200),
        ("partner:court-a", "refused", "POST /api/v1/referrals", 422),
        ("anonymous", "denied", "GET /api/v1/channels", 401),
        ("partner:court-a", "denied", "GET /api/v1/referrals/NOPE", 404),
    ]), api
    # nothing personal in the log, and the chain holds
    dump = json.dumps(rows, ensure_ascii=False, default=str)
    assert "110101199003071233" not in dump and "张三" not in dump and token not in dump
    assert arun(verify()).ok
