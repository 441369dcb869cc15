"""Schemathesis against the OpenAPI document of the partner API (``/api/v1``), over real HTTP.

The app serves on a loopback port (uvicorn in a thread); schemathesis loads ``/schema/openapi.json``
from it and generates requests for every operation — valid and invalid bodies, path values and
headers — sent with a real partner's bearer token. Checks: no 5xx ever, every response's status
code is documented, its content type and body match the schema, and every 4xx carries the
contract's error body (``{"error": {"code", "message"[, "fields"]}}``, with field messages on 422).

Afterwards every stored referral belongs to the partner's room, and every case has both parties
(nothing half-written). Oversized and malformed bodies are refused with no side effects.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from core.crypto import FieldCipher
from core.handoff.partners import create_partner
from core.handoff.testing import ThreadedApp, sample_referral
from schemathesis.generation import GenerationMode

EXAMPLES = int(os.environ.get("FENGQIAO_FUZZ_EXAMPLES_API", "40"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def live(settings, world, arun) -> Iterator[tuple[str, str]]:
    from web.app import create_app

    cipher = FieldCipher.from_secret(settings.secret_key)
    token = arun(create_partner("court-a", channel="general", room_id="room-a", callback_url="http://127.0.0.1:9/x",
                                cipher=cipher, known_channels={"general"}))["token"]
    with ThreadedApp(create_app(settings.with_(secure_cookies=False), entry_points=False)) as server:
        yield server.base_url, token


def _contract_error(resp: Any) -> None:
    """A 4xx of the partner API carries the contract's error body; a 422 names its fields."""
    body = resp.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"], body
    if resp.status_code == 422:
        assert body["error"]["fields"] and all("field" in f and f["message"] for f in body["error"]["fields"]), body


def _steer(pair: tuple[Any, int]) -> Any:
    case, n = pair
    if n and isinstance(case.body, dict):
        case.body["channel"] = "general"
        case.body["kind"] = "walk_in"
    return case


