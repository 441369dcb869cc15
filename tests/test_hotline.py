"""The 12345 hotline channel (plugins/hotline, issue #15), an outside-style plugin: registered through
the ``fengqiao`` entry-point group, not ``DEFAULT_PLUGINS``. Every test runs on SQLite and PostgreSQL.

Work orders arrive over real HTTP (uvicorn on loopback, httpx as the hotline) and their callbacks go to
a real partner server that verifies signatures; pages are driven through the app with a logged-in
mediator. Covered: discovery through the entry point; the channel listing; work orders (fields,
defaults, the hotline's own deadlines); refusal of petition-track matters (the order says so, or the
caller already has an open petition-track case in the room, by ID number or by phone); the protocol
with its events back to the hotline (sign-for, result, callback); response and completion timeliness;
the report (response, resolution, satisfaction and on-time rates by category and grid) and its scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from core import clock
from core.access import UserCtx
from core.cases import apply_transition, create_case, record_session, save_agreement
from core.channels import RegistrationError
from core.crypto import FieldCipher
from core.handoff.outbox import OutboxConfig, OutboxWorker
from core.handoff.partners import create_partner
from core.handoff.testing import PartnerServer, ThreadedApp
from core.intake import CaseIntake, PartyIn
from core.plugins import DEFAULT_PLUGINS, build_plugin_manager
from core.records import AgreementIn, SessionIn
from core.registry import build_registry
from core.tables import Case, CaseEvent
from core.users import create_organisation, create_room, create_user

PLUGINS = (*DEFAULT_PLUGINS, "plugins.hotline")
FAST = OutboxConfig(retry_scale=0.001, timeout=2.0, lease=5.0, poll=0.05, concurrency=4)
ID_CALLER = "110101199003071233"
ID_OTHER = "11010519491231002X"


def work_order(order: str, **fields: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/referrals`` body for a 12345 work order."""
    parties = fields.pop("parties", None) or [
        {"role": "applicant", "kind": "person", "name": "王芳", "id_number": ID_CALLER, "phone": "13800138000"},
        {"role": "respondent", "kind": "organization", "name": "某某物业服务有限公司",
         "credit_code": "91110000100000000X"},
    ]
    body_fields = {
        "order_number": order,
        "category": "property_service",
        "location": "海口市龙华区金贸街道某小区 3 栋",
        "grid": "金贸-07",
        "grid_worker": "陈网格",
        "dispatched_at": "2026-11-16T09:00:00+08:00",
    }
    body_fields.update(fields)
    return {
        "external_id": order,
        "channel": "hotline",
        "kind": "work_order",
        "referred_at": "2026-11-16T09:05:00+08:00",
        "summary": "来电反映物业公司长期不处理楼顶漏水，要求调解赔偿",
        "dispute_type": "property_management",
        "people_count": 2,
        "parties": parties,
        "fields": {k: v for k, v in body_fields.items() if v is not None},
    }


@pytest.fixture
def hreg(settings) -> Any:
    return build_registry(settings, PLUGINS, entry_points=False)


@pytest.fixture
def hworld(hreg, arun) -> SimpleNamespace:
    """Hotline rooms H1 (org 1) and H2 (org 2), their mediators, a supervisor of org 1 and an admin."""

    async def build() -> SimpleNamespace:
        org1 = await create_organisation("hk-longhua", "龙华区人民调解委员会")
        org2 = await create_organisation("hk-meilan", "美兰区人民调解委员会")
        rooms = {
            "h1": await create_room("room-h1", name="金贸街道调解室", channel="hotline", organisation=org1["id"],
                                    number_prefix="龙热调"),
            "h2": await create_room("room-h2", name="美兰调解室", channel="hotline", organisation=org2["id"],
                                    number_prefix="美热调"),
        }
        users = {}
        for name, role, room in [("med-h1", "mediator", "room-h1"), ("med-h2", "mediator", "room-h2"),
                                 ("sup-h", "supervisor", "room-h1"), ("admin", "admin", None)]:
            users[name] = UserCtx.from_row(await create_user(name, "correct-horse-1", role=role, room_id=room,
                                                             display_name=name))
        return SimpleNamespace(rooms=rooms, users=users)

    return arun(build())


@pytest.fixture
def cipher_(settings) -> FieldCipher:
    return FieldCipher.from_secret(settings.secret_key)


@pytest.fixture
def partner_server() -> Iterator[PartnerServer]:
    with PartnerServer() as server:
        yield server


class Hotline:
    """The 12345 system as a partner: posts work orders, reads them back."""

    def __init__(self, base_url: str, token: str):
        self.http = httpx.Client(base_url=base_url, timeout=30, trust_env=False,
                                 headers={"Authorization": f"Bearer {token}"})

    def post(self, body: Any) -> httpx.Response:
        return self.http.post("/api/v1/referrals", json=body)

    def get(self, external_id: str) -> httpx.Response:
        return self.http.get(f"/api/v1/referrals/{external_id}")


