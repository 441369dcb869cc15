"""Mediators (持证上岗, 回避, assignment), follow-ups (回访), early warnings (预警), screening, overviews."""

import datetime as dt
from decimal import Decimal

import pytest

from core import clock
from core.cases import NotFound, Refused, apply_transition, load_case, record_session, save_agreement
from core.followups import FollowUpIn, followups_of_case, overdue_followups, record_followup
from core.forms import FormErrors
from core.mediators import (
    ProfileIn,
    RecusalIn,
    TrainingIn,
    add_training,
    assign_mediator,
    mediators_in_scope,
    recuse,
    save_profile,
    suggest_mediators,
)
from core.organisations import FilingIn, ScreeningIn, mediator_performance, overview, record_screening, save_filing, screening_status
from core.records import AgreementIn, SessionIn
from core.tables import Agreement, Case, CaseEvent, RiskWarning, WarningNotice
from core.warnings import mark_read, set_flags, unread_warnings


def _certify(registry, world, arun, username, *, valid_until=None, specialities=(), employment="part_time"):
    sup = world["users"]["sup-1"] if username != "med-c" else world["users"]["admin"]
    arun(save_profile(sup, world["users"][username].id, ProfileIn(
        employment=employment, certificate_no=f"CERT-{username}",
        certificate_valid_until=valid_until or clock.today() + dt.timedelta(days=365),
        specialities=list(specialities)), registry.codes))


def _settle(registry, user, case_id, arun, *, deadline=None, terms=None, amount=Decimal("500"), form="written"):
    arun(apply_transition(registry, case_id, "accept", user))
    arun(apply_transition(registry, case_id, "start_mediation", user))
    arun(record_session(registry, case_id, user, SessionIn(held_at=clock.now(), place="室", attendees="双方", record="记录")))
    arun(save_agreement(registry, case_id, user, AgreementIn(
        form=form, terms=terms or f"乙方于{deadline}前向甲方支付赔偿款500元", facts="事实", performance_method="银行转账",
        performance_deadline=deadline, amount=amount,
        signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=clock.today())))
    arun(apply_transition(registry, case_id, "settle", user))


def test_only_certified_unrecused_mediators_can_be_assigned(registry, world, make_case, arun):
    sup = world["users"]["sup-1"]
    case = make_case(world["rooms"]["a"], world["users"]["med-a"], dispute_type="neighbour")
    with pytest.raises(Refused, match="未取得调解员证书"):
        arun(assign_mediator(case["id"], sup, world["users"]["med-b"].id))
    _certify(registry, world, arun, "med-b", valid_until=clock.today() - dt.timedelta(days=1))
    with pytest.raises(Refused, match="证书已过期"):
        arun(assign_mediator(case["id"], sup, world["users"]["med-b"].id))
    _certify(registry, world, arun, "med-b", specialities=["neighbour"])
    assert arun(assign_mediator(case["id"], sup, world["users"]["med-b"].id)) == "med-b"
    assert arun(Case.select(Case.mediator).where(Case.id == case["id"]).first())["mediator"] == world["users"]["med-b"].id
    # a mediator of another organisation is not offered and cannot be assigned
    _certify(registry, world, arun, "med-c")
    with pytest.raises(NotFound):
        arun(assign_mediator(case["id"], sup, world["users"]["med-c"].id))
    # recusal unassigns and blocks
    arun(recuse(case["id"], sup, RecusalIn(user_id=world["users"]["med-b"].id, reason="与申请人系近亲属")))
    assert arun(Case.select(Case.mediator).where(Case.id == case["id"]).first())["mediator"] is None
    with pytest.raises(Refused, match="已回避"):
        arun(assign_mediator(case["id"], sup, world["users"]["med-b"].id))
    types = [e["type"] for e in arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == case["id"]))]
    assert "case.mediator_assigned" in types and "case.recusal_recorded" in types


