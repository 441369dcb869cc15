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