@pytest.fixture
def hotline(settings, hreg, hworld, arun, cipher_, partner_server) -> Iterator[Hotline]:
    """The app on a loopback port with the hotline partner of room H1; callbacks go to the partner server."""
    from web.app import create_app

    created = arun(create_partner("hk-12345", channel="hotline", room_id="room-h1",
                                  callback_url=partner_server.url("/hk"), cipher=cipher_,
                                  known_channels=set(hreg.channels)))
    partner_server.secrets["/hk"] = created["secret"]
    app = create_app(settings.with_(secure_cookies=False), plugins=PLUGINS, entry_points=False)
    with ThreadedApp(app) as server:
        client = Hotline(server.base_url, created["token"])
        yield client
        client.http.close()


@pytest.fixture
def web(settings) -> Iterator[Any]:
    from litestar.testing import TestClient

    from web.app import create_app

    with TestClient(create_app(settings, plugins=PLUGINS, entry_points=False),
                    base_url="https://testserver.local") as c:
        yield c


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def fields_of(error: dict[str, Any]) -> dict[str, str]:
    return {f["field"]: f["message"] for f in error.get("fields", [])}


def hotline_case(arun, hreg, cipher_, room, user, *, order="HK001", parties=None, **fields: Any) -> int:
    """Register a work order through the case engine (as a mediator keying in a dispatch sheet)."""
    from plugins.hotline.forms import WorkOrderFields
    from core.forms import validate_data

    body = work_order(order, **fields)
    form = hreg.form("hotline", "work_order")
    parties = parties or [PartyIn(role="applicant", name="王芳", id_number=ID_CALLER, phone="13800138000"),
                          PartyIn(role="respondent", kind="organization", name="某某物业服务有限公司")]
    created = arun(create_case(hreg, room=room, form=form,
                               intake=CaseIntake(summary=body["summary"], dispute_type=body["dispute_type"]),
                               parties=parties, fields=validate_data(WorkOrderFields, body["fields"]),
                               actor=user, cipher=cipher_))
    return created["id"]


def petition_case(arun, hreg, cipher_, room, user, *, id_number=ID_CALLER, phone="13800138000") -> dict[str, Any]:
    """A petition-track case without the petition plugin: a case whose source is 信访部门委托移交."""
    form = hreg.form("general", "walk_in")
    return arun(create_case(
        hreg, room=room, form=form,
        intake=CaseIntake(summary="信访事项：物业漏水长期未解决", dispute_type="property_management",
                          source="referral.petition"),
        parties=[PartyIn(role="applicant", name="王芳", id_number=id_number, phone=phone),
                 PartyIn(role="respondent", kind="organization", name="某某物业服务有限公司")],
        fields=form.schema(), actor=user, cipher=cipher_))


def mediate_to_agreement(arun, hreg, case_id: int, user: UserCtx) -> None:
    arun(record_session(hreg, case_id, user, SessionIn(
        held_at=clock.now(), place="金贸街道调解室", attendees="王芳、物业公司代表", record="双方同意维修并赔偿",
        outcome="agreement")))
    arun(save_agreement(hreg, case_id, user, AgreementIn(
        form="oral", facts="楼顶漏水致室内墙面受损，物业公司负维修责任", terms="物业公司十日内修复楼顶并赔偿 2000 元",
        performance_method="现金", performance_deadline=clock.today() + dt.timedelta(days=10))))


def case_row(arun, case_id: int) -> dict[str, Any]:
    return arun(Case.select().where(Case.id == case_id).output(load_json=True).first())


def drain(arun, cipher_) -> None:
    """Run the outbox worker until every callback is delivered (a case's later events wait for its
    earlier ones, so one idle pass may leave some for the next)."""
    from core.handoff.tables import OutboxEvent

    for _ in range(20):
        arun(OutboxWorker(cipher_, FAST).run(until_idle=True))
        if not arun(OutboxEvent.count().where(OutboxEvent.status != "delivered")):
            return
    raise AssertionError("callbacks were not delivered")


# --------------------------------------------------------------------------- plugin discovery


def test_hotline_is_found_through_the_entry_point_not_the_default_list(settings, monkeypatch):
    """The installed distribution's ``fengqiao`` entry point (pyproject.toml) loads the plugin. Entry
    points of other installed distributions are left out, so a broken outside package elsewhere in the
    environment cannot decide this test."""
    from importlib import metadata

    import core.plugins

    ours = [ep for ep in metadata.entry_points(group="fengqiao") if ep.dist and ep.dist.name == "fengqiao"]
    assert [(ep.name, ep.value) for ep in ours if ep.name == "hotline"] == [("hotline", "plugins.hotline")]
    monkeypatch.setattr(core.plugins.metadata, "entry_points", lambda group: ours if group == "fengqiao" else [])
    assert "plugins.hotline" not in DEFAULT_PLUGINS
    without = build_plugin_manager(settings, DEFAULT_PLUGINS, entry_points=False)
    assert without.get_plugin("hotline") is None
    pm = build_plugin_manager(settings, DEFAULT_PLUGINS, entry_points=True)
    plugin = pm.get_plugin("hotline")
    assert plugin is not None and plugin.__name__ == "plugins.hotline"
    hooks = {h.name for h in pm.get_hookcallers(plugin)}
    assert {"fengqiao_register_channels", "fengqiao_case_registered", "fengqiao_case_transitioned",
            "fengqiao_register_routes", "fengqiao_case_panels"} <= hooks
    channels = {c.key for result in pm.hook.fengqiao_register_channels(settings=settings) for c in result}
    assert "hotline" in channels