def test_suggestions_rank_by_eligibility_speciality_and_load(registry, world, make_case, arun):
    _certify(registry, world, arun, "med-a", specialities=["contract"])
    _certify(registry, world, arun, "med-b", specialities=["neighbour"])
    case = make_case(world["rooms"]["a"], world["users"]["med-a"], dispute_type="neighbour")
    names = [(s.name, s.eligible, s.speciality_match) for s in arun(suggest_mediators(arun(load_case(case['id'], None))))]
    assert names == [("med-b", True, True), ("med-a", True, False)]
    # load: med-b gets three open cases; for a contract dispute med-a (specialist) still comes first
    for _ in range(3):
        other = make_case(world["rooms"]["a"], world["users"]["med-a"], dispute_type="other")
        arun(assign_mediator(other["id"], world["users"]["sup-1"], world["users"]["med-b"].id))
    contract = make_case(world["rooms"]["a"], world["users"]["med-a"], dispute_type="contract")
    ranked = arun(suggest_mediators(arun(load_case(contract['id'], None))))
    assert [s.name for s in ranked][0] == "med-a"
    assert {s.name: s.open_cases for s in ranked}["med-b"] == 3


def test_profiles_need_a_supervisor_and_known_specialities(registry, world, arun):
    with pytest.raises(Refused):
        arun(save_profile(world["users"]["med-a"], world["users"]["med-a"].id, ProfileIn(), registry.codes))
    with pytest.raises(FormErrors):
        arun(save_profile(world["users"]["sup-1"], world["users"]["med-a"].id, ProfileIn(specialities=["alien"]),
                          registry.codes))
    with pytest.raises(NotFound):  # outside the supervisor's organisation
        arun(save_profile(world["users"]["sup-1"], world["users"]["med-c"].id, ProfileIn(), registry.codes))
    arun(add_training(world["users"]["sup-1"], world["users"]["med-a"].id,
                      TrainingIn(held_on=clock.today(), course="人民调解实务", hours=Decimal("6.5"))))
    arun(add_training(world["users"]["sup-1"], world["users"]["med-a"].id,
                      TrainingIn(held_on=clock.today(), course="民法典婚姻家庭编", hours=Decimal("3"))))
    listed = {m["username"]: m for m in arun(mediators_in_scope(world["users"]["sup-1"]))}
    assert set(listed) == {"med-a", "med-b"} and str(listed["med-a"]["training_hours"]) == "9.5"
    assert listed["med-a"]["certificate_problem"]


