"""The partner referral API (shared/protocol/HANDOFF.md) over real HTTP: uvicorn on a loopback port,
httpx as the partner. Every test runs on SQLite and PostgreSQL.

Covers: authentication (401), channel permission (403) and disabled channels (404
``channel_disabled``), the channel listing, creation (201) landing in the partner's room and on its
dashboard, idempotency (200 / 409, also under concurrent repeats), validation listing every field
(422, nothing stored), 413 and 400, partner scoping of ``GET /api/v1/referrals/{external_id}`` and the
OpenAPI document.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import decimal
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import msgspec
import pytest

from core import hookimpl
from core.channels import Channel, HandoffProtocol, IntakeForm, ProtocolState, Transition
from core.crypto import FieldCipher
from core.handoff.partners import create_partner, set_disabled
from core.handoff.tables import Referral
from core.handoff.testing import ThreadedApp, sample_referral
from core.lifecycle import CoreStatus as S
from core.plugins import DEFAULT_PLUGINS
from core.registry import build_registry
from core.tables import Case, Party

ERROR_KEYS = {"code", "message"}


class Live:
    """A running app and the partners registered on it."""

    def __init__(self, base_url: str, tokens: dict[str, str]):
        self.base_url = base_url
        self.tokens = tokens
        self.http = httpx.Client(base_url=base_url, timeout=30, trust_env=False)

    def auth(self, partner: str = "court-a") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[partner]}"}

    def post(self, body: Any, partner: str = "court-a", **kw: Any) -> httpx.Response:
        return self.http.post("/api/v1/referrals", json=body, headers=self.auth(partner), **kw)

    def get(self, external_id: str, partner: str = "court-a") -> httpx.Response:
        return self.http.get(f"/api/v1/referrals/{quote(external_id, safe='')}", headers=self.auth(partner))


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    assert ERROR_KEYS <= set(body["error"]) <= ERROR_KEYS | {"fields"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


@pytest.fixture
def live(settings, world, arun) -> Iterator[Live]:
    from web.app import create_app

    cipher = FieldCipher.from_secret(settings.secret_key)
    tokens = {}
    for partner, room in (("court-a", "room-a"), ("court-c", "room-c")):
        created = arun(create_partner(partner, channel="general", room_id=room, callback_url="http://127.0.0.1:9/x",
                                      cipher=cipher, known_channels={"general"}))
        tokens[partner] = created["token"]
    # plain http on loopback: the session cookie must not be Secure-only
    with ThreadedApp(create_app(settings.with_(secure_cookies=False), entry_points=False)) as server:
        live = Live(server.base_url, tokens)
        yield live
        live.http.close()


def test_authentication_and_channel_listing(live, arun):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": live.auth()["Authorization"][7:]},
                    {"Authorization": "Basic " + live.tokens["court-a"]}):
        resp = live.http.get("/api/v1/channels", headers=headers)
        assert_error(resp, 401, "unauthorized")
        assert resp.headers["www-authenticate"].startswith("Bearer")
        assert_error(live.http.post("/api/v1/referrals", json=sample_referral("X-1"), headers=headers),
                     401, "unauthorized")

    resp = live.http.get("/api/v1/channels", headers=live.auth())
    assert resp.status_code == 200
    channels = resp.json()["channels"]
    assert [c["key"] for c in channels] == ["general"]
    (kind,) = channels[0]["kinds"]
    assert kind["kind"] == "walk_in"
    schema = kind["fields_schema"]
    assert schema["type"] == "object" and "application_form" in schema["properties"]
    assert schema["properties"]["application_form"]["enum"] == ["oral", "written"]
    assert kind["deadline"]["key"] == "general_mediation"
    assert "《人民调解工作若干规定》第三十三条" in kind["deadline"]["citation"]

    arun(set_disabled("court-a", True))  # a disabled partner's token is refused
    assert_error(live.http.get("/api/v1/channels", headers=live.auth()), 401, "unauthorized")


def test_referral_lands_in_the_partners_room_and_on_its_dashboard(live, world, login, arun):
    body = sample_referral("(2026)鄂0322民诉前调1234号")
    resp = live.post(body)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert set(created) == {"case_number", "status", "deadline", "url"}
    assert created["status"] == "registered"
    assert created["deadline"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", created["deadline"])
    assert resp.headers["location"] == created["url"]
    case = arun(Case.select().where(Case.number == created["case_number"]).first())
    assert case["room"] == world["rooms"]["a"]["id"]
    assert (case["partner_id"], case["external_id"], case["channel"], case["kind"]) == (
        "court-a", body["external_id"], "general", "walk_in")
    assert case["amount"] == decimal.Decimal("35000.00")
    assert case["deadline"] == (None if created["deadline"] is None else dt.date.fromisoformat(created["deadline"]))
    # personal data is stored encrypted, as from the HTML form
    parties = arun(Party.select(Party.name, Party.id_number_enc, Party.id_number_masked))
    assert {p["name"] for p in parties} == {"张三", "某某物业有限公司"}
    assert all("110101199003071233" not in (p["id_number_enc"] or "") for p in parties)

    # the referral's own URL answers with its state
    state = live.http.get(created["url"], headers=live.auth()).json()
    assert state["case_number"] == created["case_number"] and state["events"] == []
    assert "outcome" not in state

    # it is on the room's dashboard at once (over HTTP, as the mediator sees it) …
    with httpx.Client(base_url=live.base_url, trust_env=False) as staff:
        staff.get("/login")
        resp = staff.post("/login", data={"username": "med-a", "password": world["password"],
                                          "_csrf_token": staff.cookies.get("csrftoken")})
        assert resp.status_code in (200, 303)
        assert created["case_number"] in staff.get("/").text
    # … and not on another organisation's
    with httpx.Client(base_url=live.base_url, trust_env=False) as other:
        other.get("/login")
        other.post("/login", data={"username": "med-c", "password": world["password"],
                                   "_csrf_token": other.cookies.get("csrftoken")})
        assert created["case_number"] not in other.get("/").text


def test_idempotent_repeat_and_conflict(live, arun):
    body = sample_referral("IDEM-1")
    first = live.post(body)
    assert first.status_code == 201
    # the same body again, keys reordered and spaced differently: 200, the same case
    again = live.http.post("/api/v1/referrals", headers={**live.auth(), "content-type": "application/json"},
                           content=json.dumps(dict(reversed(list(body.items()))), ensure_ascii=False, indent=2))
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    # a different body for the same external_id: 409, nothing changed
    changed = live.post({**body, "summary": "另一件事"})
    assert_error(changed, 409, "conflict")
    assert arun(Case.count().where(Case.external_id == "IDEM-1")) == 1
    # the same external_id from another partner is another referral
    assert live.post(body, partner="court-c").status_code == 201

    # concurrent identical repeats create exactly one case
    body2 = sample_referral("IDEM-2")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = sorted(r.status_code for r in pool.map(lambda _: live.post(body2), range(6)))
    assert codes == [200] * 5 + [201], codes
    assert arun(Case.count().where(Case.external_id == "IDEM-2")) == 1


def test_invalid_referral_lists_every_field_and_stores_nothing(live, arun):
    body = sample_referral(
        "BAD-1",
        dispute_type="no-such-type",
        amount=35000.0,  # a number, not a decimal string
        parties=[{"role": "applicant", "name": "张三", "id_number": "110101199003071234"},  # bad check digit
                 {"role": "respondent", "kind": "organization", "name": ""}],
        fields={"application_form": "fax", "unknown_field": 1},
        surprise="x",
    )
    del body["summary"]
    error = assert_error(live.post(body), 422, "validation_failed")
    fields = {f["field"]: f["message"] for f in error["fields"]}
    assert set(fields) == {"summary", "dispute_type", "amount", "parties[0].id_number", "parties[1].name",
                           "fields.application_form", "fields.unknown_field", "surprise"}, fields
    assert all(isinstance(m, str) and m for m in fields.values())

    # a missing respondent, a missing parties list, an unknown kind, a naive datetime
    one_party = sample_referral("BAD-2", parties=[sample_referral("x")["parties"][0]])
    assert {f["field"] for f in assert_error(live.post(one_party), 422, "validation_failed")["fields"]} == {"parties"}
    no_parties = sample_referral("BAD-3")
    del no_parties["parties"]
    assert "parties" in {f["field"] for f in assert_error(live.post(no_parties), 422, "validation_failed")["fields"]}
    bad_kind = sample_referral("BAD-4", kind="entrusted", referred_at="2026-11-20T09:30:00")
    assert {f["field"] for f in assert_error(live.post(bad_kind), 422, "validation_failed")["fields"]} == {
        "kind", "referred_at"}
    assert_error(live.post([sample_referral("BAD-5")]), 422, "validation_failed")

    assert arun(Case.count()) == 0 and arun(Referral.count()) == 0 and arun(Party.count()) == 0
    assert_error(live.get("BAD-1"), 404, "not_found")


def test_oversized_and_non_json_bodies(live, arun):
    big = sample_referral("BIG-1", summary="纠" * 10, claims="x" * (1024 * 1024))
    assert_error(live.post(big), 413, "payload_too_large")
    headers = {**live.auth(), "content-type": "application/json"}
    for content in (b"{not json", b"\xff\xfe{}", b""):
        assert_error(live.http.post("/api/v1/referrals", content=content, headers=headers), 400, "invalid_json")
    # chunked (no Content-Length) and over the limit
    chunks = (b"x" * 65536 for _ in range(20))
    assert_error(live.http.post("/api/v1/referrals", content=chunks, headers=headers), 413, "payload_too_large")
    assert arun(Case.count()) == 0


def test_channel_not_registered_for_partner_is_403(live, arun):
    assert_error(live.post(sample_referral("CH-1", channel="court")), 403, "forbidden")
    assert_error(live.post(sample_referral("CH-2", channel="court", kind="pre_filing")), 403, "forbidden")
    assert arun(Case.count()) == 0


def test_a_partner_sees_only_its_own_referrals(live):
    ext = "(2026)A/17号"  # a slash in the partner's reference survives the path
    assert live.post(sample_referral(ext)).status_code == 201
    mine = live.get(ext)
    assert mine.status_code == 200 and mine.json()["external_id"] == ext
    assert_error(live.get(ext, partner="court-c"), 404, "not_found")
    assert_error(live.get("never-sent"), 404, "not_found")


def test_openapi_documents_the_partner_api(live):
    doc = live.http.get("/schema/openapi.json").json()
    assert set(doc["paths"]) == {"/api/v1/channels", "/api/v1/referrals", "/api/v1/referrals/{external_id}"}
    post = doc["paths"]["/api/v1/referrals"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"external_id", "channel", "kind", "summary", "dispute_type", "amount", "parties", "fields"} <= set(
        body["properties"])
    assert {"external_id", "channel", "kind", "summary", "dispute_type", "parties"} <= set(body["required"])
    party = body["properties"]["parties"]["items"]
    assert "id_number" in party["properties"] and party["required"] == ["name"]
    titles = [s["title"] for s in body["properties"]["fields"]["anyOf"]]
    assert {"general/walk_in", "court/pre_filing", "court/entrusted", "police/public_order"} <= set(titles)
    assert {"200", "201", "400", "401", "403", "404", "409", "413", "422"} <= set(post["responses"])
    for code in ("400", "401", "403", "404", "409", "413", "422"):
        ref = post["responses"][code]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorBody"
    assert post["security"] == [{"bearerAuth": []}]
    schemas = doc["components"]["schemas"]
    assert set(schemas["ErrorBody"]["properties"]) == {"error"}
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    get_ref = doc["paths"]["/api/v1/referrals/{external_id}"]["get"]
    assert get_ref["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


# --------------------------------------------------------------------------- a disabled channel


class ExtraFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ticket: Annotated[str, msgspec.Meta(title="工单号", min_length=1)]


class ExtraChannel:
    NAME = "extra"

    @hookimpl
    def fengqiao_register_channels(self, settings):
        return [Channel(key="extra", label="附加渠道", label_en="Extra", case_source="referral.government")]

    @hookimpl
    def fengqiao_register_intake_forms(self, settings):
        return [IntakeForm(channel="extra", kind="order", label="工单", label_en="Order", schema=ExtraFields)]

    @hookimpl
    def fengqiao_register_handoff_protocols(self, settings):
        states = (ProtocolState("received", "已接收", S.REGISTERED), ProtocolState("taken", "已受理", S.ACCEPTED))
        return [HandoffProtocol(channel="extra", initial="received", states=states,
                                transitions=(Transition("take", ("received",), "taken", "受理", "case.accepted"),))]


def test_a_disabled_channel_is_404_channel_disabled(settings, arun):
    from core.users import create_room
    from web.app import create_app

    plugins = [*DEFAULT_PLUGINS, ExtraChannel()]
    cipher = FieldCipher.from_secret(settings.secret_key)
    reg = build_registry(settings, plugins, entry_points=False)
    arun(create_room("room-x", name="工单室", channel="extra", known_channels=set(reg.channels)))
    partner = arun(create_partner("hotline", channel="extra", room_id="room-x", callback_url="http://127.0.0.1:9/",
                                  cipher=cipher, known_channels=set(reg.channels)))
    auth = {"Authorization": f"Bearer {partner['token']}"}
    body = sample_referral("T-1", channel="extra", kind="order", fields={"ticket": "12345-1"})

    # while the channel is enabled, the referral is accepted
    with ThreadedApp(create_app(settings, plugins=plugins, entry_points=False)) as server:
        resp = httpx.post(server.base_url + "/api/v1/referrals", json=body, headers=auth, trust_env=False)
        assert resp.status_code == 201, resp.text
    # the deployment disables it: 404 channel_disabled, and the channel is no longer listed
    disabled = settings.with_(enabled_channels=("general",))
    with ThreadedApp(create_app(disabled, plugins=plugins, entry_points=False)) as server:
        resp = httpx.post(server.base_url + "/api/v1/referrals", json={**body, "external_id": "T-2"}, headers=auth,
                          trust_env=False)
        assert_error(resp, 404, "channel_disabled")
        listed = httpx.get(server.base_url + "/api/v1/channels", headers=auth, trust_env=False)
        assert listed.status_code == 200 and listed.json() == {"channels": []}
        assert_error(httpx.post(server.base_url + "/api/v1/referrals", json=sample_referral("T-3"), headers=auth,
                                trust_env=False), 403, "forbidden")
    assert arun(Case.count().where(Case.external_id == "T-2")) == 0