def test_bad_response_hours_setting_is_a_startup_error(settings):
    bad = settings.with_(channels={"hotline": {"response_hours": 0}})
    with pytest.raises(RegistrationError, match="response_hours"):
        build_registry(bad, PLUGINS, entry_points=False)


# --------------------------------------------------------------------------- work orders by the API


def test_channel_listing_offers_the_work_order_kind(hotline):
    resp = hotline.http.get("/api/v1/channels")
    assert resp.status_code == 200, resp.text
    channels = resp.json()["channels"] if isinstance(resp.json(), dict) else resp.json()
    [ch] = [c for c in channels if c["key"] == "hotline"]
    [kind] = ch["kinds"]
    assert kind["kind"] == "work_order"
    props = kind["fields_schema"]["properties"]
    assert {"order_number", "category", "location", "grid", "grid_worker", "dispatched_at", "response_due",
            "completion_due", "petition_reference"} <= set(props)
    assert set(kind["fields_schema"]["required"]) == {"order_number", "category", "location", "grid", "dispatched_at"}
    assert "wage_arrears" in props["category"]["enum"]
    assert kind["deadline"]["limit"] == 5 and kind["deadline"]["unit"] == "working"


def test_work_order_with_its_own_deadlines(hotline, hreg, arun):
    resp = hotline.post(work_order("HK20261116001", response_due="2026-11-16T11:00:00+08:00",
                                   completion_due="2026-11-19"))
    assert resp.status_code == 201, resp.text
    assert resp.json()["deadline"] == "2026-11-19" and resp.json()["status"] == "registered"
    row = arun(Case.select().where(Case.external_id == "HK20261116001").output(load_json=True).first())
    assert row["channel"] == "hotline" and row["state"] == "dispatched" and row["source"] == "referral.hotline"
    assert row["deadline"] == dt.date(2026, 11, 19)
    assert row["intake"]["order_number"] == "HK20261116001" and row["intake"]["grid"] == "金贸-07"
    assert row["intake"]["response_due"] == "2026-11-16T11:00:00+08:00"
    assert row["intake"]["completion_due"] == "2026-11-19"
    state = hotline.get("HK20261116001").json()
    assert state["deadline"] == "2026-11-19" and state["status"] == "registered"


def test_work_order_without_deadlines_gets_the_deployment_defaults(hotline, hreg, arun):
    resp = hotline.post(work_order("HK20261120002", dispatched_at="2026-11-20T16:30:00+08:00"))
    assert resp.status_code == 201, resp.text
    # Friday 20 November 2026 + 5 working days = Friday 27 November; response within 24 hours
    assert resp.json()["deadline"] == "2026-11-27"
    assert resp.json()["deadline"] == hreg.calendar.add_workdays(dt.date(2026, 11, 20), 5).isoformat()
    row = arun(Case.select(Case.intake, Case.clock_started_on).where(Case.external_id == "HK20261120002")
               .output(load_json=True).first())
    assert row["intake"]["response_due"] == "2026-11-21T16:30:00+08:00"
    assert row["intake"]["completion_due"] == "2026-11-27"
    assert row["clock_started_on"] == dt.date(2026, 11, 20)  # the clock runs from dispatch


def test_invalid_work_order_lists_every_field_and_stores_nothing(hotline, arun):
    body = work_order("HK-BAD", category="parking", dispatched_at="2026-11-16 09:00",
                      completion_due="2026-11-10")
    del body["fields"]["grid"]
    error = assert_error(hotline.post(body), 422, "validation_failed")
    fields = fields_of(error)
    assert {"fields.category", "fields.dispatched_at", "fields.grid"} <= set(fields)
    assert fields["fields.grid"] == "此项为必填"
    late = work_order("HK-BAD2", completion_due="2026-11-10", response_due="2026-11-15T09:00:00+08:00")
    fields = fields_of(assert_error(hotline.post(late), 422, "validation_failed"))
    assert fields == {"fields.completion_due": "要求办结日期不能早于派单日期",
                      "fields.response_due": "要求响应时间不能早于派单时间"}
    assert arun(Case.count().where(Case.channel == "hotline")) == 0


# --------------------------------------------------------------------------- petition track


def test_order_that_names_a_petition_is_refused_with_a_reason(hotline, arun):
    error = assert_error(hotline.post(work_order("HK-P1", petition_reference="琼信访〔2026〕0815号")),
                         422, "validation_failed")
    fields = fields_of(error)
    assert set(fields) == {"fields.petition_reference"}
    assert "已进入信访程序" in fields["fields.petition_reference"]
    assert "琼信访〔2026〕0815号" in fields["fields.petition_reference"]
    assert arun(Case.count().where(Case.channel == "hotline")) == 0
    assert hotline.get("HK-P1").status_code == 404