def test_followup_is_scheduled_from_the_performance_deadline_and_recorded(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    deadline = clock.today() + dt.timedelta(days=10)
    _settle(registry, user, case["id"], arun, deadline=deadline)
    (f,) = arun(followups_of_case(case["id"]))
    assert f["due_on"] == deadline + dt.timedelta(days=7) and f["done_on"] is None
    assert arun(overdue_followups(user)) == []
    assert [o["case"] for o in arun(overdue_followups(user, today=deadline + dt.timedelta(days=7)))] == [case["id"]]
    assert arun(overdue_followups(world["users"]["med-b"], today=deadline + dt.timedelta(days=30))) == []
    arun(record_followup(registry, case["id"], user, FollowUpIn(
        done_on=clock.today(), performance="partial", satisfaction="neutral", escalation_signs="无")))
    records = arun(followups_of_case(case["id"]))
    assert [r["performance"] for r in records] == ["partial", ""], "partial performance keeps following up"
    assert records[1]["due_on"] == clock.today() + dt.timedelta(days=30)
    assert arun(Agreement.select(Agreement.fulfilment).where(Agreement.case == case["id"]).first())["fulfilment"] == "partial"
    arun(record_followup(registry, case["id"], user, FollowUpIn(
        done_on=clock.today(), performance="performed", satisfaction="satisfied")))
    assert arun(Agreement.select(Agreement.fulfilment).where(Agreement.case == case["id"]).first())["fulfilment"] == "performed"
    with pytest.raises(Refused, match="没有待办的回访"):
        arun(record_followup(registry, case["id"], user, FollowUpIn(
            done_on=clock.today(), performance="performed", satisfaction="satisfied")))


def test_followup_setting_and_no_deadline_fallback(settings, world, make_case, arun):
    from core.registry import build_registry

    reg = build_registry(settings.with_(raw={"followup": {"days_after_deadline": 3}}), entry_points=False)
    user = world["users"]["med-a"]
    a = make_case(world["rooms"]["a"], user)
    _settle(reg, user, a["id"], arun, deadline=clock.today() + dt.timedelta(days=5))
    assert arun(followups_of_case(a["id"]))[0]["due_on"] == clock.today() + dt.timedelta(days=8)
    b = make_case(world["rooms"]["a"], user)
    _settle(reg, user, b["id"], arun, deadline=None, terms="双方互相谅解，今后和睦相处，互不追究", amount=None,
            form="oral")
    assert arun(followups_of_case(b["id"]))[0]["due_on"] == clock.today() + dt.timedelta(days=30)


def test_flagging_a_case_notifies_supervisors_and_agencies_with_audit(settings, world, make_case, arun):
    from core.registry import build_registry

    reg = build_registry(settings.with_(raw={"warnings": {"agencies": {"may_turn_criminal": ["城关派出所"]}}}),
                         entry_points=False)
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    with pytest.raises(FormErrors):
        arun(set_flags(reg, case["id"], user, ["aliens"], ""))
    assert arun(set_flags(reg, case["id"], user, ["may_turn_criminal"], "双方扬言报复")) == ["may_turn_criminal"]
    (warning,) = arun(RiskWarning.select().where(RiskWarning.case == case["id"]))
    notices = arun(WarningNotice.select().where(WarningNotice.warning == warning["id"]).order_by(WarningNotice.id))
    assert [(n["recipient_kind"], n["recipient"]) for n in notices] == [("user", "sup-1"), ("agency", "城关派出所")]
    assert all(n["sent_at"] is not None for n in notices)
    sup = world["users"]["sup-1"]
    (unread,) = arun(unread_warnings(sup))
    assert unread["number"] == case["number"] and unread["flag"] == "may_turn_criminal"
    assert arun(unread_warnings(world["users"]["med-c"])) == []
    assert arun(mark_read(world["users"]["med-b"], unread["id"])) is False, "only the recipient can mark it read"
    assert arun(mark_read(sup, unread["id"])) is True
    assert arun(unread_warnings(sup)) == []
    assert arun(WarningNotice.select(WarningNotice.read_at).where(WarningNotice.id == unread["id"]).first())["read_at"]
    # clearing a flag closes the warning; setting the same flag again does not notify twice
    arun(set_flags(reg, case["id"], user, ["may_turn_criminal"], ""))
    assert arun(RiskWarning.count().where(RiskWarning.case == case["id"])) == 1
    arun(set_flags(reg, case["id"], user, [], ""))
    assert arun(RiskWarning.select(RiskWarning.cleared_at).where(RiskWarning.case == case["id"]).first())["cleared_at"]
    assert arun(Case.select(Case.risk_flags).where(Case.id == case["id"]).output(load_json=True).first())["risk_flags"] == []


def test_group_of_ten_is_flagged_at_registration(registry, world, cipher, arun):
    from core.cases import create_case
    from core.intake import CaseIntake, PartyIn

    form = registry.form("general", "walk_in")
    case = arun(create_case(registry, room=world["rooms"]["a"], form=form,
                            intake=CaseIntake(summary="十二户村民与企业的噪声纠纷", dispute_type="environment", people_count=12),
                            parties=[PartyIn(role="applicant", name="村民代表"), PartyIn(role="respondent", name="某厂")],
                            fields=form.schema(), actor=world["users"]["med-a"], cipher=cipher))
    row = arun(Case.select(Case.risk_flags).where(Case.id == case["id"]).output(load_json=True).first())
    assert row["risk_flags"] == ["group_dispute"]
    assert [w["flag"] for w in arun(unread_warnings(world["users"]["sup-1"]))] == ["group_dispute"]


def test_screening_cadence_and_filing(registry, world, arun):
    sup = world["users"]["sup-1"]
    org = world["orgs"][0]["id"]
    today = clock.today()
    arun(record_screening(sup, org, ScreeningIn(level="village", conducted_on=today - dt.timedelta(days=10),
                                                disputes_found=3, risks_found=1, findings="三起邻里纠纷")))
    arun(record_screening(sup, org, ScreeningIn(level="township", conducted_on=today - dt.timedelta(days=5),
                                                findings="无新增纠纷")))
    status = {s["level"]: s for s in arun(screening_status(org))}
    assert status["village"]["overdue"] is True and status["village"]["due"] == today - dt.timedelta(days=3)
    assert status["township"]["overdue"] is False and status["county"]["never"] is True
    with pytest.raises(FormErrors):
        from core.forms import validate_data

        validate_data(ScreeningIn, {"level": "village", "conducted_on": today.isoformat(), "disputes_found": 1,
                                    "risks_found": 2, "findings": "不合理"})
    with pytest.raises(NotFound):
        arun(record_screening(sup, world["orgs"][1]["id"], ScreeningIn(level="village", conducted_on=today, findings="越权")))
    arun(save_filing(sup, org, FilingIn(filing_no="郧司备2026-001", filed_on=today, checklist=["org", "staff", "sign"])))
    o = next(o for o in arun(overview(sup))["organisations"] if o["id"] == org)
    assert (o["filing_no"], o["checklist_done"], o["checklist_total"]) == ("郧司备2026-001", 3, 22)


def test_overview_and_mediator_performance(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    _certify(registry, world, arun, "med-a", employment="full_time")
    _certify(registry, world, arun, "med-b")
    settled = make_case(world["rooms"]["a"], user)
    failed = make_case(world["rooms"]["a"], user)
    make_case(world["rooms"]["a"], user)  # still open
    _settle(registry, user, settled["id"], arun, deadline=clock.today() + dt.timedelta(days=5))
    arun(apply_transition(registry, failed["id"], "accept", user))
    arun(apply_transition(registry, failed["id"], "not_settle", user, {"reason": "拒绝", "route": "litigation"}))
    arun(apply_transition(registry, settled["id"], "close", user))
    arun(record_followup(registry, settled["id"], user, FollowUpIn(
        done_on=clock.today(), performance="performed", satisfaction="satisfied", later_litigation="")))
    data = arun(overview(world["users"]["sup-1"]))
    room_a = next(r for r in data["rooms"] if r["name"] == "甲调解室")
    assert (room_a["open"], room_a["settled"], room_a["not_settled"], room_a["success_rate"]) == (1, 1, 1, Decimal("0.5"))
    assert {r["name"] for r in data["rooms"]} == {"甲调解室", "乙调解室"}
    org = data["organisations"][0]
    assert (org["mediators"], org["full_time"], org["full_time_share"], org["full_time_ok"]) == (2, 1, Decimal("0.5"), True)
    perf = {p["display_name"]: p for p in arun(mediator_performance(world["users"]["sup-1"]))}
    a = perf["med-a"]
    assert (a["handled"], a["settled"], a["success_rate"], a["followups"], a["performed_rate"], a["satisfied_rate"]) == (
        3, 1, Decimal("0.5"), 1, Decimal("1.000"), Decimal("1.000"))
    assert a["avg_days"] is not None and a["avg_days"] >= 0
    assert perf["med-b"]["handled"] == 0 and perf["med-b"]["success_rate"] is None


def test_flags_are_frozen_once_a_case_is_concluded(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    arun(apply_transition(registry, case["id"], "decline", user, {"reason": "不属于受理范围"}))
    with pytest.raises(Refused, match="已办结"):
        arun(set_flags(registry, case["id"], user, ["may_escalate"], ""))