def test_partner_api_survives_schemathesis(live, world, arun):
    from core.handoff.tables import Referral
    from core.tables import Case, CaseParty

    base_url, token = live
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
    auth = {"Authorization": f"Bearer {token}"}
    stats = {"requests": 0, "5xx": 0, "by_status": {}}
    operations = [op.ok() for op in schema.get_all_operations()]
    assert {f"{o.method.upper()} {o.path}" for o in operations} >= {
        "GET /api/v1/channels", "POST /api/v1/referrals", "GET /api/v1/referrals/{external_id}"}
    started = time.monotonic()
    for operation in operations:
        for mode, use_auth in ((GenerationMode.POSITIVE, True), (GenerationMode.NEGATIVE, True),
                               (GenerationMode.POSITIVE, False)):
            strategy = operation.as_strategy(generation_mode=mode)
            if operation.method.upper() == "POST" and mode is GenerationMode.POSITIVE:
                # steer most generated referrals to the partner's channel, so they reach validation
                # and creation rather than stopping at the channel check (403)
                strategy = st.tuples(strategy, st.integers(0, 3)).map(_steer)
            checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

            @hsettings(max_examples=EXAMPLES if use_auth else 5, deadline=None, database=None, derandomize=True,
                       phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def call(case: Any) -> None:
                headers = dict(auth) if use_auth else {}
                resp = case.call(base_url=base_url, headers=headers, timeout=30)
                stats["requests"] += 1
                stats["by_status"][resp.status_code] = stats["by_status"].get(resp.status_code, 0) + 1
                if resp.status_code >= 500:
                    stats["5xx"] += 1
                case.validate_response(resp, checks=checks)
                if 400 <= resp.status_code < 500:
                    _contract_error(resp)
                if not use_auth:
                    assert resp.status_code == 401, (case.method, case.path, resp.status_code)

            call()
    elapsed = time.monotonic() - started

    # every referral landed in the partner's room, with both parties; no case without parties
    for ref in arun(Referral.select(Referral.case)):
        case = arun(Case.select(Case.room).where(Case.id == ref["case"]).first())
        assert case["room"] == world["rooms"]["a"]["id"]
    for case in arun(Case.select(Case.id)):
        assert arun(CaseParty.count().where(CaseParty.case == case["id"])) >= 2
    print(f"\npartner API fuzzing: {stats['requests']} requests over {len(operations)} operations, "
          f"5xx: {stats['5xx']}, statuses {dict(sorted(stats['by_status'].items()))}, {elapsed:.1f} s")
    assert stats["5xx"] == 0


def test_oversized_and_malformed_bodies_are_refused_without_side_effects(live, world, login, arun):
    """API: > 1 MiB → 413, not JSON → 400, wrong types → 422; HTML intake: a 12 MiB form, a broken
    multipart body and a form with a megabyte field → 4xx. Nothing is stored by any of them."""
    from core.audit import verify
    from core.tables import Case, Party

    base_url, token = live
    auth = {"Authorization": f"Bearer {token}"}
    http = httpx.Client(base_url=base_url, timeout=60, trust_env=False)
    big = sample_referral("BIG-1")
    big["summary"] = "纠纷" * 600_000  # ~3.6 MB of UTF-8
    attempts = [
        http.post("/api/v1/referrals", json=big, headers=auth),
        http.post("/api/v1/referrals", content=b"\xff\xfe{not json", headers={**auth, "Content-Type": "application/json"}),
        http.post("/api/v1/referrals", content=b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
                  headers={**auth, "Content-Type": "multipart/form-data; boundary=x"}),
        http.post("/api/v1/referrals", json={"external_id": ["x"], "channel": 7}, headers=auth),
        http.post("/api/v1/referrals", json=[1, 2, 3], headers=auth),
    ]
    assert [r.status_code for r in attempts] == [413, 400, 400, 422, 422], [(r.status_code, r.text[:200]) for r in attempts]
    for r in attempts:
        _contract_error(r)

    # the HTML intake form, signed in as the room's mediator
    http.get("/login")
    csrf = http.cookies.get("csrftoken")
    resp = http.post("/login", data={"username": "med-a", "password": "correct-horse-1", "_csrf_token": csrf},
                     follow_redirects=False)
    assert resp.status_code == 303
    valid = {"_csrf_token": csrf, "room": str(world["rooms"]["a"]["id"]), "c.summary": "邻居噪音", "c.dispute_type": "neighbour",
             "a.name": "张三", "r.name": "李四"}
    html_attempts = [
        # 12 MiB urlencoded body: over the server's request body limit
        http.post("/intake/general/walk_in", content=("c.summary=" + "x" * (12 * 1024 * 1024)).encode(),
                  headers={"Content-Type": "application/x-www-form-urlencoded", "x-csrftoken": csrf}),
        # multipart with a boundary that never closes
        http.post("/intake/general/walk_in", content=b"--zz\r\nContent-Disposition: form-data; name=\"c.summary\"\r\n\r\nabc",
                  headers={"Content-Type": "multipart/form-data; boundary=zz", "x-csrftoken": csrf}),
        # a file where text is expected, and a one-megabyte summary
        http.post("/intake/general/walk_in", data=valid, files={"c.summary": ("a.exe", b"MZ" + b"\0" * 1000)}),
        http.post("/intake/general/walk_in", data={**valid, "c.summary": "长" * 1_000_000}),
        http.post("/intake/general/walk_in", data={**valid, "a.id_number": "110101199003071234"}),  # bad check digit
    ]
    statuses = [r.status_code for r in html_attempts]
    assert all(400 <= s < 500 for s in statuses), [(r.status_code, r.text[:300]) for r in html_attempts]
    assert statuses[0] == 413
    for r in html_attempts[2:]:
        assert r.status_code == 422 and 'role="alert"' in r.text, r.status_code
    assert "身份证" in html_attempts[4].text
    http.close()
    assert arun(Case.count()) == 0 and arun(Party.count()) == 0
    assert arun(verify()).ok