def test_caller_with_an_open_petition_case_in_the_room_is_refused(hotline, hreg, hworld, arun, cipher_):
    petition = petition_case(arun, hreg, cipher_, hworld.rooms["h1"], hworld.users["med-h1"])
    error = assert_error(hotline.post(work_order("HK-P2")), 422, "validation_failed")
    fields = fields_of(error)
    assert set(fields) == {"parties[0].id_number", "parties"}
    assert petition["number"] in fields["parties[0].id_number"] and "信访" in fields["parties[0].id_number"]
    assert arun(Case.count().where(Case.channel == "hotline")) == 0  # nothing half-written
    # the same caller without an ID number is still recognised by phone
    no_id = work_order("HK-P3", parties=[
        {"role": "respondent", "kind": "organization", "name": "某某物业服务有限公司"},
        {"role": "applicant", "kind": "person", "name": "王芳", "phone": "13800138000"}])
    fields = fields_of(assert_error(hotline.post(no_id), 422, "validation_failed"))
    assert set(fields) == {"parties[1].phone", "parties"}
    # another caller is not affected
    other = work_order("HK-P4", parties=[
        {"role": "applicant", "kind": "person", "name": "李强", "id_number": ID_OTHER, "phone": "13900139000"},
        {"role": "respondent", "kind": "organization", "name": "某某物业服务有限公司"}])
    assert hotline.post(other).status_code == 201


def test_closed_other_room_or_respondent_petition_cases_do_not_block(hotline, hreg, hworld, arun, cipher_):
    other_room = petition_case(arun, hreg, cipher_, hworld.rooms["h2"], hworld.users["med-h2"])
    assert other_room["status"] == "registered"
    closed = petition_case(arun, hreg, cipher_, hworld.rooms["h1"], hworld.users["med-h1"])
    med = hworld.users["med-h1"]
    arun(apply_transition(hreg, closed["id"], "decline", med, {"reason": "不属于调解范围"}))
    # an open petition case in which the caller is the one complained about (not the petitioner)
    form = hreg.form("general", "walk_in")
    arun(create_case(hreg, room=hworld.rooms["h1"], form=form,
                     intake=CaseIntake(summary="邻居信访反映王芳", dispute_type="neighbour", source="referral.petition"),
                     parties=[PartyIn(role="applicant", name="李强", id_number=ID_OTHER),
                              PartyIn(role="respondent", name="王芳", id_number=ID_CALLER, phone="13800138000")],
                     fields=form.schema(), actor=med, cipher=cipher_))
    assert hotline.post(work_order("HK-P5")).status_code == 201


# --------------------------------------------------------------------------- protocol and callbacks


def test_full_order_life_sends_signed_events_back_to_the_hotline(hotline, hreg, hworld, arun, cipher_,
                                                                    partner_server):
    now = clock.now()
    resp = hotline.post(work_order("HK-LIFE", dispatched_at=(now - dt.timedelta(hours=2)).isoformat(),
                                   completion_due=(clock.today() + dt.timedelta(days=3)).isoformat()))
    assert resp.status_code == 201, resp.text
    case_id = arun(Case.select(Case.id).where(Case.external_id == "HK-LIFE").first())["id"]
    med = hworld.users["med-h1"]
    arun(apply_transition(hreg, case_id, "sign_for", med))
    arun(apply_transition(hreg, case_id, "start_mediation", med))
    mediate_to_agreement(arun, hreg, case_id, med)
    arun(apply_transition(hreg, case_id, "resolve", med))
    arun(apply_transition(hreg, case_id, "callback", med, {"satisfaction": "satisfied", "method": "phone",
                                                             "notes": "来电人对处理结果满意"}))
    arun(apply_transition(hreg, case_id, "close", med))
    drain(arun, cipher_)
    partner_server.wait_for(lambda ds: len([d for d in ds if d.verified]) >= 4)
    accepted = partner_server.accepted("/hk")
    by_type = {d.body["type"]: d.body for d in accepted}
    assert set(by_type) == {"hotline.signed_for", "case.settled", "hotline.callback_done", "case.closed"}
    assert all(d.body["external_id"] == "HK-LIFE" for d in accepted)
    signed = by_type["hotline.signed_for"]["data"]
    assert signed["order_number"] == "HK-LIFE" and signed["response_on_time"] is True and signed["responded_at"]
    settled = by_type["case.settled"]["data"]
    assert settled["result"] == "resolved" and settled["completed_on_time"] is True
    assert settled["agreement"]["terms"].startswith("物业公司十日内修复")
    callback = by_type["hotline.callback_done"]["data"]
    assert callback["satisfaction"] == "satisfied" and callback["method"] == "phone"
    assert [d.body["type"] for d in accepted] == ["hotline.signed_for", "case.settled", "hotline.callback_done",
                                                  "case.closed"]  # ordered per case
    state = hotline.get("HK-LIFE").json()
    assert state["status"] == "closed" and state["outcome"]["result"] == "settled_oral"
    row = case_row(arun, case_id)
    assert row["intake"]["_track"]["satisfaction"] == "satisfied"
    assert row["state"] == "closed"


def test_close_needs_the_callback_first(hreg, hworld, arun, cipher_):
    from core.cases import Refused

    med = hworld.users["med-h1"]
    case_id = hotline_case(arun, hreg, cipher_, hworld.rooms["h1"], med)
    for key in ("sign_for", "start_mediation"):
        arun(apply_transition(hreg, case_id, key, med))
    arun(apply_transition(hreg, case_id, "not_resolve", med, {"reason": "物业公司拒绝赔偿", "route": "litigation"}))
    with pytest.raises(Refused, match="不能执行“结案”"):
        arun(apply_transition(hreg, case_id, "close", med))
    with pytest.raises(Refused, match="不能执行"):
        arun(apply_transition(hreg, case_id, "callback", med, {"satisfaction": "satisfied"}))
    arun(apply_transition(hreg, case_id, "callback_unresolved", med, {"satisfaction": "dissatisfied"}))
    arun(apply_transition(hreg, case_id, "close", med))
    row = case_row(arun, case_id)
    assert row["status"] == "closed" and row["outcome"] == "not_settled" and row["suggested_route"] == "litigation"
    assert row["intake"]["_track"]["result"] == "not_resolved"
    assert row["intake"]["_track"]["satisfaction"] == "dissatisfied"


