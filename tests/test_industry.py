"""Industry committees (plugins/industry): each built-in committee's rules, the expert pool, the
committee registry and its dormant check, and the host mechanics (committees as sub-plugins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core import clock, hookimpl
from core.cases import NotFound, Refused, apply_transition, create_case, load_case, record_session, save_agreement
from core.forms import FormErrors, validate_data
from core.intake import CaseIntake, PartyIn
from core.records import AgreementIn, SessionIn

MEDICAL = {"hospital": "市第一人民医院", "department": "骨科", "treatment_from": "2026-01-05",
           "treatment_to": "2026-01-20", "claimed_damage": "术后感染，请求赔偿医疗费", "claimed_amount": "80000",
           "appraisal_requested": True, "insurer": "某财产保险公司", "claim_number": "YL2026-001"}
TRAFFIC = {"certificate_no": "公交认字[2026]第0012号", "injury_type": "injury", "start_on": "2026-03-02",
           "applicant_liability": 30, "respondent_liability": 70, "insurers": "某保险公司交强险"}
LABOUR = {"employer": "某建筑劳务有限公司", "wage_arrears": "36000", "work_injury": False}
PROPERTY = {"property_company": "某物业服务有限公司", "owners_committee": "某小区业主委员会", "estate": "某小区3栋",
            "issues": ["fees", "repairs"], "fees_in_dispute": "2400", "repair_item": "电梯维修"}
SAMPLES = {"medical": (MEDICAL, "medical"), "traffic": (TRAFFIC, "traffic"), "labour": (LABOUR, "labour.wage_arrears"),
           "property": (PROPERTY, "property_management")}


def at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=clock.TZ)


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    clock.freeze(None)


@pytest.fixture
def rooms(world, arun) -> dict[str, Any]:
    """One room per built-in committee in organisation 1, plus the medical committee of organisation 2."""
    from core.users import create_room

    org1, org2 = world["orgs"][0]["id"], world["orgs"][1]["id"]
    out = {key: arun(create_room(f"{key}-1", name=f"{key}调解室", channel=key, organisation=org1,
                                 number_prefix=f"{key}调")) for key in SAMPLES}
    out["medical-2"] = arun(create_room("medical-2", name="二号医调室", channel="medical", organisation=org2,
                                        number_prefix="医调二"))
    return out


def register(registry, cipher, arun, room, user, channel, fields=None, dispute_type=None, when=None):
    sample, default_type = SAMPLES.get(channel, (None, None))
    form = registry.form(channel, "application")
    if when is not None:
        clock.freeze(when)
    return arun(create_case(
        registry, room=room, form=form,
        intake=CaseIntake(summary="行业纠纷", dispute_type=dispute_type or default_type),
        parties=[PartyIn(role="applicant", name="张三"), PartyIn(role="respondent", name="某单位", kind="organization")],
        fields=validate_data(form.schema, fields if fields is not None else sample, strict=False),
        actor=user, cipher=cipher))


def settle(registry, arun, case_id, user, day: dt.date, amount="1000"):
    arun(record_session(registry, case_id, user, SessionIn(held_at=at(day.year, day.month, day.day), place="调解室",
                                                           attendees="双方", record="双方陈述")))
    arun(save_agreement(registry, case_id, user, AgreementIn(
        form="written", facts="双方确认事实和责任", terms="被申请人向申请人支付款项；双方可依法申请司法确认", amount=amount,
        performance_method="银行转账", performance_deadline=day + dt.timedelta(days=10), signed_by_parties=True,
        signed_by_mediator=True, sealed=True, signed_on=day)))
    return arun(apply_transition(registry, case_id, "settle", user))


# ----------------------------------------------------------------------------- the host


def test_committees_are_channels_with_forms_protocols_rules_and_statistics(registry):
    for key in SAMPLES:
        assert key in registry.channels
        assert registry.owners[key] == "industry_host"
        form = registry.form(key, "application")
        assert form.deadline_rule in registry.deadline_rules
        assert registry.protocol(key).transition("accept") is not None
        assert {f"{key}_registered_cases", f"{key}_settled_cases", f"{key}_success_percent"} <= set(registry.statistics)
    assert registry.deadline_rules["medical_mediation"].citations[0].law == "医疗纠纷预防和处理条例"
    assert registry.form("property", "application").deadline_rule == "general_mediation"


class TwinMedical:
    """An outside plugin that describes a committee with a key already taken."""

    @hookimpl
    def fengqiao_industry_committees(self, settings):
        from plugins.industry.committees import medical

        return [medical.COMMITTEE]


def test_a_committee_key_described_twice_names_both_plugins(settings):
    from core.channels import RegistrationError
    from core.plugins import DEFAULT_PLUGINS
    from core.registry import build_registry

    with pytest.raises(RegistrationError, match="'medical' is described twice") as err:
        build_registry(settings, [*DEFAULT_PLUGINS, TwinMedical()], entry_points=False)
    assert "'TwinMedical'" in str(err.value) and "'industry_committees'" in str(err.value)


class SubHost:
    """A plugin that is itself a host: it adds a hookspec of its own through fengqiao_addhooks."""

    class Spec:
        from core.hookspecs import hookspec

        @hookspec
        def fengqiao_subhost_items(self):
            """An example sub-plugin hook."""

    @hookimpl
    def fengqiao_addhooks(self, pluginmanager):
        pluginmanager.add_hookspecs(self.Spec)


class SubPlugin:
    @hookimpl
    def fengqiao_subhost_items(self):
        return ["x"]


def test_addhooks_lets_a_plugin_host_sub_plugins_registered_before_it(settings):
    from core.plugins import PluginError, build_plugin_manager

    pm = build_plugin_manager(settings, ["core.builtin", SubPlugin(), SubHost()], entry_points=False)
    assert pm.hook.fengqiao_subhost_items() == [["x"]]
    with pytest.raises(PluginError, match="fengqiao_subhost_items"):
        build_plugin_manager(settings, ["core.builtin", SubPlugin()], entry_points=False)


def test_enabled_channels_switches_committees_individually(settings):
    import dataclasses

    from core.registry import build_registry

    reg = build_registry(dataclasses.replace(settings, enabled_channels=("general", "labour")), entry_points=False)
    assert set(reg.channels) == {"general", "labour"}
    assert "medical_registered_cases" not in reg.statistics
    reg = build_registry(dataclasses.replace(settings, enabled_channels=("general",)), entry_points=False)
    assert reg.pm.get_plugin("industry_host") is None  # every committee disabled: the host is blocked


def test_a_dispute_type_the_committee_does_not_take_is_refused_and_nothing_stored(registry, cipher, world, rooms, arun):
    from core.tables import Case

    with pytest.raises(FormErrors) as err:
        register(registry, cipher, arun, rooms["medical"], world["users"]["sup-1"], "medical", dispute_type="neighbour")
    assert "医疗纠纷人民调解委员会受理医疗纠纷" in err.value.errors["dispute_type"]
    assert arun(Case.count()) == 0
    register(registry, cipher, arun, rooms["labour"], world["users"]["sup-1"], "labour", dispute_type="labour.wage_arrears")
    assert arun(Case.count()) == 1


# ----------------------------------------------------------------------------- medical


def test_medical_intake_cross_checks():
    from plugins.industry.committees.medical import MedicalFields

    with pytest.raises(FormErrors) as err:
        validate_data(MedicalFields, {**MEDICAL, "treatment_to": "2026-01-01"}, strict=False)
    assert err.value.errors == {"treatment_to": "诊疗结束日期不能早于开始日期"}
    with pytest.raises(FormErrors) as err:
        validate_data(MedicalFields, {**MEDICAL, "insurer": None}, strict=False)
    assert "insurer" in err.value.errors
    with pytest.raises(FormErrors) as err:
        validate_data(MedicalFields, {}, strict=False)
    assert set(err.value.errors) == {"hospital", "treatment_from", "claimed_damage"}


@pytest.mark.parametrize("flag", ["lawsuit_accepted", "health_authority_accepted"])
def test_medical_not_accepted_when_a_court_or_the_health_authority_already_accepted(registry, cipher, world, rooms,
                                                                                     arun, flag):
    user = world["users"]["sup-1"]
    case = register(registry, cipher, arun, rooms["medical"], user, "medical", {**MEDICAL, flag: True})
    with pytest.raises(Refused, match="第三十一条"):
        arun(apply_transition(registry, case["id"], "accept", user))
    arun(apply_transition(registry, case["id"], "decline", user, {"reason": "已另行受理", "advice": "继续诉讼"}))


def test_medical_thirty_working_days_from_acceptance_and_appraisal_pauses(registry, cipher, world, rooms, arun):
    from core.case_clocks import pause_clock, resume_clock

    user = world["users"]["sup-1"]
    case = register(registry, cipher, arun, rooms["medical"], user, "medical", when=at(2026, 3, 2))
    assert arun(load_case(case["id"], None))["clock_started_on"] is None  # runs from acceptance
    clock.freeze(at(2026, 3, 3))
    event = arun(apply_transition(registry, case["id"], "accept", user))
    due = dt.date.fromisoformat(event["data"]["deadline"])
    assert due == registry.calendar.add_workdays(dt.date(2026, 3, 3), 30)
    assert due >= dt.date(2026, 3, 3) + dt.timedelta(days=40)  # working days, not calendar days
    clock.freeze(at(2026, 3, 10))
    with pytest.raises(FormErrors):
        arun(pause_clock(registry, case["id"], user, event="hearing", start_on=dt.date(2026, 3, 5), reason="x"))
    arun(pause_clock(registry, case["id"], user, event="appraisal", start_on=dt.date(2026, 3, 5), reason="医疗损害鉴定"))
    clock.freeze(at(2026, 4, 1))
    new_due = arun(resume_clock(registry, case["id"], user, end_on=dt.date(2026, 3, 31)))
    # the appraisal covered 5 Mar .. 30 Mar: every working day in it is added back
    covered = registry.calendar.workdays_between(dt.date(2026, 3, 4), dt.date(2026, 3, 30))
    assert covered >= 15
    assert registry.calendar.workdays_between(due, new_due) == covered


def test_medical_insurance_payment_is_recorded_and_counted(registry, cipher, world, rooms, arun):
    from core.sdk.conformance import channel_indicators
    from core.tables import CaseEvent

    user, admin = world["users"]["sup-1"], world["users"]["admin"]
    case = register(registry, cipher, arun, rooms["medical"], user, "medical")
    with pytest.raises(Refused):  # only after a settlement
        arun(apply_transition(registry, case["id"], "record_insurance_payment", user,
                              {"insurer": "某保险", "claim_number": "YL1", "amount": "5000", "paid_on": "2026-01-01"}))
    for step in ("accept", "start_mediation"):
        arun(apply_transition(registry, case["id"], step, user))
    settle(registry, arun, case["id"], user, clock.today())
    with pytest.raises(FormErrors) as err:
        arun(apply_transition(registry, case["id"], "record_insurance_payment", user, {"amount": "0"}))
    assert {"insurer", "claim_number", "paid_on"} <= set(err.value.errors)
    with pytest.raises(FormErrors) as err:
        arun(apply_transition(registry, case["id"], "record_insurance_payment", user,
                              {"insurer": "某保险", "claim_number": "YL1", "amount": "0", "paid_on": "2026-01-01"}))
    assert err.value.errors == {"amount": "赔付金额应大于0"}
    arun(apply_transition(registry, case["id"], "record_insurance_payment", user,
                          {"insurer": "某财产保险公司", "claim_number": "YL2026-001", "amount": "52000.50",
                           "paid_on": clock.today().isoformat()}))
    ev = arun(CaseEvent.select().where(CaseEvent.type == "medical.insurance_paid").output(load_json=True).first())
    assert ev["data"]["claim_number"] == "YL2026-001" and ev["data"]["amount"] == "52000.50"
    values = arun(channel_indicators(registry, "medical", admin, clock.today().year))
    assert values["medical_insurance_paid_cases"] == 1
    assert values["medical_settled_cases"] == 1 and values["medical_success_percent"] == 100


def test_medical_panel_says_no_public_session_and_reminds_of_appraisal(registry, cipher, world, rooms, arun):
    from plugins.industry.host import committees_of
    from plugins.industry.panel import committee_panel

    user = world["users"]["sup-1"]
    case = arun(load_case(register(registry, cipher, arun, rooms["medical"], user, "medical")["id"], None))
    panel = arun(committee_panel(registry, committees_of(registry)["medical"], case, {"csrf_token": "t"}))
    assert "不公开调解" in panel["html"] and "第四十二条" in panel["html"]
    assert "暂停调解期限" in panel["html"] and "YL2026-001" in panel["html"]
    results = [r for r in registry.pm.hook.fengqiao_case_panels(case=case, user={"csrf_token": "t"}, registry=registry)
               if r is not None]
    titles = [arun(r)["title"] if hasattr(r, "__await__") else r["title"] for r in results]
    assert "医疗纠纷人民调解委员会" in titles


def test_medical_and_traffic_agreements_must_contain_their_items(registry, cipher, world, rooms, arun):
    user = world["users"]["sup-1"]
    for channel, field, words in (("medical", "terms", "第三十九条"), ("traffic", "facts", "第九十三条")):
        case = register(registry, cipher, arun, rooms[channel], user, channel)
        for step in ("accept", "start_mediation"):
            arun(apply_transition(registry, case["id"], step, user))
        day = clock.today()
        with pytest.raises(FormErrors) as err:
            arun(save_agreement(registry, case["id"], user, AgreementIn(
                form="written", facts="双方确认纠纷事实", terms="被申请人向申请人支付款项", amount="1000",
                performance_method="银行转账", performance_deadline=day + dt.timedelta(days=10),
                signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=day)))
        assert words in err.value.errors[field]


# ----------------------------------------------------------------------------- traffic


def test_traffic_liability_ratios_must_add_up():
    from plugins.industry.committees.traffic import TrafficFields

    with pytest.raises(FormErrors) as err:
        validate_data(TrafficFields, {**TRAFFIC, "respondent_liability": 60}, strict=False)
    assert err.value.errors == {"respondent_liability": "各方责任比例之和应为100%"}


def test_traffic_ten_days_from_the_start_date_of_the_injury_type(registry, cipher, world, rooms, arun):
    from plugins.industry.cases import set_clock_start
    from plugins.industry.host import committees_of

    user = world["users"]["sup-1"]
    clock.freeze(at(2026, 3, 4))
    case = arun(load_case(register(registry, cipher, arun, rooms["traffic"], user, "traffic")["id"], None))
    assert case["clock_started_on"] == dt.date(2026, 3, 2)  # end of treatment, from the intake
    assert case["deadline"] == dt.date(2026, 3, 12)  # 10 calendar days (a Thursday, no roll-over)
    # treatment not yet over at registration: the clock waits for the start date
    later = register(registry, cipher, arun, rooms["traffic"], user, "traffic", {**TRAFFIC, "start_on": None})
    assert arun(load_case(later["id"], None))["clock_started_on"] is None
    c = committees_of(registry)["traffic"]
    clock.freeze(at(2026, 3, 20))
    with pytest.raises(FormErrors):
        arun(set_clock_start(registry, c, later["id"], user, dt.date(2026, 3, 21)))  # in the future
    due = arun(set_clock_start(registry, c, later["id"], user, dt.date(2026, 3, 19)))
    assert due == dt.date(2026, 3, 30)  # 29 March is a Sunday: rolls to Monday
    with pytest.raises(Refused, match="已经起算"):
        arun(set_clock_start(registry, c, later["id"], user, dt.date(2026, 3, 19)))
    assert arun(load_case(later["id"], None))["deadline"] == dt.date(2026, 3, 30)


# ----------------------------------------------------------------------------- labour


def test_labour_fifteen_days_then_guidance_to_arbitration(registry, cipher, world, rooms, arun):
    from core.sdk.conformance import channel_indicators
    from plugins.industry.host import committees_of
    from plugins.industry.panel import notices_for

    user = world["users"]["sup-1"]
    c = committees_of(registry)["labour"]
    case = register(registry, cipher, arun, rooms["labour"], user, "labour", when=at(2026, 3, 2))
    row = arun(load_case(case["id"], None))
    assert row["clock_started_on"] == dt.date(2026, 3, 2)  # from the application
    assert row["deadline"] == dt.date(2026, 3, 17)
    arun(apply_transition(registry, case["id"], "accept", user))
    clock.freeze(at(2026, 3, 17))
    assert not any("申请劳动争议仲裁" in n for n in notices_for(c, arun(load_case(case["id"], None))))
    clock.freeze(at(2026, 3, 18))
    assert any("十五日内未达成调解协议" in n for n in notices_for(c, arun(load_case(case["id"], None))))
    event = arun(apply_transition(registry, case["id"], "guide_arbitration", user, {"reason": "用人单位拒绝调解"}))
    assert event["status"] == "not_settled"
    row = arun(load_case(case["id"], None))
    assert row["suggested_route"] == "arbitration"
    values = arun(channel_indicators(registry, "labour", world["users"]["admin"], 2026))
    assert values["labour_arbitration_cases"] == 1 and values["labour_wage_arrears_cases"] == 1


def test_labour_unpaid_wages_under_an_agreement_point_to_a_payment_order(registry, cipher, world, rooms, arun):
    from plugins.industry.host import committees_of
    from plugins.industry.panel import notices_for

    user = world["users"]["sup-1"]
    c = committees_of(registry)["labour"]
    wages = register(registry, cipher, arun, rooms["labour"], user, "labour")
    other = register(registry, cipher, arun, rooms["labour"], user, "labour", {"employer": "某公司"}, "labour")
    for case in (wages, other):
        for step in ("accept", "start_mediation"):
            arun(apply_transition(registry, case["id"], step, user))
        assert not any("支付令" in n for n in notices_for(c, arun(load_case(case["id"], None))))
        settle(registry, arun, case["id"], user, clock.today())
    assert any("支付令" in n and "第十六条" in n for n in notices_for(c, arun(load_case(wages["id"], None))))
    assert not any("支付令" in n for n in notices_for(c, arun(load_case(other["id"], None))))


# ----------------------------------------------------------------------------- property


def test_property_repairs_need_the_repair_item_and_use_the_general_period(registry, cipher, world, rooms, arun):
    from plugins.industry.committees.property import PropertyFields

    with pytest.raises(FormErrors) as err:
        validate_data(PropertyFields, {**PROPERTY, "repair_item": None}, strict=False)
    assert err.value.errors == {"repair_item": "争议涉及维修时请写明维修事项"}
    with pytest.raises(FormErrors) as err:
        validate_data(PropertyFields, {**PROPERTY, "issues": []}, strict=False)
    assert "issues" in err.value.errors
    user = world["users"]["sup-1"]
    case = register(registry, cipher, arun, rooms["property"], user, "property")
    assert arun(load_case(case["id"], None))["deadline_rule"] == "general_mediation"


# ----------------------------------------------------------------------------- expert pool


@pytest.fixture
def pool(registry, world, arun):
    """Medical pool: 5 clinical experts, 4 pharmacy experts."""
    from plugins.industry import experts as ex
    from plugins.industry.host import committees_of

    c = committees_of(registry)["medical"]
    admin = world["users"]["admin"]
    ids = {"clinical": [], "pharmacy": []}
    for cat, n in (("clinical", 5), ("pharmacy", 4)):
        for i in range(n):
            ids[cat].append(arun(ex.add_expert(c, admin, ex.ExpertIn(category=cat, name=f"{cat}专家{i}",
                                                                      employer="某医学会"))))
    return c, ids


def test_pool_needs_five_experts_per_category(registry, world, pool, arun):
    from plugins.industry import experts as ex

    c, ids = pool
    status = {p["key"]: p for p in arun(ex.pool_status(c))}
    assert status["clinical"]["active"] and status["clinical"]["count"] == 5
    assert not status["pharmacy"]["active"] and status["pharmacy"]["count"] == 4
    with pytest.raises(Refused):
        arun(ex.add_expert(c, world["users"]["med-a"], ex.ExpertIn(category="pharmacy", name="某")))
    with pytest.raises(FormErrors):
        arun(ex.add_expert(c, world["users"]["admin"], ex.ExpertIn(category="astrology", name="某")))
    arun(ex.set_expert_active(c, world["users"]["admin"], ids["clinical"][0], False))
    assert not {p["key"]: p for p in arun(ex.pool_status(c))}["clinical"]["active"]


def test_consultation_needs_two_opinions_of_the_same_category_and_respects_recusal(registry, cipher, world, rooms,
                                                                                  pool, arun):
    from core.tables import CaseEvent
    from plugins.industry import experts as ex
    from plugins.industry.documents import _context
    from plugins.industry.host import committees_of

    c, ids = pool
    committees = committees_of(registry)
    user = world["users"]["sup-1"]
    case = register(registry, cipher, arun, rooms["medical"], user, "medical")
    with pytest.raises(FormErrors) as err:
        arun(ex.request_consultation(committees, case["id"], user, ex.ConsultationIn(category="pharmacy",
                                                                                    question="用药是否规范")))
    assert "不足 5 名" in err.value.errors["category"]
    cid = arun(ex.request_consultation(committees, case["id"], user,
                                       ex.ConsultationIn(category="clinical", question="诊疗行为是否存在过错")))
    with pytest.raises(Refused, match="进行中"):
        arun(ex.request_consultation(committees, case["id"], user, ex.ConsultationIn(category="clinical",
                                                                                    question="再次咨询")))
    today = clock.today()
    opinion = "经审阅病历，诊疗行为存在一定过错，与损害后果有因果关系。"
    with pytest.raises(FormErrors) as err:  # another category's expert
        arun(ex.record_opinion(committees, case["id"], user, ex.OpinionIn(
            consultation=cid, expert=ids["pharmacy"][0], opinion=opinion, given_on=today)))
    assert "同一专业类别" in err.value.errors["expert"]
    arun(ex.record_recusal(committees, case["id"], user, ex.RecusalIn(
        consultation=cid, expert=ids["clinical"][0], reason="系涉事医院在职医生")))
    with pytest.raises(FormErrors) as err:
        arun(ex.record_opinion(committees, case["id"], user, ex.OpinionIn(
            consultation=cid, expert=ids["clinical"][0], opinion=opinion, given_on=today)))
    assert "回避" in err.value.errors["expert"]
    assert arun(ex.record_opinion(committees, case["id"], user, ex.OpinionIn(
        consultation=cid, expert=ids["clinical"][1], opinion=opinion, given_on=today))) is False
    with pytest.raises(FormErrors):  # one opinion per expert
        arun(ex.record_opinion(committees, case["id"], user, ex.OpinionIn(
            consultation=cid, expert=ids["clinical"][1], opinion=opinion, given_on=today)))
    with pytest.raises(Refused):  # cannot recuse after giving an opinion
        arun(ex.record_recusal(committees, case["id"], user, ex.RecusalIn(
            consultation=cid, expert=ids["clinical"][1], reason="事后发现")))
    assert arun(ex.record_opinion(committees, case["id"], user, ex.OpinionIn(
        consultation=cid, expert=ids["clinical"][2], opinion="同意上述意见，建议按次要责任确定赔偿。", given_on=today))) is True
    rows = arun(ex.consultations_for_case(c, case["id"]))
    assert rows[0]["status"] == "completed" and len(rows[0]["opinions"]) == 2 and len(rows[0]["recusals"]) == 1
    types = [e["type"] for e in arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == case["id"]))]
    assert types.count("industry.opinion_recorded") == 2 and "industry.consultation_completed" in types
    assert "industry.expert_recused" in types
    # the opinions are part of the case file (卷宗 item 证据材料)
    doc = registry.documents["industry_expert_opinions"]
    assert doc.file_item == "evidence" and doc.applies_to({"channel": "medical"})
    ctx = arun(_context({"case": {"id": case["id"]}}))
    assert [r["expert"] for r in ctx["expert_opinions"]] == ["clinical专家1，某医学会", "clinical专家2，某医学会"]


def test_consultations_are_room_scoped_and_only_for_committee_cases(registry, cipher, world, rooms, pool, arun,
                                                                   make_case):
    from plugins.industry import experts as ex
    from plugins.industry.host import committees_of

    committees = committees_of(registry)
    case = register(registry, cipher, arun, rooms["medical-2"], world["users"]["admin"], "medical")
    with pytest.raises(NotFound):  # another organisation's case: as if it did not exist
        arun(ex.request_consultation(committees, case["id"], world["users"]["med-a"],
                                     ex.ConsultationIn(category="clinical", question="诊疗行为是否存在过错")))
    general = make_case(world["rooms"]["a"], world["users"]["med-a"])
    with pytest.raises(Refused, match="不属于"):
        arun(ex.request_consultation(committees, general["id"], world["users"]["med-a"],
                                     ex.ConsultationIn(category="clinical", question="诊疗行为是否存在过错")))


# ----------------------------------------------------------------------------- registry and dormant check


def test_dormant_check_flags_no_mediation_for_three_years_and_no_statistics_for_two(registry, cipher, world, rooms,
                                                                                   arun):
    from plugins.industry import registry as r
    from plugins.industry.host import committees_of
    from plugins.industry.tables import CommitteeRecord

    committees = committees_of(registry)
    admin, sup = world["users"]["admin"], world["users"]["sup-1"]
    org1, org2 = world["orgs"][0]["id"], world["orgs"][1]["id"]
    clock.freeze(at(2026, 6, 1))
    arun(r.register_committee(committees, sup, r.RegisterIn(organisation=org1, committee="medical",
                                                            founded_on=dt.date(2021, 5, 1))))
    with pytest.raises(NotFound):  # the supervisor of org 1 cannot touch org 2
        arun(r.register_committee(committees, sup, r.RegisterIn(organisation=org2, committee="labour",
                                                                founded_on=dt.date(2025, 1, 1))))
    arun(r.register_committee(committees, admin, r.RegisterIn(organisation=org2, committee="labour",
                                                              founded_on=dt.date(2025, 1, 1))))
    flagged = arun(r.dormant_check(None))
    assert flagged == [{"organisation": org1, "committee": "medical", "reasons": ["no_mediation", "no_statistics"]}]
    # a case accepted within three years and a report for 2025 clear both
    case = register(registry, cipher, arun, rooms["medical"], world["users"]["sup-1"], "medical", when=at(2023, 6, 2))
    arun(apply_transition(registry, case["id"], "accept", world["users"]["sup-1"]))
    clock.freeze(at(2026, 6, 1))
    assert arun(r.dormant_check(None)) == [{"organisation": org1, "committee": "medical",
                                             "reasons": ["no_statistics"]}]
    arun(r.record_report(sup, org1, r.ReportIn(year=2025, reported_on=dt.date(2026, 1, 20))))
    with pytest.raises(FormErrors):
        arun(r.record_report(sup, org1, r.ReportIn(year=2025, reported_on=dt.date(2026, 1, 21))))
    assert arun(r.dormant_check(sup)) == []
    assert arun(CommitteeRecord.select(CommitteeRecord.flagged_on).where(
        CommitteeRecord.organisation == org1).first())["flagged_on"] is None
    # three years and a day after the last acceptance
    clock.freeze(at(2026, 6, 3))
    assert arun(r.dormant_check(admin)) == [{"organisation": org1, "committee": "medical", "reasons": ["no_mediation"]}]
    # two full years (2026, 2027) without a report, and the labour committee now three years old
    clock.freeze(at(2028, 1, 2))
    assert {(f["committee"], tuple(f["reasons"])) for f in arun(r.dormant_check(admin))} == {
        ("medical", ("no_mediation", "no_statistics")), ("labour", ("no_mediation", "no_statistics"))}
    with pytest.raises(Refused):
        arun(r.dormant_check(world["users"]["med-a"]))


def test_registry_rows_show_filing_and_inspections(registry, world, arun):
    from core.organisations import FilingIn, save_filing
    from plugins.industry import registry as r
    from plugins.industry.host import committees_of

    committees = committees_of(registry)
    sup, org1 = world["users"]["sup-1"], world["orgs"][0]["id"]
    clock.freeze(at(2026, 6, 1))
    arun(r.register_committee(committees, sup, r.RegisterIn(organisation=org1, committee="medical",
                                                            founded_on=dt.date(2026, 3, 2))))
    with pytest.raises(Refused):
        arun(r.register_committee(committees, sup, r.RegisterIn(organisation=org1, committee="labour",
                                                                founded_on=dt.date(2026, 3, 2))))
    row = arun(r.registry_rows(sup, committees, registry.calendar))[0]
    assert row["sector_body"] == "卫生健康主管部门、司法行政部门"
    assert row["filing_due"] == registry.calendar.add_workdays(dt.date(2026, 3, 2), 30) and row["filing_overdue"]
    arun(save_filing(sup, org1, FilingIn(filing_no="京司备2026-01", filed_on=dt.date(2026, 4, 1), checklist=[])))
    arun(r.record_inspection(sup, org1, r.InspectionIn(year=2026, inspected_on=dt.date(2026, 5, 30), result="passed")))
    with pytest.raises(Refused):
        arun(r.record_inspection(world["users"]["med-a"], org1, r.InspectionIn(
            year=2026, inspected_on=dt.date(2026, 5, 30), result="passed")))
    row = arun(r.registry_rows(sup, committees, registry.calendar))[0]
    assert not row["filing_overdue"] and [i["result"] for i in row["inspections"]] == ["passed"]
