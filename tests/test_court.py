"""The court channel (诉调对接, plugins/court): intake kinds, protocol, deadlines, judicial confirmation,
partner events and statistics. Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from core import clock
from core.access import UserCtx
from core.cases import Refused, apply_transition, create_case, record_session, save_agreement
from core.crypto import FieldCipher
from core.deadlines import compute_clock, Pause, Extension, ExtensionMode
from core.forms import FormErrors, validate_data
from core.handoff.outbox import OutboxConfig, OutboxWorker
from core.handoff.partners import create_partner
from core.handoff.tables import OutboxEvent
from core.handoff.testing import PartnerServer, ThreadedApp, sample_referral
from core.intake import CaseIntake, PartyIn
from core.records import AgreementIn, SessionIn
from core.registry import build_registry
from core.tables import Case, CaseEvent
from core.users import create_room, create_user
from plugins.court import records
from plugins.court.forms import ApplicationForm, DecisionForm, PacketForm
from plugins.court.statistics import Filters, court_report, report_csv
from plugins.court.tables import CourtReferral

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=clock.TZ)
PASSWORD = "correct-horse-1"
PLUGINS = ("core.builtin", "core.documents", "core.handoff", "core.statistics", "plugins.general", "plugins.court")
"""An explicit plugin list (the court channel and what it builds on), independent of other channels."""


@pytest.fixture
def registry(settings):
    return build_registry(settings, PLUGINS, entry_points=False)


@pytest.fixture
def app(settings):
    from web.app import create_app

    return create_app(settings, plugins=PLUGINS, entry_points=False)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def court(world, arun):
    """Two court rooms: 郧西 in organisation 1 and 竹山 in organisation 2, each with a mediator."""
    org1, org2 = world["orgs"]
    rooms = {
        "yx": arun(create_room("court-yx", name="郧西法院调解室", channel="court", organisation=org1["id"],
                               number_prefix="郧诉调")),
        "zs": arun(create_room("court-zs", name="竹山法院调解室", channel="court", organisation=org2["id"],
                               number_prefix="竹诉调")),
    }
    users = {
        "yx": UserCtx.from_row(arun(create_user("med-yx", PASSWORD, role="mediator", room_id="court-yx"))),
        "zs": UserCtx.from_row(arun(create_user("med-zs", PASSWORD, role="mediator", room_id="court-zs"))),
    }
    return {"rooms": rooms, "users": users}


def court_fields(kind: str = "pre_filing", **kw: Any) -> dict[str, Any]:
    f = {"court_name": "郧西县人民法院", "court_reference": "(2026)鄂0322民诉前调1号",
         "judge_contact": "王法官 0719-6221234", "received_on": "2026-11-18", "cause_of_action": "房屋租赁合同纠纷"}
    if kind == "entrusted":
        f.update(court_case_number="(2026)鄂0322民初100号", procedure="ordinary")
    f.update(kw)
    return f


def register(reg, cipher, room, user, kind="pre_filing", *, summary="承租人拖欠租金三个月", claims=None, **fields):
    form = reg.form("court", kind)
    return create_case(
        reg, room=room, form=form, intake=CaseIntake(summary=summary, dispute_type="contract", claims=claims),
        parties=[PartyIn(role="applicant", name="张三", id_number="110101199003071233", phone="13800138000"),
                 PartyIn(role="respondent", name="李四")],
        fields=validate_data(form.schema, court_fields(kind, **fields)), actor=user, cipher=cipher)


def signed(**kw):
    base = dict(form="written", facts="承租人李四拖欠租金三个月，应承担付款责任。",
                terms="李四于2026年12月1日前向张三支付租金9000元。", amount=Decimal("9000.00"),
                performance_method="银行转账", performance_deadline=dt.date(2026, 12, 1),
                signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=dt.date(2026, 11, 20))
    return AgreementIn(**{**base, **kw})


def to_settled(reg, case_id, user, arun, agreement=None):
    arun(apply_transition(reg, case_id, "accept", user))
    arun(apply_transition(reg, case_id, "start_mediation", user))
    arun(record_session(reg, case_id, user, SessionIn(
        held_at=NOW, place="郧西法院调解室", attendees="张三、李四、调解员", record="双方同意付款方案。", outcome="agreement")))
    arun(save_agreement(reg, case_id, user, agreement or signed()))
    arun(apply_transition(reg, case_id, "settle", user))


def record_of(arun, case_id):
    return arun(records.load_record(case_id))


# --------------------------------------------------------------------------- deadlines


def test_deadline_arithmetic_per_kind(registry):
    rules, cal = registry.deadline_rules, registry.calendar
    due = lambda key, start, **kw: compute_clock(rules[key], cal, start, start, **kw).due  # noqa: E731
    wed = dt.date(2026, 11, 18)
    assert due("court_pre_filing", wed) == dt.date(2026, 12, 18)  # 30 calendar days
    assert due("court_entrusted_ordinary", wed) == dt.date(2026, 12, 3)  # 15
    assert due("court_entrusted_simplified", wed) == dt.date(2026, 11, 25)  # 7
    # 3 working days from Friday 20 November: Mon 23, Tue 24, Wed 25
    assert due("court_acceptance", dt.date(2026, 11, 20)) == dt.date(2026, 11, 25)
    # a calendar-day period ending on National Day rolls to the first working day after the holiday
    assert due("court_entrusted_simplified", dt.date(2026, 9, 24)) == dt.date(2026, 10, 8)
    # an appraisal of 10 days is not counted; an extension by the parties' consent adds its days
    paused = compute_clock(rules["court_pre_filing"], cal, wed, dt.date(2026, 12, 10),
                           pauses=(Pause("appraisal", dt.date(2026, 11, 25), dt.date(2026, 12, 5)),))
    assert paused.due == dt.date(2026, 12, 28)
    ext = compute_clock(rules["court_entrusted_ordinary"], cal, wed, wed,
                        extensions=(Extension(days=10, granted_on=wed, by="双方当事人", reason="同意延长",
                                              mode=ExtensionMode.CONSENT),))
    assert ext.due == dt.date(2026, 12, 14)  # 13 December is a Sunday
    # every rule carries its citation
    assert "第二十七条" in str(rules["court_pre_filing"].citations[0])
    assert rules["court_pre_filing"].starts_on == "received"


def test_clock_starts_at_signed_receipt_and_kind_picks_the_rule(registry, cipher, court, arun):
    reg, room, med = registry, court["rooms"]["yx"], court["users"]["yx"]
    pre = arun(register(reg, cipher, room, med))
    simple = arun(register(reg, cipher, room, med, "entrusted", procedure="simplified", received_on="2026-11-19"))
    ordinary = arun(register(reg, cipher, room, med, "entrusted", received_on="2026-11-19"))
    rows = {r["id"]: r for r in arun(Case.select(Case.id, Case.deadline, Case.deadline_rule, Case.clock_started_on))}
    assert (rows[pre["id"]]["deadline_rule"], rows[pre["id"]]["clock_started_on"], rows[pre["id"]]["deadline"]) == (
        "court_pre_filing", dt.date(2026, 11, 18), dt.date(2026, 12, 18))
    assert (rows[simple["id"]]["deadline_rule"], rows[simple["id"]]["deadline"]) == (
        "court_entrusted_simplified", dt.date(2026, 11, 26))
    assert (rows[ordinary["id"]]["deadline_rule"], rows[ordinary["id"]]["deadline"]) == (
        "court_entrusted_ordinary", dt.date(2026, 12, 4))
    rec = record_of(arun, pre["id"])
    assert rec["acceptance_due"] == dt.date(2026, 11, 23) and rec["period"] == 202611 and rec["court_name"] == "郧西县人民法院"

    # appraisal time is not counted and the parties may agree to extend (core clocks, the court's rules)
    from core.case_clocks import extend_clock, pause_clock, resume_clock

    arun(apply_transition(reg, simple["id"], "accept", med))
    assert arun(pause_clock(reg, simple["id"], med, event="appraisal", start_on=dt.date(2026, 11, 20),
                            reason="房屋损失鉴定")) == dt.date(2026, 11, 26)
    clock.freeze(dt.datetime(2026, 11, 25, 10, tzinfo=clock.TZ))
    # 19 Nov + 7 days, of which 20–24 Nov (5 days) were paused → 1 December
    assert arun(resume_clock(reg, simple["id"], med, end_on=dt.date(2026, 11, 25))) == dt.date(2026, 12, 1)
    assert arun(extend_clock(reg, simple["id"], med, days=5, by="双方当事人", reason="同意延长调解期限")) == dt.date(2026, 12, 7)
    with pytest.raises(FormErrors):
        arun(pause_clock(reg, simple["id"], med, event="hearing", start_on=dt.date(2026, 11, 25), reason="听证"))


def test_deployment_may_start_the_clock_at_acceptance(settings, cipher, court, arun):
    reg = build_registry(settings.with_(channels={"court": {"clock_start": "acceptance"}}), PLUGINS, entry_points=False)
    assert reg.deadline_rules["court_pre_filing"].starts_on == "accepted"
    room, med = court["rooms"]["yx"], court["users"]["yx"]
    case = arun(register(reg, cipher, room, med))
    row = arun(Case.select(Case.clock_started_on, Case.deadline).where(Case.id == case["id"]).first())
    assert row["clock_started_on"] is None and row["deadline"] == dt.date(2026, 12, 21)  # projected from today
    clock.freeze(NOW + dt.timedelta(days=2))  # accepted on Sunday 22 November
    arun(apply_transition(reg, case["id"], "accept", med))
    row = arun(Case.select(Case.clock_started_on, Case.deadline).where(Case.id == case["id"]).first())
    assert row["clock_started_on"] == dt.date(2026, 11, 22) and row["deadline"] == dt.date(2026, 12, 22)
    with pytest.raises(Exception, match="clock_start"):
        build_registry(settings.with_(channels={"court": {"clock_start": "whenever"}}), PLUGINS, entry_points=False)


def test_entrusted_needs_case_number_and_procedure_and_consent_for_pre_filing(registry):
    entrusted = registry.form("court", "entrusted").schema
    with pytest.raises(FormErrors) as exc:
        validate_data(entrusted, {k: v for k, v in court_fields("entrusted").items()
                                  if k not in {"court_case_number", "procedure"}})
    assert exc.value.errors == {"court_case_number": "此项为必填", "procedure": "此项为必填"}
    with pytest.raises(FormErrors) as exc:
        validate_data(entrusted, court_fields("entrusted", procedure="summary"))
    assert set(exc.value.errors) == {"procedure"}
    pre = registry.form("court", "pre_filing").schema
    with pytest.raises(FormErrors) as exc:
        validate_data(pre, court_fields(parties_consent=False, received_on="2026-11-21"))
    assert set(exc.value.errors) == {"parties_consent", "received_on"}
    assert "同意" in exc.value.errors["parties_consent"] and "晚于今天" in exc.value.errors["received_on"]


# --------------------------------------------------------------------------- exclusions and the packet


def test_exclusion_flags_at_intake_and_at_agreement(registry, cipher, court, arun):
    reg, room, med = registry, court["rooms"]["yx"], court["users"]["yx"]
    assert records.exclusion_flags("离婚纠纷") == ["status_relation"]
    assert records.exclusion_flags("确认收养关系纠纷", "请求确认房屋所有权归原告") == ["status_relation", "property_right"]
    assert records.exclusion_flags("专利权权属纠纷") == ["ip_right"]
    assert records.exclusion_flags("房屋租赁合同纠纷", "拖欠租金", "赡养费纠纷") == []

    divorce = arun(register(reg, cipher, room, med, cause_of_action="离婚纠纷"))
    assert record_of(arun, divorce["id"])["exclusions"] == ["status_relation"]
    plain = arun(register(reg, cipher, room, med))
    assert record_of(arun, plain["id"])["exclusions"] == []
    # while the agreement is drafted, the record already warns about what its terms say
    from plugins.court.views import record_fragment

    arun(apply_transition(reg, plain["id"], "accept", med))
    arun(apply_transition(reg, plain["id"], "start_mediation", med))
    arun(save_agreement(reg, plain["id"], med, signed(terms="双方确认涉案房屋所有权归张三。", signed_by_parties=False,
                                                      signed_by_mediator=False, sealed=False)))
    case_row = arun(Case.select().where(Case.id == plain["id"]).output(load_json=True).first())
    assert "涉及物权确权" in arun(record_fragment(reg, case_row, "tok"))
    assert "涉及物权确权" not in arun(record_fragment(reg, {**case_row, "id": divorce["id"]}, "tok"))
    assert "涉及婚姻、收养、亲子等身份关系" in arun(record_fragment(reg, {**case_row, "id": divorce["id"]}, "tok"))
    arun(apply_transition(reg, plain["id"], "withdraw", med, {"reason": "测试用撤回"}))
    plain = arun(register(reg, cipher, room, med))
    # the agreement's terms confirm a property right: flagged when the case settles
    to_settled(reg, plain["id"], med, arun, signed(terms="双方确认涉案房屋所有权归张三，李四于2026年12月1日前搬出。"))
    rec = record_of(arun, plain["id"])
    assert rec["exclusions"] == ["property_right"]
    arun(records.save_packet(reg, plain["id"], med, PacketForm(agreement=True, hosting_proof=True, identity=True,
                                                               contacts=True, property_proof=True, complete=True)))
    with pytest.raises(Refused, match="第三百五十五条"):
        arun(records.apply_confirmation(reg, plain["id"], med, ApplicationForm(applied_on=dt.date(2026, 11, 20),
                                                                               court_name="郧西县人民法院")))


def test_packet_checker_refuses_complete_while_an_item_is_missing(registry, cipher, court, arun):
    reg, room, med = registry, court["rooms"]["yx"], court["users"]["yx"]
    case = arun(register(reg, cipher, room, med))
    with pytest.raises(Refused, match="调解成功后"):
        arun(records.save_packet(reg, case["id"], med, PacketForm(agreement=True)))
    to_settled(reg, case["id"], med, arun)
    items = dict(agreement=True, hosting_proof=True, identity=True, contacts=True, property_proof=True)
    for missing in items:
        with pytest.raises(FormErrors) as exc:
            arun(records.save_packet(reg, case["id"], med, PacketForm(**{**items, missing: False}, complete=True)))
        assert set(exc.value.errors) == {missing, "complete"}
        assert record_of(arun, case["id"])["packet_complete"] is False
    # saving an incomplete packet without claiming completeness is fine
    assert arun(records.save_packet(reg, case["id"], med, PacketForm(agreement=True, identity=True))) is False
    with pytest.raises(Refused, match="备齐"):
        arun(records.apply_confirmation(reg, case["id"], med, ApplicationForm(applied_on=dt.date(2026, 11, 20),
                                                                              court_name="郧西县人民法院")))
    assert arun(records.save_packet(reg, case["id"], med, PacketForm(**items, complete=True))) is True
    rec = record_of(arun, case["id"])
    assert rec["packet_complete"] is True and rec["packet"] == items
    # the joint application falls within 30 days of the agreement's effect: 20 November + 30 days is
    # Sunday 20 December, which rolls to Monday 21 December
    assert records.confirmation_due(reg, {"signed_on": dt.date(2026, 11, 20)}) == dt.date(2026, 12, 21)
    clock.freeze(dt.datetime(2026, 12, 22, 9, tzinfo=clock.TZ))
    with pytest.raises(FormErrors) as exc:
        arun(records.apply_confirmation(reg, case["id"], med, ApplicationForm(applied_on=dt.date(2026, 12, 22),
                                                                              court_name="郧西县人民法院")))
    assert "2026-12-21" in exc.value.errors["applied_on"]
    arun(records.apply_confirmation(reg, case["id"], med, ApplicationForm(applied_on=dt.date(2026, 12, 21),
                                                                          court_name="郧西县人民法院")))
    assert record_of(arun, case["id"])["confirmation_applied_on"] == dt.date(2026, 12, 21)
    with pytest.raises(Refused, match="不能再修改"):
        arun(records.save_packet(reg, case["id"], med, PacketForm(**items, complete=True)))


def test_no_property_proof_needed_without_money_and_no_confirmation_for_entrusted(registry, cipher, court, arun):
    reg, room, med = registry, court["rooms"]["yx"], court["users"]["yx"]
    case = arun(register(reg, cipher, room, med))
    to_settled(reg, case["id"], med, arun, signed(amount=None, terms="李四向张三书面赔礼道歉，并于2026年12月1日前修复围墙。"))
    assert arun(records.save_packet(reg, case["id"], med, PacketForm(agreement=True, hosting_proof=True, identity=True,
                                                                     contacts=True, complete=True))) is True
    entrusted = arun(register(reg, cipher, room, med, "entrusted"))
    to_settled(reg, entrusted["id"], med, arun)
    with pytest.raises(Refused, match="调解书"):
        arun(records.save_packet(reg, entrusted["id"], med, PacketForm(agreement=True)))
    with pytest.raises(Refused, match="委托调解"):
        arun(apply_transition(reg, case["id"], "request_document", med))
    with pytest.raises(Refused, match="委派调解"):
        arun(apply_transition(reg, entrusted["id"], "file_agreement", med))
    # a settlement is reported to the court only after its follow-up step
    with pytest.raises(Refused):
        arun(apply_transition(reg, entrusted["id"], "report_and_close", med))
    arun(apply_transition(reg, entrusted["id"], "request_document", med))
    arun(apply_transition(reg, entrusted["id"], "report_and_close", med))
    rec = record_of(arun, entrusted["id"])
    assert (rec["result"], rec["follow_up"], rec["reported_on"]) == ("settled", "document_requested", dt.date(2026, 11, 20))


# --------------------------------------------------------------------------- the partner API and its events


def court_referral(external_id: str, kind: str = "pre_filing", **fields: Any) -> dict[str, Any]:
    return sample_referral(external_id, channel="court", kind=kind, summary="承租人拖欠租金三个月",
                           fields=court_fields(kind, **fields))


async def deliver_all(cipher, timeout: float = 20.0) -> None:
    """Run an outbox worker until no event is pending or failing."""
    import asyncio
    import time

    worker = OutboxWorker(cipher, OutboxConfig(retry_scale=1e-6, timeout=5, lease=10, poll=0.02))
    task = asyncio.create_task(worker.run())
    try:
        deadline = time.monotonic() + timeout
        while await OutboxEvent.exists().where(OutboxEvent.status.is_in(["pending", "failing"])):
            assert not task.done() and time.monotonic() < deadline, "outbox not delivered in time"
            await asyncio.sleep(0.02)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 10)


def test_full_path_via_the_partner_api_with_signed_events(settings, court, arun):
    cipher = FieldCipher.from_secret(settings.secret_key)
    med = court["users"]["yx"]
    with PartnerServer() as partner_server:
        created = arun(create_partner("yx-court", channel="court", room_id="court-yx",
                                      callback_url=partner_server.url("/yx"), cipher=cipher,
                                      known_channels={"court", "general"}))
        partner_server.secrets["/yx"] = created["secret"]
        auth = {"Authorization": f"Bearer {created['token']}"}
        app = __import__("web.app", fromlist=["create_app"]).create_app(
            settings.with_(secure_cookies=False), plugins=PLUGINS, entry_points=False)
        with ThreadedApp(app) as server:
            import httpx

            http = httpx.Client(base_url=server.base_url, timeout=30, trust_env=False, headers=auth)
            channels = {c["key"]: c for c in http.get("/api/v1/channels").json()["channels"]}
            kinds = {k["kind"]: k for k in channels["court"]["kinds"]}
            assert set(kinds) == {"pre_filing", "entrusted"}
            assert {"court_case_number", "procedure"} <= set(kinds["entrusted"]["fields_schema"]["required"])
            assert kinds["pre_filing"]["deadline"]["key"] == "court_pre_filing"

            # an entrusted referral without its case number and procedure: 422 naming both, nothing stored
            bad = court_referral("(2026)鄂0322民初99号", "entrusted")
            del bad["fields"]["court_case_number"], bad["fields"]["procedure"]
            resp = http.post("/api/v1/referrals", json=bad)
            assert resp.status_code == 422, resp.text
            assert {f["field"] for f in resp.json()["error"]["fields"]} == {"fields.court_case_number", "fields.procedure"}
            assert arun(Case.count()) == 0 and arun(CourtReferral.count()) == 0

            ext = "(2026)鄂0322民诉前调1号"
            resp = http.post("/api/v1/referrals", json=court_referral(ext))
            assert resp.status_code == 201, resp.text
            # the clock runs from the signed receipt (18 November): 30 days → 18 December
            assert resp.json()["deadline"] == "2026-12-18"
            case_id = arun(Case.select(Case.id).where(Case.external_id == ext).first())["id"]
            assert http.post("/api/v1/referrals", json=court_referral(ext)).status_code == 200  # idempotent

            reg = app.state["fq"].registry
            to_settled(reg, case_id, med, arun)
            arun(apply_transition(reg, case_id, "file_agreement", med))
            arun(apply_transition(reg, case_id, "report_and_close", med))
            arun(records.save_packet(reg, case_id, med, PacketForm(agreement=True, hosting_proof=True, identity=True,
                                                                   contacts=True, property_proof=True, complete=True)))
            arun(records.apply_confirmation(reg, case_id, med, ApplicationForm(applied_on=dt.date(2026, 11, 20),
                                                                               court_name="郧西县人民法院")))
            arun(records.record_decision(reg, case_id, med, DecisionForm(decision="confirmed",
                                                                         decided_on=dt.date(2026, 11, 20),
                                                                         ruling_number="(2026)鄂0322民特1号")))
            arun(deliver_all(cipher))
            got = partner_server.accepted("/yx")
            types = [d.body["type"] for d in got]
            assert types == ["case.accepted", "case.settled", "court.agreement_filed", "case.closed",
                             "court.confirmation_applied", "court.confirmation_decided"]
            assert all(d.verified and d.body["external_id"] == ext for d in got)
            by = {d.body["type"]: d.body["data"] for d in got}
            assert by["case.accepted"]["accepted_on"] == "2026-11-20" and by["case.accepted"]["accepted_in_time"] is True
            assert by["case.accepted"]["court_reference"] == "(2026)鄂0322民诉前调1号"
            assert by["case.settled"]["agreement"]["amount"] == "9000.00"
            assert by["case.settled"]["agreement"]["date"] == "2026-11-20"
            assert by["case.settled"]["next_step"] == "filing"
            assert by["case.closed"]["result"] == "settled" and by["case.closed"]["follow_up"] == "filed"
            assert by["case.closed"]["days_to_close"] == 2 and by["case.closed"]["on_time"] is True
            assert by["court.confirmation_applied"]["applied_on"] == "2026-11-20"
            assert by["court.confirmation_applied"]["application_deadline"] == "2026-12-21"
            assert set(by["court.confirmation_applied"]["materials"]) == {"agreement", "hosting_proof", "identity",
                                                                           "contacts", "property_proof"}
            assert by["court.confirmation_decided"] == {"decision": "confirmed", "decided_on": "2026-11-20",
                                                         "ruling_number": "(2026)鄂0322民特1号", "reason": ""}
            state = http.get(f"/api/v1/referrals/{__import__('urllib.parse').parse.quote(ext, safe='')}").json()
            assert state["status"] == "closed" and state["outcome"]["result"] == "settled_written"
            assert [e["type"] for e in state["events"]] == types and {e["state"] for e in state["events"]} == {"delivered"}
            http.close()


def test_return_and_termination_events_carry_reasons(settings, registry, cipher, court, arun):
    from core.handoff.tables import Partner

    arun(create_partner("yx-court", channel="court", room_id="court-yx", callback_url="http://127.0.0.1:9/x",
                        cipher=cipher, known_channels={"court"}))
    med = court["users"]["yx"]
    room = court["rooms"]["yx"]

    async def referred(ext, kind="pre_filing", **fields):
        from core.handoff.partners import PartnerCtx  # noqa: F401 - the API's own path is tested above
        case = await register(registry, cipher, room, med, kind, **fields)
        await Case.update({Case.partner_id: "yx-court", Case.external_id: ext}).where(Case.id == case["id"])
        return case["id"]

    returned = arun(referred("R-1"))
    with pytest.raises(FormErrors):
        arun(apply_transition(registry, returned, "return_to_court", med, {"ground": "nope", "reason": ""}))
    arun(apply_transition(registry, returned, "return_to_court", med, {"ground": "party_refuses", "reason": "被申请人明确拒绝调解"}))
    terminated = arun(referred("T-1", "entrusted", procedure="simplified"))
    arun(apply_transition(registry, terminated, "accept", med))
    arun(apply_transition(registry, terminated, "terminate", med, {"ground": "cannot_contact", "reason": "多次联系被告未果"}))
    bodies = {json.loads(r["body"])["external_id"] + ":" + r["type"]: json.loads(r["body"])["data"]
              for r in arun(OutboxEvent.select(OutboxEvent.body, OutboxEvent.type))}
    assert bodies["R-1:case.declined"]["ground"] == "party_refuses"
    assert bodies["R-1:case.declined"]["ground_label"] == "当事人不同意调解"
    assert bodies["R-1:case.declined"]["reason"] == "被申请人明确拒绝调解"
    t = bodies["T-1:case.not_settled"]
    assert (t["ground"], t["ground_label"], t["route"]) == ("cannot_contact", "期限内无法联系到当事人", "litigation")
    assert arun(Case.select(Case.suggested_route).where(Case.id == terminated).first())["suggested_route"] == "litigation"
    rec = record_of(arun, terminated)
    assert (rec["result"], rec["result_ground"], rec["on_time"], rec["days_to_close"]) == ("terminated", "cannot_contact", True, 2)
    assert record_of(arun, returned)["result"] == "returned"
    # the record shows the result and its ground
    from plugins.court.views import record_fragment

    for case_id, text in ((returned, "当事人不同意调解"), (terminated, "期限内无法联系到当事人")):
        row = arun(Case.select().where(Case.id == case_id).output(load_json=True).first())
        html = arun(record_fragment(registry, row, "tok"))
        assert text in html and 'id="court-confirmation"' not in html  # nothing to confirm without a settlement
    # without a partner nothing is queued, but the court record still follows
    assert arun(Partner.count()) == 1


# --------------------------------------------------------------------------- the room's pages


def test_full_path_via_the_rooms_pages(client, court, login, csrf, arun):
    login(client, "med-yx")
    page = client.get("/intake/court/pre_filing")
    assert page.status_code == 200 and "签收法院材料日期" in page.text and "案由" in page.text
    base = {"_csrf_token": csrf(client), "c.summary": "邻居因装修漏水引发纠纷", "c.dispute_type": "damages",
            "c.claims": "赔偿维修费 6000 元", "a.name": "张三", "a.id_number": "110101199003071233",
            "a.phone": "13800138000", "r.name": "李四", "f.court_name": "郧西县人民法院",
            "f.court_reference": "(2026)鄂0322民诉前调8号", "f.judge_contact": "刘书记员 0719-6221235",
            "f.received_on": "2026-11-19", "f.cause_of_action": "财产损害赔偿纠纷", "f.parties_consent": "1"}
    bad = client.post("/intake/court/pre_filing", data={**base, "f.court_name": ""})
    assert bad.status_code == 422 and 'id="f-f-court_name-err"' in bad.text
    bad = client.post("/intake/court/pre_filing", data={**base, "f.received_on": "2026-12-01"})
    assert bad.status_code == 422 and "签收日期不能晚于今天" in bad.text
    assert arun(Case.count()) == 0
    resp = client.post("/intake/court/pre_filing", data=base, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    case_id = int(resp.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "诉调对接" in page.text and "郧西县人民法院" in page.text and "2026-11-24" in page.text  # acceptance due
    assert arun(Case.select(Case.deadline).where(Case.id == case_id).first())["deadline"] == dt.date(2026, 12, 21)

    def post(path, data, **kw):
        return client.post(path, data={"_csrf_token": csrf(client), **data}, follow_redirects=False, **kw)

    for key in ("accept", "start_mediation"):
        assert post(f"/cases/{case_id}/transitions/{key}", {}).status_code == 303
    assert post(f"/cases/{case_id}/sessions", {"held_at": "2026-11-20T09:00", "place": "郧西法院调解室",
                                                "attendees": "张三、李四", "record": "双方同意赔偿。",
                                                "outcome": "agreement"}).status_code == 303
    assert post(f"/cases/{case_id}/agreement", {
        "form": "written", "facts": "李四装修致张三房屋漏水，李四承担赔偿责任。", "terms": "李四于2026年12月1日前赔偿张三6000元。",
        "amount": "6000.00", "performance_method": "银行转账", "performance_deadline": "2026-12-01",
        "signed_by_parties": "1", "signed_by_mediator": "1", "sealed": "1", "signed_on": "2026-11-20"}).status_code == 303
    # no report to the court before there is a result
    assert client.get(f"/cases/{case_id}/documents/court_mediation_report").status_code == 409
    # closing before filing with the court is refused; filing first
    assert post(f"/cases/{case_id}/transitions/report_and_close", {}).status_code == 409
    for key in ("settle", "file_agreement", "report_and_close"):
        assert post(f"/cases/{case_id}/transitions/{key}", {}).status_code == 303, key

    # the packet checker refuses "complete" while the property proof is missing (plain form → 422 page)
    items = {"agreement": "1", "hosting_proof": "1", "identity": "1", "contacts": "1"}
    resp = post(f"/channels/court/cases/{case_id}/packet", {**items, "complete": "1"})
    assert resp.status_code == 422
    assert "材料不齐全" in resp.text and "缺少：与调解协议相关的财产权利证明材料" in resp.text and "<html" in resp.text
    # with htmx: the record fragment alone
    resp = post(f"/channels/court/cases/{case_id}/packet", {**items, "property_proof": "1", "complete": "1"},
                headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.text.lstrip().startswith('<div id="court-record"')
    assert "<html" not in resp.text and "材料齐全" in resp.text and resp.headers["vary"] == "HX-Request"
    assert post(f"/channels/court/cases/{case_id}/application",
                {"applied_on": "2026-11-20", "court_name": "郧西县人民法院"}).status_code == 303
    resp = post(f"/channels/court/cases/{case_id}/decision", {"decision": "rejected", "decided_on": "2026-11-20"})
    assert resp.status_code == 422 and "驳回申请须填写理由" in resp.text
    resp = post(f"/channels/court/cases/{case_id}/decision",
                {"decision": "rejected", "decided_on": "2026-11-20", "reason": "协议内容不明确"})
    assert resp.status_code == 303 and resp.headers["location"] == f"/channels/court/cases/{case_id}"
    page = client.get(f"/channels/court/cases/{case_id}")
    assert page.status_code == 200 and "裁定驳回申请" in page.text and "协议内容不明确" in page.text
    rec = record_of(arun, case_id)
    assert (rec["confirmation_decision"], rec["confirmation_reason"]) == ("rejected", "协议内容不明确")
    assert post(f"/channels/court/cases/{case_id}/decision",
                {"decision": "confirmed", "decided_on": "2026-11-20"}).status_code == 409

    # the written report to the court and the joint application, as print pages and DOCX
    report = client.get(f"/cases/{case_id}/documents/court_mediation_report")
    assert report.status_code == 200, report.text
    assert "调解情况报告" in report.text and "郧西县人民法院" in report.text and "调解协议已送人民法院备案" in report.text
    application = client.get(f"/cases/{case_id}/documents/court_confirmation_application")
    assert application.status_code == 200 and "司法确认申请书" in application.text
    assert "调解组织主持调解的证明" in application.text and "财产损害赔偿纠纷" in application.text
    assert client.get(f"/cases/{case_id}/documents/court_mediation_report.docx").status_code == 200

    # another room's mediator sees nothing of it
    client.post("/logout", data={"_csrf_token": csrf(client)})
    login(client, "med-zs")
    assert client.get(f"/channels/court/cases/{case_id}").status_code == 404
    assert post(f"/channels/court/cases/{case_id}/packet", items).status_code == 404
    assert arun(CaseEvent.count().where(CaseEvent.type == "court.packet_saved")) == 1


def test_record_page_of_a_case_from_another_channel(client, world, make_case, login):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    page = client.get(f"/channels/court/cases/{case['id']}")
    assert page.status_code == 200 and "不是人民法院委派或委托调解的案件" in page.text
    token = client.cookies.get("csrftoken")
    resp = client.post(f"/channels/court/cases/{case['id']}/packet", data={"_csrf_token": token, "complete": "1"})
    assert resp.status_code == 409 and "不是法院委派或委托的案件" in resp.text


# --------------------------------------------------------------------------- statistics


def test_statistics_against_a_hand_computed_dataset(registry, cipher, court, arun, client, login):
    """Five referrals in 郧西 (org 1), two in 竹山 (org 2); every figure below is computed by hand."""
    reg, yx, zs = registry, court["rooms"]["yx"], court["rooms"]["zs"]
    my, mz = court["users"]["yx"], court["users"]["zs"]

    def at(day):
        clock.freeze(dt.datetime(2026, 11, day, 10, tzinfo=clock.TZ))

    # 1. 郧西 court, pre-filing, received 2 Nov, settled 10 Nov (8 days, due 2 Dec: on time), confirmed
    at(2)
    c1 = arun(register(reg, cipher, yx, my, received_on="2026-11-02"))["id"]
    at(10)
    to_settled(reg, c1, my, arun, signed(signed_on=dt.date(2026, 11, 10)))
    arun(records.save_packet(reg, c1, my, PacketForm(agreement=True, hosting_proof=True, identity=True, contacts=True,
                                                     property_proof=True, complete=True)))
    arun(records.apply_confirmation(reg, c1, my, ApplicationForm(applied_on=dt.date(2026, 11, 10), court_name="郧西县人民法院")))
    arun(records.record_decision(reg, c1, my, DecisionForm(decision="confirmed", decided_on=dt.date(2026, 11, 10))))
    # 2. 郧西 court, entrusted simplified, received 3 Nov (due 10 Nov), terminated 12 Nov: 9 days, late
    at(3)
    c2 = arun(register(reg, cipher, yx, my, "entrusted", procedure="simplified", received_on="2026-11-03"))["id"]
    at(12)
    arun(apply_transition(reg, c2, "accept", my))
    arun(apply_transition(reg, c2, "terminate", my, {"ground": "no_agreement", "reason": "分歧较大"}))
    # 3. 郧西 court, pre-filing, received 5 Nov, returned 6 Nov: 1 day, on time
    at(6)
    c3 = arun(register(reg, cipher, yx, my, received_on="2026-11-05"))["id"]
    arun(apply_transition(reg, c3, "return_to_court", my, {"ground": "party_refuses", "reason": "不同意调解"}))
    # 4. 郧西 room, 十堰中院 (another court), entrusted ordinary, received 1 October, settled 14 October:
    #    13 days, due 16 October: on time, in another period
    clock.freeze(dt.datetime(2026, 10, 14, 10, tzinfo=clock.TZ))
    c4 = arun(register(reg, cipher, yx, my, "entrusted", received_on="2026-10-01", court_name="十堰市中级人民法院"))["id"]
    to_settled(reg, c4, my, arun, signed(signed_on=dt.date(2026, 10, 14)))
    # 5. 郧西 court, pre-filing, received 15 Nov, still open (received only)
    at(16)
    arun(register(reg, cipher, yx, my, received_on="2026-11-15"))
    # 6./7. 竹山 court in organisation 2: one settled in 4 days, one open
    at(20)
    c6 = arun(register(reg, cipher, zs, mz, received_on="2026-11-16", court_name="竹山县人民法院"))["id"]
    to_settled(reg, c6, mz, arun)
    arun(register(reg, cipher, zs, mz, "entrusted", received_on="2026-11-17", court_name="竹山县人民法院"))

    admin = UserCtx(id=0, username="admin", display_name="admin", role="admin", room=None, organisation=None)
    by_court = arun(court_report(admin, "court"))
    rows = {r["label"]: r for r in by_court["rows"]}
    assert list(rows) == sorted(rows)
    yxc = rows["郧西县人民法院"]
    assert (yxc["received"], yxc["received_pre_filing"], yxc["received_entrusted"]) == (4, 3, 1)
    assert (yxc["accepted"], yxc["settled"], yxc["terminated"], yxc["returned"]) == (2, 1, 1, 1)
    assert yxc["success_rate"] == 50.0  # 1 settled of 2 mediated to an end
    assert yxc["avg_days"] == 6.0  # (8 + 9 + 1) / 3
    assert yxc["on_time_rate"] == 66.7  # 2 of 3
    assert (yxc["confirmations_applied"], yxc["confirmations_granted"]) == (1, 1)
    zy = rows["十堰市中级人民法院"]
    assert (zy["received"], zy["settled"], zy["avg_days"], zy["on_time_rate"], zy["success_rate"]) == (1, 1, 13.0, 100.0, 100.0)
    total = by_court["total"]
    # all: 7 received; settled 1, 4, 6 (3) and terminated 2 → 75 %; days 8, 9, 1, 13, 4 → 35 / 5 = 7.0
    assert (total["received"], total["settled"], total["success_rate"], total["avg_days"]) == (7, 3, 75.0, 7.0)
    assert total["on_time_rate"] == 80.0  # 4 of 5 (only case 2 was late)
    assert total["returned"] == 1 and total["received_entrusted"] == 3

    by_period = arun(court_report(admin, "period"))
    assert [(r["label"], r["received"]) for r in by_period["rows"]] == [("2026年10月", 1), ("2026年11月", 6)]
    only_nov = arun(court_report(admin, "court", Filters(period_from=202611, period_to=202611)))
    assert only_nov["total"]["received"] == 6 and "十堰市中级人民法院" not in {r["label"] for r in only_nov["rows"]}

    # per room, scoped: the 郧西 mediator sees only their room; a supervisor of org 1 not 竹山's
    mine = arun(court_report(my, "room"))
    assert [r["label"] for r in mine["rows"]] == ["郧西法院调解室"] and mine["total"]["received"] == 5
    sup = UserCtx(id=0, username="s", display_name="s", role="supervisor", room=None, organisation=court["rooms"]["yx"]["organisation"])
    assert arun(court_report(sup, "room"))["total"]["received"] == 5
    csv_text = report_csv(arun(court_report(admin, "room")))
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("调解室,委派收案,委托收案,收案合计") and lines[-1].startswith("合计,4,3,7,")

    # the pages: HTML (full and htmx), CSV export, and field errors for a bad month
    login(client, "med-yx")
    page = client.get("/channels/court/statistics?group=court")
    assert page.status_code == 200 and "郧西县人民法院" in page.text and "竹山县人民法院" not in page.text
    part = client.get("/channels/court/statistics?group=period", headers={"HX-Request": "true"})
    assert part.status_code == 200 and part.text.lstrip().startswith('<div id="court-statistics"') and "2026年10月" in part.text
    exported = client.get("/channels/court/statistics.csv?group=court&from=2026-11&to=2026-11")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "十堰市中级人民法院" not in exported.text and "郧西县人民法院,3,1,4,2,1,1,1,50.0,6.0,66.7,1,1" in exported.text
    bad = client.get("/channels/court/statistics?from=2026-13&group=nope")
    assert bad.status_code == 422 and "月份格式应为" in bad.text and "分组方式应为" in bad.text
    # the core statistics page shows the channel's counters (rollups) for the mediator's room
    import re

    core_page = client.get("/statistics?from=2026-11&to=2026-11")
    assert core_page.status_code == 200, core_page.text
    cells = dict(re.findall(r'<th scope="row">([^<]+)</th><td>诉调对接</td><td>([^<]*)</td>', core_page.text))
    assert cells["委派调解收案（件）"].strip() == "3" and cells["委托调解收案（件）"].strip() == "1"
    assert cells["退回法院（件）"].strip() == "1" and cells["诉调对接调解终止（件）"].strip() == "1"