def test_return_to_the_hotline_before_and_after_signing(hotline, hreg, hworld, arun, cipher_, partner_server):
    med = hworld.users["med-h1"]
    assert hotline.post(work_order("HK-R1")).status_code == 201
    assert hotline.post(work_order("HK-R2", parties=[
        {"role": "applicant", "kind": "person", "name": "李强", "id_number": ID_OTHER},
        {"role": "respondent", "kind": "person", "name": "赵六"}])).status_code == 201
    r1 = arun(Case.select(Case.id).where(Case.external_id == "HK-R1").first())["id"]
    r2 = arun(Case.select(Case.id).where(Case.external_id == "HK-R2").first())["id"]
    arun(apply_transition(hreg, r1, "return_unsigned", med, {"reason": "属于行政执法事项，非民间纠纷",
                                                              "suggested_unit": "区综合行政执法局"}))
    arun(apply_transition(hreg, r2, "sign_for", med))
    arun(apply_transition(hreg, r2, "return_to_hotline", med, {"reason": "当事人住所不在本辖区"}))
    one, two = case_row(arun, r1), case_row(arun, r2)
    assert (one["status"], one["outcome"], one["state"]) == ("declined", "declined", "returned")
    assert (two["status"], two["state"]) == ("not_settled", "returned_signed")
    assert one["intake"]["_track"]["result"] == "returned" and "responded_at" in one["intake"]["_track"]
    assert two["intake"]["_track"]["result"] == "returned"
    drain(arun, cipher_)
    partner_server.wait_for(lambda ds: len([d for d in ds if d.verified]) >= 3)
    returned = [d.body for d in partner_server.accepted("/hk") if d.body["type"] == "hotline.returned"]
    assert {b["external_id"] for b in returned} == {"HK-R1", "HK-R2"}
    assert any(b["data"].get("suggested_unit") == "区综合行政执法局" for b in returned)
    arun(apply_transition(hreg, r1, "close", med))  # a returned order closes without a callback
    assert case_row(arun, r1)["status"] == "closed"


# --------------------------------------------------------------------------- deadlines


def test_late_response_and_late_completion_are_tracked_separately(hreg, hworld, arun, cipher_):
    med = hworld.users["med-h1"]
    dispatched = clock.now() - dt.timedelta(days=12)
    case_id = hotline_case(
        arun, hreg, cipher_, hworld.rooms["h1"], med, order="HK-LATE",
        dispatched_at=dispatched.isoformat(), response_due=(dispatched + dt.timedelta(hours=2)).isoformat(),
        completion_due=(clock.today() - dt.timedelta(days=1)).isoformat())
    assert case_row(arun, case_id)["deadline"] == clock.today() - dt.timedelta(days=1)
    arun(apply_transition(hreg, case_id, "sign_for", med))
    track = case_row(arun, case_id)["intake"]["_track"]
    assert track["response_on_time"] is False
    arun(apply_transition(hreg, case_id, "not_resolve", med, {"reason": "双方分歧较大", "route": "litigation"}))
    track = case_row(arun, case_id)["intake"]["_track"]
    assert track["completed_on_time"] is False and track["response_on_time"] is False
    # on time for the response but the default completion: another order, answered at once
    fresh = hotline_case(arun, hreg, cipher_, hworld.rooms["h1"], med, order="HK-FRESH",
                         parties=[PartyIn(role="applicant", name="李强", id_number=ID_OTHER),
                                  PartyIn(role="respondent", name="赵六")],
                         dispatched_at=clock.now().isoformat())
    arun(apply_transition(hreg, fresh, "sign_for", med))
    row = case_row(arun, fresh)
    assert row["intake"]["_track"]["response_on_time"] is True
    assert row["deadline"] == hreg.calendar.add_workdays(clock.today(), 5)
    events = arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == fresh).order_by(CaseEvent.id))
    assert [e["type"] for e in events] == ["case.registered", "hotline.signed_for"]


def test_deployment_can_change_the_default_limits(settings, arun):
    custom = settings.with_(channels={"hotline": {"response_hours": 2}},
                            deadlines={"hotline_work_order": {"limit": 3}})
    reg = build_registry(custom, PLUGINS, entry_points=False)
    assert reg.deadline_rules["hotline_work_order"].limit == 3

    async def go() -> dict[str, Any]:
        org = await create_organisation("hk-x", "某调委会")
        room = await create_room("room-hx", name="某调解室", channel="hotline", organisation=org["id"],
                                 number_prefix="某热调")
        user = UserCtx.from_row(await create_user("med-hx", "correct-horse-1", role="mediator", room_id="room-hx"))
        return {"room": room, "user": user}

    w = arun(go())
    case_id = hotline_case(arun, reg, FieldCipher.from_secret(custom.secret_key), w["room"], w["user"],
                           dispatched_at="2026-11-20T16:30:00+08:00")
    row = case_row(arun, case_id)
    assert row["intake"]["response_due"] == "2026-11-20T18:30:00+08:00"
    assert row["deadline"] == reg.calendar.add_workdays(dt.date(2026, 11, 20), 3)


