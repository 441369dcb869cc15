"""The police channel over the public partner API (shared/protocol/HANDOFF.md): a police station's
system refers transfers over real HTTP, and its callback server receives the signed events of the
protocol — accepted or returned, settled, performed, feedback with the no-penalty application, and a
mediation ended by flight. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from core import clock
from core.access import UserCtx
from core.cases import apply_transition, record_session, save_agreement
from core.crypto import FieldCipher
from core.followups import FollowUpIn, record_followup
from core.handoff.outbox import OutboxConfig, OutboxWorker
from core.handoff.partners import create_partner
from core.handoff.testing import PartnerServer, ThreadedApp
from core.records import AgreementIn, SessionIn
from core.tables import Case
from core.users import create_room, create_user

PLUGINS = ("core.builtin", "core.documents", "core.handoff", "core.statistics", "plugins.general", "plugins.police")
TZ = clock.TZ


@pytest.fixture
def registry(settings):
    from core.registry import build_registry

    return build_registry(settings, PLUGINS, entry_points=False)


def referral(external_id: str, kind: str = "public_order", **fields: Any) -> dict[str, Any]:
    body_fields = {
        "station": "城关派出所", "incident_number": external_id, "officer": "王警官", "officer_phone": "13900001111",
        "incident_at": "2026-11-01T20:15:00+08:00", "incident_place": "城关镇某小区", "station_accepted_on": "2026-11-01",
        "injuries_losses": "轻微擦伤", **({"violation": "fight"} if kind == "public_order" else {}),
    }
    body_fields.update(fields)
    return {
        "external_id": external_id, "channel": "police", "kind": kind, "referred_at": "2026-11-02T08:30:00+08:00",
        "summary": "停车纠纷引发推搡", "dispute_type": "damages", "amount": "1200.00", "people_count": 2,
        "parties": [{"role": "applicant", "kind": "person", "name": "李四", "id_number": "110101199003071233",
                     "phone": "13800138000"},
                    {"role": "respondent", "kind": "person", "name": "赵五"}],
        "fields": body_fields,
    }


class Station:
    def __init__(self, base_url: str, token: str, hooks: PartnerServer):
        self.http = httpx.Client(base_url=base_url, timeout=30, trust_env=False,
                                 headers={"Authorization": f"Bearer {token}"})
        self.hooks = hooks


@pytest.fixture
def station(settings, world, arun) -> Iterator[Station]:
    from web.app import create_app

    clock.freeze(dt.datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
    cipher = FieldCipher.from_secret(settings.secret_key)
    hooks = PartnerServer().start()
    arun(create_room("room-p", name="城关驻所调解室", channel="police", organisation=world["orgs"][0]["id"],
                     number_prefix="城警调"))
    arun(create_user("med-p", "correct-horse-1", role="mediator", room_id="room-p", display_name="med-p"))
    created = arun(create_partner("station-cg", channel="police", room_id="room-p", callback_url=hooks.url("/cg"),
                                  cipher=cipher, known_channels={"police", "general"}))
    hooks.secrets["/cg"] = created["secret"]
    app = create_app(settings.with_(secure_cookies=False), plugins=PLUGINS, entry_points=False)
    try:
        with ThreadedApp(app) as server:
            s = Station(server.base_url, created["token"], hooks)
            yield s
            s.http.close()
    finally:
        hooks.stop()
        clock.freeze(None)


def deliver(settings, arun) -> None:
    """Run outbox workers until every queued event is delivered (a case's events go one at a time, so one
    idle pass may end between two of them)."""
    from core.handoff.tables import OutboxEvent

    cfg = OutboxConfig(retry_scale=1e-6, timeout=5, lease=10, poll=0.02)
    for _ in range(50):
        arun(OutboxWorker(FieldCipher.from_secret(settings.secret_key), cfg).run(until_idle=True))
        if not arun(OutboxEvent.count().where(OutboxEvent.status != "delivered")):
            return
    raise AssertionError("events left undelivered")


def med(arun) -> UserCtx:
    from core.tables import User

    return UserCtx.from_row(arun(User.select().where(User.username == "med-p").first()))


def test_station_refers_transfers_and_receives_every_outcome(station, registry, settings, arun):
    # the channel listing describes both kinds, their fields and the first-session deadline
    channels = station.http.get("/api/v1/channels").json()["channels"]
    (police,) = [c for c in channels if c["key"] == "police"]
    kinds = {k["kind"]: k for k in police["kinds"]}
    assert set(kinds) == {"public_order", "civil"}
    props = kinds["public_order"]["fields_schema"]["properties"]
    assert {"station", "incident_number", "officer", "officer_phone", "incident_at", "incident_place",
            "minor_involved", "appraisal_pending", "excluded_provoking_trouble", "violation"} <= set(props)
    assert "excluded_provoking_trouble" not in kinds["civil"]["fields_schema"]["properties"]
    assert kinds["public_order"]["deadline"]["key"] == "police_first_session"
    assert "治安调解工作规范" in kinds["public_order"]["deadline"]["citation"]

    # a bad transfer: every field listed, nothing stored
    bad = station.http.post("/api/v1/referrals", json=referral("J-BAD", station="", officer_phone="x",
                                                               violation="robbery", surprise=1))
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["error"]["fields"]} == {
        "fields.station", "fields.officer_phone", "fields.violation", "fields.surprise"}
    assert arun(Case.count()) == 0

    ok = station.http.post("/api/v1/referrals", json=referral("J-1"))
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "registered"
    excluded = station.http.post("/api/v1/referrals", json=referral("J-2", excluded_gang_fight=True))
    fled = station.http.post("/api/v1/referrals", json=referral("J-3", kind="civil"))
    assert excluded.status_code == fled.status_code == 201
    assert excluded.json()["status"] == "declined"
    ids = {e: arun(Case.select(Case.id).where(Case.external_id == e).first())["id"] for e in ("J-1", "J-2", "J-3")}

    user = med(arun)
    # J-1: accepted, mediated, settled, performed, fed back with the application for no penalty
    for key in ("accept", "start_mediation"):
        arun(apply_transition(registry, ids["J-1"], key, user))
    arun(record_session(registry, ids["J-1"], user, SessionIn(
        held_at=dt.datetime(2026, 11, 3, 10, tzinfo=TZ), place="调解室", attendees="李四、赵五", record="调解")))
    arun(save_agreement(registry, ids["J-1"], user, AgreementIn(
        facts="双方因停车发生推搡", terms="赵五赔偿李四1200元", amount=decimal.Decimal("1200.00"),
        performance_method="现金", performance_deadline=dt.date(2026, 11, 20), signed_by_parties=True,
        signed_by_mediator=True, sealed=True, signed_on=dt.date(2026, 11, 3))))
    arun(apply_transition(registry, ids["J-1"], "settle", user))
    arun(record_followup(registry, ids["J-1"], user, FollowUpIn(done_on=dt.date(2026, 11, 2), performance="performed",
                                                               satisfaction="satisfied")))
    arun(apply_transition(registry, ids["J-1"], "feedback", user, {
        "no_penalty_application": "1", "applied_on": "2026-11-02", "applicants": "李四、赵五",
        "note": "协议已当场履行"}))
    # J-2: a gang fight cannot be mediated: it was returned to the station at intake (201, status declined)
    # J-3: the respondent fled during mediation
    for key in ("accept", "start_mediation"):
        arun(apply_transition(registry, ids["J-3"], key, user))
    arun(apply_transition(registry, ids["J-3"], "end_mediation", user,
                          {"ground": "flight", "occurred_on": "2026-11-02", "reason": "赵五离开本地，联系不上"}))

    deliver(settings, arun)
    got = station.hooks.accepted("/cg")
    assert all(d.verified for d in got)
    by_case: dict[str, list[dict[str, Any]]] = {}
    for d in got:
        by_case.setdefault(d.body["external_id"], []).append(d.body)
    assert [b["type"] for b in by_case["J-1"]] == ["case.accepted", "case.settled", "police.agreement_performed",
                                                   "police.feedback"]
    settled, performed, feedback = by_case["J-1"][1:]
    assert settled["data"]["agreement"]["amount"] == "1200.00"
    assert performed["data"]["amount"] == "1200.00"
    assert feedback["data"]["no_penalty_application"] is True and feedback["data"]["applicants"] == "李四、赵五"
    assert [b["type"] for b in by_case["J-2"]] == ["case.declined"]
    assert by_case["J-2"][0]["data"]["ground"] == "gang_fight"
    assert [b["type"] for b in by_case["J-3"]] == ["case.accepted", "case.not_settled"]
    assert by_case["J-3"][-1]["data"]["ground"] == "flight" and by_case["J-3"][-1]["data"]["route"] == "police_station"

    # the referral's state as the station sees it
    state = station.http.get(f"/api/v1/referrals/{quote('J-1', safe='')}").json()
    assert state["status"] == "closed"
    assert [e["type"] for e in state["events"]][-1] == "police.feedback"
