"""The police channel (plugins/police, 警调对接): intake, eligibility, guardian and session rules,
deadlines, the protocol to feedback, statistics per station, and the generic session-check hook.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

import pytest

from core import clock, hookimpl
from core.access import UserCtx
from core.cases import Refused, apply_transition, create_case, load_case, record_session, save_agreement
from core.case_clocks import resume_clock
from core.deadlines import compute_clock
from core.followups import FollowUpIn, record_followup
from core.forms import FormErrors, validate_data
from core.intake import CaseIntake, PartyIn
from core.records import AgreementIn, SessionIn
from core.tables import Case, CaseClockEntry, CaseEvent, MediationSession
from core.users import create_room, create_user
from plugins.police.forms import PublicOrderFields
from plugins.police.rules import check_session
from plugins.police.statistics import station_table

TZ = clock.TZ
PLUGINS = ("core.builtin", "core.documents", "core.handoff", "core.statistics", "plugins.general", "plugins.police")
"""An explicit plugin list: these tests must not depend on other channels being installed."""


@pytest.fixture
def registry(settings):
    from core.registry import build_registry

    return build_registry(settings, PLUGINS, entry_points=False)


@pytest.fixture
def app(settings):
    from web.app import create_app

    return create_app(settings, plugins=PLUGINS, entry_points=False)


def transfer(**overrides: Any) -> dict[str, Any]:
    """The ``fields`` of a valid public-order transfer form (移交函)."""
    body = {
        "station": "城关派出所",
        "incident_number": "J4203222026110200012",
        "officer": "王警官",
        "officer_phone": "0719-1234567",
        "incident_at": "2026-11-01T20:15:00+08:00",
        "incident_place": "城关镇某小区3栋楼下",
        "station_accepted_on": "2026-11-01",
        "injuries_losses": "李四面部轻微擦伤，手机屏幕损坏",
        "violation": "fight",
    }
    body.update(overrides)
    return body


@pytest.fixture
def police(world, arun) -> dict[str, Any]:
    """Two police rooms in organisation one (P, Q) and one in organisation two (R), one mediator each."""

    async def build() -> dict[str, Any]:
        org1, org2 = world["orgs"]
        rooms = {
            "p": await create_room("room-p", name="城关驻所调解室", channel="police", organisation=org1["id"],
                                   number_prefix="城警调"),
            "q": await create_room("room-q", name="东城驻所调解室", channel="police", organisation=org1["id"],
                                   number_prefix="东警调"),
            "r": await create_room("room-r", name="外县驻所调解室", channel="police", organisation=org2["id"],
                                   number_prefix="外警调"),
        }
        users = {}
        for name, room in (("med-p", "room-p"), ("med-q", "room-q"), ("med-r", "room-r")):
            users[name] = UserCtx.from_row(await create_user(name, "correct-horse-1", role="mediator",
                                                             room_id=room, display_name=name))
        return {"rooms": rooms, "users": users}

    return arun(build())


@pytest.fixture
def new_case(registry, cipher, police, arun):
    def make(kind: str = "public_order", room: str = "p", user: str = "med-p", **fields: Any) -> dict[str, Any]:
        form = registry.form("police", kind)
        data = transfer(**fields)
        if kind != "public_order":
            data.pop("violation")
        parsed = validate_data(form.schema, data)
        parties = [PartyIn(role="applicant", name="李四", id_number="110101199003071233", phone="13800138000"),
                   PartyIn(role="respondent", name="赵五")]
        return arun(create_case(registry, room=police["rooms"][room], form=form,
                                intake=CaseIntake(summary="邻里口角引发推搡，致一方轻微伤", dispute_type="damages"),
                                parties=parties, fields=parsed, actor=police["users"][user], cipher=cipher))

    return make


def session(held: str, attendees: str = "李四、赵五") -> SessionIn:
    return SessionIn(held_at=dt.datetime.fromisoformat(held), place="城关派出所调解室", attendees=attendees,
                     record="双方陈述事实，调解员释明法律规定。", outcome="continue")


def agreement(**kw: Any) -> AgreementIn:
    values = dict(form="written", facts="2026年11月1日双方因停车发生口角并推搡，赵五负主要责任。",
                  terms="赵五赔偿李四医药费及手机维修费共计1200元，于2026年11月20日前一次性付清。",
                  amount=decimal.Decimal("1200.00"), performance_method="现金当面支付",
                  performance_deadline=dt.date(2026, 11, 20), signed_by_parties=True, signed_by_mediator=True,
                  sealed=True, signed_on=dt.date(2026, 11, 4))
    values.update(kw)
    return AgreementIn(**values)


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.freeze(dt.datetime(2026, 11, 2, 9, 0, tzinfo=TZ))  # Monday
    yield
    clock.freeze(None)


# --------------------------------------------------------------------------- intake


def test_transfer_form_validation_and_manual_entry(client, login, csrf, police, arun):
    with pytest.raises(FormErrors) as exc:
        validate_data(PublicOrderFields, transfer(station="", officer_phone="call me", incident_at="2026-11-01T20:15:00",
                                                  violation="robbery", excluded_arson=True))
    errors = exc.value.errors
    assert set(errors) == {"station", "officer_phone", "incident_at", "violation", "excluded_arson"}, errors
    assert all(re.search(r"[\u4e00-\u9fff]", m) for m in errors.values()), errors
    with pytest.raises(FormErrors) as exc:
        validate_data(PublicOrderFields, transfer(station_accepted_on="2026-10-30"))
    assert "受案日期" in exc.value.errors["station_accepted_on"]

    login(client, "med-p")
    page = client.get("/intake/police/public_order")
    assert page.status_code == 200 and "警情号" in page.text and "寻衅滋事" in page.text
    form = {"_csrf_token": csrf(client), "c.summary": "邻里口角引发推搡", "c.dispute_type": "damages",
            "c.source": "referral.police", "c.people_count": "2", "a.name": "李四", "a.kind": "person",
            "r.name": "赵五", "r.kind": "person",
            **{f"f.{k}": v for k, v in transfer(incident_at="2026-11-01T20:15").items()}}
    bad = client.post("/intake/police/public_order", data={**form, "f.incident_number": ""})
    assert bad.status_code == 422 and "此项为必填" in bad.text
    assert arun(Case.count()) == 0  # nothing half-written
    ok = client.post("/intake/police/public_order", data=form, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    case = arun(Case.select().output(load_json=True).first())
    assert (case["channel"], case["kind"], case["state"], case["source"]) == (
        "police", "public_order", "transferred", "referral.police")
    assert case["intake"]["incident_at"] == "2026-11-01T20:15:00+08:00"
    page = client.get(ok.headers["location"])
    assert "J4203222026110200012" in page.text and "城关派出所" in page.text and "派出所办案期限" in page.text


# --------------------------------------------------------------------------- eligibility


def test_excluded_public_order_transfer_is_returned_to_the_station_at_intake(
        registry, police, new_case, client, login, csrf, arun):
    case = new_case(excluded_provoking_trouble=True, excluded_repeat_offender=True)
    row = arun(load_case(case["id"], None))
    assert (row["state"], row["status"], row["outcome"]) == ("returned", "declined", "declined")
    assert "寻衅滋事、多次实施违反治安管理行为" in row["outcome_reason"] and "第一百七十九条" in row["outcome_reason"]
    events = arun(CaseEvent.select(CaseEvent.type, CaseEvent.actor_label).where(CaseEvent.case == case["id"])
                  .order_by(CaseEvent.id))
    assert [e["type"] for e in events] == ["case.registered", "case.declined"]
    with pytest.raises(Refused):
        arun(apply_transition(registry, case["id"], "accept", police["users"]["med-p"]))
    # the acceptance guard names the exclusions too (a backstop for any case that reaches review)
    from core.protocol_kit import CaseContext
    from plugins.police.protocol import PROTOCOL

    guard = PROTOCOL.transition("accept").guards[0]
    ctx = CaseContext(case={"kind": "public_order", "intake": {"excluded_gang_fight": True}}, agreement=None, sessions=0)
    assert "结伙斗殴" in guard(ctx) and "退回派出所" in guard(ctx)
    assert guard(CaseContext(case={"kind": "civil", "intake": {}}, agreement=None, sessions=0)) is None

    # manual entry of a transfer form that ticks an exclusion: the page says so at once
    login(client, "med-p")
    form = {"_csrf_token": csrf(client), "c.summary": "结伙斗殴", "c.dispute_type": "damages", "c.people_count": "6",
            "a.name": "李四", "a.kind": "person", "r.name": "赵五", "r.kind": "person",
            **{f"f.{k}": v for k, v in transfer(incident_at="2026-11-01T20:15").items()}, "f.excluded_gang_fight": "1"}
    done = client.post("/intake/police/public_order", data=form, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "不予受理，已退回派出所" in page and 'id="police-ineligible"' in page and "结伙斗殴" in page

    # an eligible transfer may still be returned by the mediator, with a ground and a reason
    other = new_case()
    missing = client.post(f"/cases/{other['id']}/transitions/return_to_station", data={"_csrf_token": csrf(client)})
    assert missing.status_code == 422 and "此项为必填" in missing.text
    done = client.post(f"/cases/{other['id']}/transitions/return_to_station", follow_redirects=False,
                       data={"_csrf_token": csrf(client), "ground": "party_refuses", "reason": "赵五明确拒绝调解"})
    assert done.status_code == 303
    assert arun(load_case(other["id"], None))["state"] == "returned"

    # a civil transfer carries no exclusions and is accepted
    civil = new_case(kind="civil")
    assert arun(apply_transition(registry, civil["id"], "accept", police["users"]["med-p"]))["to_state"] == "accepted"


# --------------------------------------------------------------------------- minors


def test_minor_without_guardian_blocks_sessions_until_the_guardian_is_recorded(
        registry, police, new_case, client, login, csrf, arun):
    case = new_case(minor_involved=True)
    med = police["users"]["med-p"]
    arun(apply_transition(registry, case["id"], "accept", med))
    with pytest.raises(Refused) as exc:
        arun(apply_transition(registry, case["id"], "start_mediation", med))
    assert "监护人" in exc.value.message
    # the same rule guards the session itself (the fengqiao_check_session hook)
    row = arun(load_case(case["id"], None))
    assert "监护人" in check_session(registry, {**row, "status": "in_mediation"},
                                     {"held_at": dt.datetime(2026, 11, 3, 10, tzinfo=TZ), "attendees": "李四"}, [])

    login(client, "med-p")
    assert 'id="police-guardian-missing"' in client.get(f"/cases/{case['id']}").text
    url = f"/channels/police/cases/{case['id']}/guardian"
    bad = client.post(url, data={"_csrf_token": csrf(client), "guardian_name": "", "relation": "父亲",
                                 "notified_on": "2026-11-02"})
    assert bad.status_code == 422 and "此项为必填" in bad.text
    login(client, "med-q")  # another room's mediator: 404, nothing recorded
    assert client.post(url, data={"_csrf_token": csrf(client), "guardian_name": "李大", "relation": "父亲",
                                  "notified_on": "2026-11-02"}).status_code == 404
    login(client, "med-p")
    ok = client.post(url, data={"_csrf_token": csrf(client), "guardian_name": "李大", "relation": "父亲",
                                "notified_on": "2026-11-02"}, follow_redirects=False)
    assert ok.status_code == 303
    # an idle session has expired here exactly as on the core pages
    clock.freeze(dt.datetime(2026, 11, 2, 10, 0, tzinfo=TZ))
    expired = client.post(url, data={"_csrf_token": csrf(client), "guardian_name": "李大", "relation": "父亲",
                                     "notified_on": "2026-11-02"}, follow_redirects=False)
    assert expired.status_code == 303 and expired.headers["location"].startswith("/login")
    assert client.get("/channels/police/stations", follow_redirects=False).status_code == 303
    login(client, "med-p")
    arun(apply_transition(registry, case["id"], "start_mediation", med))
    # the guardian must be among those attending
    with pytest.raises(FormErrors) as exc:
        arun(record_session(registry, case["id"], med, session("2026-11-03T10:00:00+08:00")))
    assert "李大" in exc.value.errors["attendees"]
    resp = client.post(f"/cases/{case['id']}/sessions", data={
        "_csrf_token": csrf(client), "held_at": "2026-11-03T10:00", "place": "调解室", "attendees": "李四",
        "record": "调解", "outcome": "continue"})
    assert resp.status_code == 422 and "监护人" in resp.text
    arun(record_session(registry, case["id"], med, session("2026-11-03T10:00:00+08:00", "李四、李大（监护人）、赵五")))
    assert arun(MediationSession.count()) == 1


# --------------------------------------------------------------------------- sessions and deadlines


def test_second_session_only_once_and_within_seven_working_days(registry, police, new_case, arun):
    med = police["users"]["med-p"]
    case = new_case()
    for key in ("accept", "start_mediation"):
        arun(apply_transition(registry, case["id"], key, med))
    arun(record_session(registry, case["id"], med, session("2026-11-02T10:00:00+08:00")))
    # 7 working days after Monday 2 November 2026 is Wednesday 11 November
    with pytest.raises(FormErrors) as exc:
        arun(record_session(registry, case["id"], med, session("2026-11-12T10:00:00+08:00")))
    assert "2026-11-11" in exc.value.errors["held_at"] and "七个工作日" in exc.value.errors["held_at"]
    arun(record_session(registry, case["id"], med, session("2026-11-11T16:00:00+08:00")))
    with pytest.raises(Refused) as exc:
        arun(record_session(registry, case["id"], med, session("2026-11-11T17:00:00+08:00")))
    assert "两次" in exc.value.message
    assert arun(MediationSession.count().where(MediationSession.case == case["id"])) == 2

    # civil disputes met on a call-out are ordinary people's mediation: no session limit
    civil = new_case(kind="civil")
    for key in ("accept", "start_mediation"):
        arun(apply_transition(registry, civil["id"], key, med))
    for day in ("02", "16", "20"):
        arun(record_session(registry, civil["id"], med, session(f"2026-11-{day}T10:00:00+08:00")))


def test_first_session_deadline_pauses_for_a_pending_appraisal(registry, police, new_case, client, login, arun):
    med = police["users"]["med-p"]
    plain = new_case()
    arun(apply_transition(registry, plain["id"], "accept", med))
    row = arun(load_case(plain["id"], None))
    assert row["clock_started_on"] == dt.date(2026, 11, 2)
    assert row["deadline"] == dt.date(2026, 11, 5)  # three working days after Monday

    pending = new_case(appraisal_pending="injury")
    arun(apply_transition(registry, pending["id"], "accept", med))
    entries = arun(CaseClockEntry.select().where(CaseClockEntry.case == pending["id"]))
    assert [(e["kind"], e["event"], e["end_on"]) for e in entries] == [("pause", "appraisal", None)]
    clock.freeze(dt.datetime(2026, 11, 9, 9, 0, tzinfo=TZ))  # the appraisal result arrives on Monday 9th
    due = arun(resume_clock(registry, pending["id"], med, end_on=dt.date(2026, 11, 9)))
    rule = registry.deadline_rules["police_first_session"]
    from core.deadlines import Pause

    expected = compute_clock(rule, registry.calendar, dt.date(2026, 11, 2), dt.date(2026, 11, 9),
                             [Pause("appraisal", dt.date(2026, 11, 2), dt.date(2026, 11, 9))]).due
    assert due == expected and due > dt.date(2026, 11, 9)
    assert arun(load_case(pending["id"], None))["deadline"] == due

    # the panel shows the first-session date, the second-session window and the station's own limit
    arun(apply_transition(registry, plain["id"], "start_mediation", med))
    arun(record_session(registry, plain["id"], med, session("2026-11-03T10:00:00+08:00")))
    login(client, "med-p")
    text = client.get(f"/cases/{plain['id']}").text
    assert "已于 2026-11-03 调解" in text and "按期" in text
    assert "2026-11-12" in text  # 7 working days after Tuesday 3 November
    assert "2026-12-01" in text  # station accepted 1 November: 30 days, the 1 December
    assert "2026-12-31" in text  # +30 with approval


# --------------------------------------------------------------------------- protocol and statistics


def settle(registry, case_id: int, med: UserCtx, arun) -> None:
    for key in ("accept", "start_mediation"):
        arun(apply_transition(registry, case_id, key, med))
    arun(record_session(registry, case_id, med, session("2026-11-03T10:00:00+08:00")))
    arun(save_agreement(registry, case_id, med, agreement()))
    arun(apply_transition(registry, case_id, "settle", med))


def test_agreement_needs_a_performance_deadline_and_feedback_needs_performance(registry, police, new_case, arun):
    med = police["users"]["med-p"]
    case = new_case()
    for key in ("accept", "start_mediation"):
        arun(apply_transition(registry, case["id"], key, med))
    arun(record_session(registry, case["id"], med, session("2026-11-03T10:00:00+08:00")))
    with pytest.raises(FormErrors) as exc:
        arun(save_agreement(registry, case["id"], med, agreement(performance_deadline=None)))
    assert "第一百八十四条" in exc.value.errors["performance_deadline"]
    arun(save_agreement(registry, case["id"], med, agreement()))
    arun(apply_transition(registry, case["id"], "settle", med))
    note = {"note": "协议已履行，当事人书面申请不予处罚", "no_penalty_application": True}
    with pytest.raises(Refused) as exc:
        arun(apply_transition(registry, case["id"], "feedback", med, {**note, "applied_on": "2026-11-21",
                                                                        "applicants": "李四、赵五"}))
    assert "回访" in exc.value.message
    clock.freeze(dt.datetime(2026, 11, 21, 9, 0, tzinfo=TZ))
    arun(record_followup(registry, case["id"], med, FollowUpIn(done_on=dt.date(2026, 11, 21), performance="performed",
                                                              satisfaction="satisfied")))
    with pytest.raises(FormErrors) as exc:
        arun(apply_transition(registry, case["id"], "feedback", med, note))
    assert set(exc.value.errors) == {"applied_on", "applicants"}
    event = arun(apply_transition(registry, case["id"], "feedback", med,
                                  {**note, "applied_on": "2026-11-21", "applicants": "李四、赵五"}))
    assert event["type"] == "police.feedback" and event["data"]["no_penalty_application"] is True
    row = arun(load_case(case["id"], None))
    assert (row["state"], row["status"]) == ("fed_back", "closed")
    types = [e["type"] for e in arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == case["id"])
                                     .order_by(CaseEvent.id))]
    assert types.index("police.agreement_performed") < types.index("police.feedback")


def test_new_violation_or_flight_ends_mediation_and_returns_to_station(registry, police, new_case, client, login,
                                                                       arun):
    med = police["users"]["med-p"]
    case = new_case()
    for key in ("accept", "start_mediation"):
        arun(apply_transition(registry, case["id"], key, med))
    with pytest.raises(FormErrors) as exc:
        arun(apply_transition(registry, case["id"], "end_mediation", med, {"ground": "escape", "reason": "x"}))
    assert {"ground", "reason", "occurred_on"} <= set(exc.value.errors)
    event = arun(apply_transition(registry, case["id"], "end_mediation", med,
                                  {"ground": "flight", "occurred_on": "2026-11-02", "reason": "赵五在调解期间离开本地，联系不上"}))
    assert event["type"] == "case.not_settled" and event["data"]["ground"] == "flight"
    row = arun(load_case(case["id"], None))
    assert (row["state"], row["status"], row["suggested_route"]) == ("returned_unsettled", "not_settled",
                                                                     "police_station")
    with pytest.raises(Refused):  # a returned case takes no more sessions
        arun(record_session(registry, case["id"], med, session("2026-11-03T10:00:00+08:00")))
    # the station's own limit now runs from the failure (程序规定 第一百八十五条): 2 November + 30 days
    login(client, "med-p")
    text = client.get(f"/cases/{case['id']}").text
    assert "自此重新计算" in text and "自 2026-11-02 起三十日，至 2026-12-02" in text


def test_statistics_per_station_room_and_period(registry, police, new_case, client, login, arun):
    p, q = police["users"]["med-p"], police["users"]["med-q"]
    a = new_case()
    settle(registry, a["id"], p, arun)
    clock.freeze(dt.datetime(2026, 11, 21, 9, 0, tzinfo=TZ))
    arun(record_followup(registry, a["id"], p, FollowUpIn(done_on=dt.date(2026, 11, 21), performance="performed",
                                                         satisfaction="satisfied")))
    clock.freeze(dt.datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
    new_case(excluded_gang_fight=True)  # returned to the station at intake
    c = new_case(room="q", user="med-q")
    settle(registry, c["id"], q, arun)
    arun(apply_transition(registry, c["id"], "report_breach", q, {"reason": "赵五逾期未付款"}))
    new_case(room="q", user="med-q", station="东城派出所")
    new_case(room="r", user="med-r")  # another organisation

    sup = UserCtx.from_row({"id": 0, "username": "sup", "role": "supervisor", "room": None,
                            "organisation": police["rooms"]["p"]["organisation"]})
    rows = arun(station_table(sup, dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    by = {(r["station"], r["room"]): r for r in rows}
    total = by[("城关派出所", "")]
    assert (total["received"], total["accepted"], total["settled"], total["returned"], total["performed"]) == (3, 2, 2, 2, 1)
    assert total["amount"] == decimal.Decimal("2400.00")
    assert total["success_rate"] == "100.0%" and total["in_station_share"] == "33.3%"
    assert by[("城关派出所", "城关驻所调解室")]["received"] == 2
    assert by[("东城派出所", "")]["received"] == 1
    assert sum(r["received"] for r in rows if r["total"]) == 4  # room R (organisation two) is not counted
    assert arun(station_table(sup, dt.date(2026, 12, 1), dt.date(2026, 12, 31))) == []
    assert arun(station_table(police["users"]["med-r"], dt.date(2026, 11, 1), dt.date(2026, 11, 30)))[0]["received"] == 1

    # the counters kept in the core rollups, per room and month (organisation one)
    from core.statistics.queries import StatsFilters, load_stats, resolve_scope

    scope = arun(resolve_scope(sup, StatsFilters(period_from=202611, period_to=202611)))
    ind = arun(load_stats(scope, registry.statistics, breakdowns=False)).indicators
    assert {k: v for k, v in ind.items() if k.startswith("police_")} == {
        "police_transfers_cases": 4, "police_public_order_cases": 4, "police_accepted_cases": 2,
        "police_returned_at_intake_cases": 1, "police_breach_returned_cases": 1, "police_settled_cases": 2,
        "police_performed_cases": 1, "police_agreed_amount_yuan": 240000}  # amounts in fen
    room_q = arun(resolve_scope(sup, StatsFilters(period_from=202611, period_to=202611,
                                                  room=police["rooms"]["q"]["id"])))
    ind_q = arun(load_stats(room_q, registry.statistics, breakdowns=False)).indicators
    assert (ind_q["police_transfers_cases"], ind_q["police_breach_returned_cases"]) == (2, 1)

    login(client, "med-p")  # a mediator sees their own room only
    page = client.get("/channels/police/stations?date_from=2026-11-01&date_to=2026-11-30")
    assert page.status_code == 200
    row = re.search(r'<tr class="total" data-station="城关派出所".*?</tr>', page.text, re.S).group(0)
    assert re.findall(r"<td>([^<]*)</td>", row)[2:] == ["2", "1", "1", "1", "1", "100.0%", "50.0%", "1200.00"]
    assert "东城派出所" not in page.text
    bad = client.get("/channels/police/stations?date_from=2026-12-01&date_to=2026-11-01")
    assert bad.status_code == 200 and "起始日期不能晚于截止日期" in bad.text

    # the room/period counters live in the core rollups and appear on the statistics page
    stats = client.get("/statistics?period_from=2026-11&period_to=2026-11")
    assert stats.status_code == 200 and "矛盾不出所化解率" in stats.text


# --------------------------------------------------------------------------- the generic hook


class RefuseSundays:
    """A plugin of its own using the generic session-check hook on the general channel."""

    @hookimpl
    def fengqiao_check_session(self, case, session, sessions, registry):
        if case["channel"] != "general":
            return None
        if session["held_at"].astimezone(TZ).weekday() == 6:
            return {"held_at": "周日不安排调解"}
        if len(sessions) >= 3:
            return "本室规定最多调解三次"
        return None


def test_session_check_hook_is_generic(settings, world, cipher, make_case, arun):
    from core.registry import build_registry

    reg = build_registry(settings, [*PLUGINS, RefuseSundays()], entry_points=False)
    med = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], med)
    for key in ("accept", "start_mediation"):
        arun(apply_transition(reg, case["id"], key, med))
    with pytest.raises(FormErrors) as exc:
        arun(record_session(reg, case["id"], med, session("2026-11-08T10:00:00+08:00")))  # a Sunday
    assert exc.value.errors == {"held_at": "周日不安排调解"}
    for day in ("02", "03", "04"):
        arun(record_session(reg, case["id"], med, session(f"2026-11-{day}T10:00:00+08:00")))
    with pytest.raises(Refused, match="最多调解三次"):
        arun(record_session(reg, case["id"], med, session("2026-11-05T10:00:00+08:00")))
    assert arun(MediationSession.count()) == 3


# --------------------------------------------------------------------------- the whole flow through the pages


def test_flow_through_the_case_page_with_and_without_htmx(registry, police, new_case, client, login, csrf, arun):
    case = new_case()
    cid = case["id"]
    login(client, "med-p")
    htmx = {"HX-Request": "true", "x-csrftoken": csrf(client)}

    def act(key: str, data: dict[str, Any] | None = None, *, partial: bool = False) -> Any:
        if partial:
            return client.post(f"/cases/{cid}/transitions/{key}", data=data or {}, headers=htmx)
        return client.post(f"/cases/{cid}/transitions/{key}", data={"_csrf_token": csrf(client), **(data or {})},
                           follow_redirects=False)

    assert act("accept").status_code == 303
    resp = act("start_mediation", partial=True)  # htmx: the case body partial, with the police panel in it
    assert resp.status_code == 200 and "<html" not in resp.text and 'id="police-panel"' in resp.text
    page = client.get(f"/cases/{cid}").text
    for label in ("调解不成，退回派出所", "终止调解（又实施违法行为、逃跑或拒绝调解）", "调解过程中又针对对方实施违反治安管理行为"):
        assert label in page
    resp = client.post(f"/cases/{cid}/sessions", data={
        "_csrf_token": csrf(client), "held_at": "2026-11-02T15:00", "place": "调解室", "attendees": "李四、赵五",
        "record": "调解", "outcome": "agreement"}, follow_redirects=False)
    assert resp.status_code == 303
    arun(save_agreement(registry, cid, police["users"]["med-p"], agreement()))
    assert act("settle").status_code == 303
    refused = act("feedback", {"note": "已履行"})
    assert refused.status_code == 409 and "回访" in refused.text
    clock.freeze(dt.datetime(2026, 11, 21, 9, 0, tzinfo=TZ))
    login(client, "med-p")  # nineteen days later: the session has timed out
    htmx["x-csrftoken"] = csrf(client)
    resp = client.post(f"/cases/{cid}/followups", data={"_csrf_token": csrf(client), "done_on": "2026-11-21",
                                                         "performance": "performed", "satisfaction": "satisfied"},
                       follow_redirects=False)
    assert resp.status_code == 303
    bad = act("feedback", {"note": "已履行", "no_penalty_application": "1"}, partial=True)
    assert bad.status_code == 422 and "请填写书面申请日期" in bad.text
    assert act("feedback", {"note": "已履行，双方书面申请不予处罚", "no_penalty_application": "1",
                            "applied_on": "2026-11-21", "applicants": "李四、赵五"}).status_code == 303
    row = arun(load_case(cid, None))
    assert (row["state"], row["status"]) == ("fed_back", "closed")
    assert "已履行并反馈派出所（结案）" in client.get(f"/cases/{cid}").text

    login(client, "med-r")  # another organisation's mediator: the case and its actions are 404
    assert client.get(f"/cases/{cid}").status_code == 404
    assert client.post(f"/cases/{cid}/transitions/close", data={"_csrf_token": csrf(client)}).status_code == 404


# --------------------------------------------------------------------------- documents


def test_no_penalty_application_and_feedback_letter(registry, police, new_case, client, login, arun):
    from tests.test_documents_plugins import docx_text

    med = police["users"]["med-p"]
    case = new_case()
    settle(registry, case["id"], med, arun)
    login(client, "med-p")
    # not yet performed: the application is not offered; the feedback letter is
    early = client.get(f"/cases/{case['id']}/documents/police_no_penalty_application")
    assert early.status_code == 409 and "不予处罚申请书" in early.text
    # a civil case has no such application at all
    civil = new_case(kind="civil")
    assert client.get(f"/cases/{civil['id']}/documents/police_no_penalty_application").status_code == 404
    clock.freeze(dt.datetime(2026, 11, 21, 9, 0, tzinfo=TZ))
    arun(record_followup(registry, case["id"], med, FollowUpIn(done_on=dt.date(2026, 11, 21), performance="performed",
                                                              satisfaction="satisfied")))
    arun(apply_transition(registry, case["id"], "feedback", med, {
        "no_penalty_application": True, "applied_on": "2026-11-21", "applicants": "李四、赵五", "note": "已履行完毕"}))
    login(client, "med-p")
    app_page = client.get(f"/cases/{case['id']}/documents/police_no_penalty_application")
    assert app_page.status_code == 200
    for needle in ("不予处罚申请书", "城关派出所", "J4203222026110200012", "2026年11月21日", "第一百八十六条",
                   "赵五赔偿李四医药费及手机维修费共计1200元"):
        assert needle in app_page.text, needle
    letter = client.get(f"/cases/{case['id']}/documents/police_feedback.docx")
    assert letter.status_code == 200
    text = docx_text(letter.content)
    for needle in ("调解情况反馈函", "调解成功，达成调解协议", "是（李四、赵五，2026-11-21）", "已履行", "人民币1,200.00元"):
        assert needle in text, needle
    login(client, "med-r")
    assert client.get(f"/cases/{case['id']}/documents/police_feedback").status_code == 404