# --------------------------------------------------------------------------- statistics


def _orders_for_report(arun, hreg, hworld, cipher_) -> None:
    """Five orders in room H1 (three property orders in grid A, two neighbour orders in grid B) and
    one in room H2."""
    med = hworld.users["med-h1"]
    room = hworld.rooms["h1"]
    callers = ["110101199003071233", "11010519491231002X", "110101198001010010", "110101197001010019",
               "110101196001010012"]
    ids = []
    for i, (category, grid) in enumerate([("property_service", "网格A")] * 3 + [("neighbour", "网格B")] * 2):
        parties = [PartyIn(role="applicant", name=f"来电人{i}", id_number=callers[i]),
                   PartyIn(role="respondent", name=f"对方{i}")]
        ids.append(hotline_case(arun, hreg, cipher_, room, med, order=f"HK-S{i}", parties=parties,
                                category=category, grid=grid, dispatched_at=clock.now().isoformat()))
    # 0: resolved, callback satisfied; 1: resolved, callback dissatisfied; 2: not resolved
    for case_id, satisfaction in ((ids[0], "satisfied"), (ids[1], "dissatisfied")):
        arun(apply_transition(hreg, case_id, "sign_for", med))
        arun(apply_transition(hreg, case_id, "start_mediation", med))
        mediate_to_agreement(arun, hreg, case_id, med)
        arun(apply_transition(hreg, case_id, "resolve", med))
        arun(apply_transition(hreg, case_id, "callback", med, {"satisfaction": satisfaction}))
    arun(apply_transition(hreg, ids[2], "sign_for", med))
    arun(apply_transition(hreg, ids[2], "not_resolve", med, {"reason": "分歧较大", "route": "litigation"}))
    # 3: returned before signing; 4: still waiting to be signed for
    arun(apply_transition(hreg, ids[3], "return_unsigned", med, {"reason": "不属于调解范围"}))
    other = hworld.users["med-h2"]
    hotline_case(arun, hreg, cipher_, hworld.rooms["h2"], other, order="HK-S9", category="neighbour", grid="网格C")


def test_report_rates_by_category_and_grid(hreg, hworld, arun, cipher_):
    from plugins.hotline.report import hotline_report

    _orders_for_report(arun, hreg, hworld, cipher_)
    period = clock.today().year * 100 + clock.today().month
    report = arun(hotline_report(hworld.users["med-h1"], period, period))
    t = report.total
    assert (t.orders, t.responded, t.resolved, t.not_resolved, t.returned, t.callbacks, t.satisfied) == (
        5, 4, 2, 1, 1, 2, 1)
    assert t.response_rate == 80.0 and t.resolution_rate == pytest.approx(66.7)
    assert t.satisfaction_rate == 50.0 and t.on_time_response_rate == 100.0 and t.on_time_completion_rate == 100.0
    cats = {r.key: r for r in report.by_category}
    assert set(cats) == {"property_service", "neighbour"} and cats["property_service"].label == "物业服务纠纷"
    assert (cats["property_service"].orders, cats["property_service"].resolved, cats["neighbour"].returned) == (3, 2, 1)
    assert cats["neighbour"].response_rate == 50.0 and cats["neighbour"].resolution_rate is None
    grids = {r.key: r for r in report.by_grid}
    assert set(grids) == {"网格A", "网格B"}
    assert grids["网格A"].satisfaction_rate == 50.0
    # scope: room H2's mediator sees only H2; the admin sees both rooms
    assert arun(hotline_report(hworld.users["med-h2"], period, period)).total.orders == 1
    assert arun(hotline_report(hworld.users["admin"], period, period)).total.orders == 6
    assert arun(hotline_report(hworld.users["sup-h"], period, period)).total.orders == 5
    # another period: nothing
    assert arun(hotline_report(hworld.users["admin"], 202001, 202012)).total.orders == 0


def test_hotline_counters_reach_the_statistics_engine(hreg, hworld, arun, cipher_):
    from core.statistics.tables import Indicator

    _orders_for_report(arun, hreg, hworld, cipher_)
    rows = arun(Indicator.select().where(Indicator.statistic.like("hotline_%"),
                                         Indicator.room == hworld.rooms["h1"]["id"]))
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["statistic"]] = totals.get(r["statistic"], 0) + int(r["value"])
    assert totals.get("hotline_orders_cases") == 5
    assert totals.get("hotline_signed_for_cases") == 3
    assert totals.get("hotline_resolved_cases") == 2 and totals.get("hotline_returned_cases") == 1


# --------------------------------------------------------------------------- pages


def _login(client, username: str) -> None:
    client.get("/login")
    resp = client.post("/login", data={"username": username, "password": "correct-horse-1",
                                       "_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False)
    assert resp.status_code == 303, resp.text


def test_report_page_full_and_htmx(web, hreg, hworld, arun, cipher_):
    assert web.get("/channels/hotline/", follow_redirects=False).status_code in (302, 303)
    _orders_for_report(arun, hreg, hworld, cipher_)
    _login(web, "med-h1")
    page = web.get("/channels/hotline/")
    assert page.status_code == 200 and "<html" in page.text and "按派单分类" in page.text
    assert "物业服务纠纷" in page.text and "网格A" in page.text and "网格C" not in page.text
    assert 'class="rate-satisfaction">50.0%' in page.text and 'class="rate-response">80.0%' in page.text
    assert "HK-S4" in page.text  # still waiting to be signed for: on the work list
    part = web.get("/channels/hotline/", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text and 'id="hotline-report"' in part.text
    assert part.headers["vary"] == "HX-Request"
    empty = web.get("/channels/hotline/?from=2020-01&to=2020-12")
    assert "本期没有工单" in empty.text
    month = clock.today().strftime("%Y-%m")
    export = web.get(f"/channels/hotline/report.csv?from={month}&to={month}")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in export.headers["content-disposition"]
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("维度,名称,工单数,已响应,响应率(%)")
    assert lines[1].split(",")[:5] == ["合计", "合计", "5", "4", "80.0"]
    assert any(line.startswith("派单分类,物业服务纠纷,3,") for line in lines)
    assert any(line.startswith("网格,网格B,2,") for line in lines) and not any("网格C" in line for line in lines)


def test_work_order_through_the_pages(web, hreg, hworld, arun, cipher_):
    _login(web, "med-h1")
    form_page = web.get("/intake/hotline/work_order")
    assert form_page.status_code == 200 and "工单编号" in form_page.text and "信访件编号" in form_page.text
    data = {
        "_csrf_token": web.cookies.get("csrftoken"),
        "c.summary": "来电反映邻居深夜噪音", "c.dispute_type": "neighbour",
        "a.name": "王芳", "a.id_number": ID_CALLER, "a.phone": "13800138000", "r.name": "赵六",
        "f.order_number": "HK-WEB1", "f.category": "neighbour", "f.location": "某小区 5 栋", "f.grid": "网格B",
        "f.dispatched_at": clock.now().strftime("%Y-%m-%dT%H:%M"),
    }
    refused = web.post("/intake/hotline/work_order", data={**data, "f.petition_reference": "琼信访〔2026〕1号"},
                       follow_redirects=False)
    assert refused.status_code == 422 and "已进入信访程序" in refused.text
    created = web.post("/intake/hotline/work_order", data=data, follow_redirects=False)
    assert created.status_code == 303, created.text
    case_url = created.headers["location"]
    case_id = int(case_url.rsplit("/", 1)[1])
    page = web.get(case_url)
    assert page.status_code == 200 and 'id="hotline-order"' in page.text
    assert "HK-WEB1" in page.text and "尚未签收" in page.text and "签收" in page.text
    signed = web.post(f"{case_url}/transitions/sign_for", data={"_csrf_token": web.cookies.get("csrftoken")},
                      follow_redirects=False)
    assert signed.status_code == 303
    page = web.get(case_url)
    assert "（按时）" in page.text and case_row(arun, case_id)["state"] == "signed_for"
    bad = web.post(f"{case_url}/transitions/return_to_hotline", data={"_csrf_token": web.cookies.get("csrftoken"),
                                                                      "reason": ""}, follow_redirects=False)
    assert bad.status_code == 422 and case_row(arun, case_id)["state"] == "signed_for"
    # another room's mediator does not see the order
    web.post("/logout", data={"_csrf_token": web.cookies.get("csrftoken")})
    _login(web, "med-h2")
    assert web.get(case_url).status_code == 404
    assert web.post(f"{case_url}/transitions/start_mediation",
                    data={"_csrf_token": web.cookies.get("csrftoken")}).status_code == 404
    assert "HK-WEB1" not in web.get("/channels/hotline/").text


def test_intake_page_refuses_a_caller_in_the_petition_track(web, hreg, hworld, arun, cipher_):
    petition = petition_case(arun, hreg, cipher_, hworld.rooms["h1"], hworld.users["med-h1"])
    _login(web, "med-h1")
    data = {
        "_csrf_token": web.cookies.get("csrftoken"),
        "c.summary": "来电反映物业漏水", "c.dispute_type": "property_management",
        "a.name": "王芳", "a.id_number": ID_CALLER, "r.name": "某某物业服务有限公司",
        "f.order_number": "HK-WEB2", "f.category": "property_service", "f.location": "某小区 3 栋",
        "f.grid": "网格A", "f.dispatched_at": clock.now().strftime("%Y-%m-%dT%H:%M"),
    }
    refused = web.post("/intake/hotline/work_order", data=data, follow_redirects=False)
    assert refused.status_code == 422
    assert "已有信访渠道案件" in refused.text and petition["number"] in refused.text
    assert arun(Case.count().where(Case.channel == "hotline")) == 0


def test_withdrawal_is_not_a_response_and_overdue_orders_are_flagged(web, hreg, hworld, arun, cipher_):
    med = hworld.users["med-h1"]
    dispatched = clock.now() - dt.timedelta(days=15)
    withdrawn = hotline_case(arun, hreg, cipher_, hworld.rooms["h1"], med, order="HK-W1",
                             dispatched_at=dispatched.isoformat())
    arun(apply_transition(hreg, withdrawn, "withdraw", med, {"reason": "来电人表示已自行协商解决"}))
    track = case_row(arun, withdrawn)["intake"]["_track"]
    assert "responded_at" not in track and track["result"] == "withdrawn"
    late = hotline_case(arun, hreg, cipher_, hworld.rooms["h1"], med, order="HK-W2",
                        parties=[PartyIn(role="applicant", name="李强", id_number=ID_OTHER),
                                 PartyIn(role="respondent", name="赵六")],
                        dispatched_at=dispatched.isoformat())
    _login(web, "med-h1")
    page = web.get(f"/cases/{late}")
    assert "已超过热线要求的办结日期" in page.text
    assert "已超过热线要求的办结日期" not in web.get(f"/cases/{withdrawn}").text
    from plugins.hotline.report import hotline_report

    period = clock.today().year * 100 + clock.today().month
    first = dispatched.astimezone(clock.TZ).year * 100 + 1
    total = arun(hotline_report(med, first, period)).total
    assert (total.orders, total.responded, total.overdue_open) == (2, 0, 1)


def test_callback_through_the_case_page(web, hreg, hworld, arun, cipher_):
    med = hworld.users["med-h1"]
    case_id = hotline_case(arun, hreg, cipher_, hworld.rooms["h1"], med, order="HK-CB",
                           dispatched_at=clock.now().isoformat())
    for key in ("sign_for", "start_mediation"):
        arun(apply_transition(hreg, case_id, key, med))
    mediate_to_agreement(arun, hreg, case_id, med)
    arun(apply_transition(hreg, case_id, "resolve", med))
    _login(web, "med-h1")
    page = web.get(f"/cases/{case_id}")
    assert "回访来电人" in page.text and "来电人评价" in page.text and "尚未回访" in page.text
    url = f"/cases/{case_id}/transitions/callback"
    token = web.cookies.get("csrftoken")
    missing = web.post(url, data={"_csrf_token": token, "method": "phone"}, headers={"HX-Request": "true"})
    assert missing.status_code == 422 and "此项为必填" in missing.text and "<html" not in missing.text
    assert case_row(arun, case_id)["state"] == "resolved"
    done = web.post(url, data={"_csrf_token": token, "satisfaction": "dissatisfied", "method": "visit",
                               "notes": "来电人认为赔偿偏低"}, follow_redirects=False)
    assert done.status_code == 303
    page = web.get(f"/cases/{case_id}")
    assert "不满意" in page.text and "尚未回访" not in page.text
    row = case_row(arun, case_id)
    assert row["state"] == "callback_resolved" and row["intake"]["_track"]["satisfaction"] == "dissatisfied"
    event = arun(CaseEvent.select(CaseEvent.data).where(CaseEvent.case == case_id,
                                                        CaseEvent.type == "hotline.callback_done")
                 .output(load_json=True).first())
    assert event["data"]["notes"] == "来电人认为赔偿偏低"


def test_an_open_case_of_the_petition_channel_blocks_too(hotline, hreg, hworld, arun, cipher_):
    """A case of the ``petition`` channel counts whatever its source; the row is relabelled in the
    database so the test does not depend on the petition plugin's intake form."""
    form = hreg.form("general", "walk_in")
    created = arun(create_case(
        hreg, room=hworld.rooms["h1"], form=form,
        intake=CaseIntake(summary="来访反映物业问题", dispute_type="property_management", source="application"),
        parties=[PartyIn(role="applicant", name="王芳", id_number=ID_CALLER),
                 PartyIn(role="respondent", kind="organization", name="某某物业服务有限公司")],
        fields=form.schema(), actor=hworld.users["med-h1"], cipher=cipher_))
    assert hotline.post(work_order("HK-PC0")).status_code == 201  # an ordinary open case does not block
    arun(Case.update({Case.channel: "petition"}).where(Case.id == created["id"]))
    fields = fields_of(assert_error(hotline.post(work_order("HK-PC1")), 422, "validation_failed"))
    assert created["number"] in fields["parties[0].id_number"]


def test_statistics_page_shows_the_hotline_counters_and_a_deployment_can_switch_it_off(
        web, settings, hreg, hworld, arun, cipher_, tmp_path):
    from litestar.testing import TestClient

    from web.app import create_app

    _orders_for_report(arun, hreg, hworld, cipher_)
    _login(web, "admin")
    stats = web.get("/statistics")
    assert stats.status_code == 200 and "12345 工单签收率" in stats.text and "12345 工单退回热线（件）" in stats.text
    off = settings.with_(enabled_channels=("general",))
    assert "hotline" not in build_registry(off, PLUGINS, entry_points=False).channels
    with TestClient(create_app(off, plugins=PLUGINS, entry_points=False), base_url="https://testserver.local") as c:
        _login(c, "admin")
        assert c.get("/channels/hotline/").status_code == 404
        assert c.get("/intake/hotline/work_order").status_code == 404


def test_an_expired_session_cannot_read_the_report(web, hworld):
    _login(web, "med-h1")
    assert web.get("/channels/hotline/").status_code == 200
    try:
        clock.freeze(clock.now() + dt.timedelta(hours=13))  # past the absolute session lifetime
        expired = web.get("/channels/hotline/", follow_redirects=False)
        assert expired.status_code == 303 and expired.headers["location"].startswith("/login")
        assert web.get("/channels/hotline/report.csv", follow_redirects=False).status_code == 303
    finally:
        clock.freeze(None)
