"""The procuratorate channel (plugins/procuratorate): the criminal-reconciliation eligibility checker
and its rule data, the reconciliation agreement's rules, performance before reporting, the report to
the procuratorate over the signed outbox (a real HTTP partner server), statistics and the pages.

Checker tests are pure; everything else runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import httpx
import pytest

from core.access import UserCtx
from core.channels import RegistrationError
from core.forms import FormErrors
from plugins.procuratorate.rules import DEFAULT_RULES_FILE, EligibilityFacts, check_eligibility, load_rules, rules_for

PLUGINS = ["core.builtin", "core.documents", "core.handoff", "core.statistics", "plugins.general",
           "plugins.procuratorate"]
TODAY = dt.date(2026, 11, 20)
RULES = load_rules()


def facts(offence: str = "故意伤害罪", years: str = "3", civil: bool = True, offence_on: dt.date | None = None,
          prior: dt.date | None = None) -> EligibilityFacts:
    return EligibilityFacts(offence=offence, likely_sentence_years=decimal.Decimal(years), from_civil_dispute=civil,
                            offence_on=offence_on, prior_intentional_crime_on=prior)


# --------------------------------------------------------------------------- the checker (pure)


def test_civil_dispute_offence_up_to_exactly_three_years_is_eligible():
    r = check_eligibility(RULES, facts(years="3"), today=TODAY)
    assert r.eligible and r.clause == "civil_dispute"
    assert "第二百八十八条第一款" in r.citation and "第九十九条" in r.citation  # 以下 includes three years
    over = check_eligibility(RULES, facts(years="3.01"), today=TODAY)
    assert not over.eligible and over.clause == ""
    assert any("超过3年" in x for x in over.reasons)


def test_chapter_four_five_needs_a_civil_dispute_and_the_chapter():
    assert check_eligibility(RULES, facts("盗窃罪", "1"), today=TODAY).eligible  # chapter 5
    not_civil = check_eligibility(RULES, facts(civil=False, years="2"), today=TODAY)
    assert not not_civil.eligible and any("不是因民间纠纷引起" in x for x in not_civil.reasons)
    other_chapter = check_eligibility(RULES, facts("寻衅滋事罪", "1"), today=TODAY)  # chapter 6, intentional
    assert not other_chapter.eligible
    assert any("不属于刑法分则第四章、第五章" in x for x in other_chapter.reasons)


def test_negligent_offences_up_to_seven_years_but_never_dereliction():
    r = check_eligibility(RULES, facts("交通肇事罪", "7", civil=False), today=TODAY)
    assert r.eligible and r.clause == "negligent"
    assert not check_eligibility(RULES, facts("交通肇事罪", "7.5", civil=False), today=TODAY).eligible
    # a negligent chapter-4 offence over three years still qualifies as a negligent offence
    assert check_eligibility(RULES, facts("过失致人死亡罪", "5", civil=True), today=TODAY).clause == "negligent"
    dereliction = check_eligibility(RULES, facts("玩忽职守罪", "1", civil=False), today=TODAY)
    assert not dereliction.eligible and any("渎职" in x for x in dereliction.reasons)


def test_intentional_crime_within_five_years_excludes():
    offence_on = dt.date(2026, 6, 1)
    four = check_eligibility(RULES, facts(offence_on=offence_on, prior=dt.date(2022, 6, 1)), today=TODAY)
    assert not four.eligible and "第二百八十八条第二款" in four.citation
    six = check_eligibility(RULES, facts(offence_on=offence_on, prior=dt.date(2020, 6, 1)), today=TODAY)
    assert six.eligible and six.clause == "civil_dispute"
    exactly_five = check_eligibility(RULES, facts(offence_on=offence_on, prior=dt.date(2021, 6, 1)), today=TODAY)
    assert not exactly_five.eligible  # "五年以内" includes the fifth year
    a_day_over = check_eligibility(RULES, facts(offence_on=offence_on, prior=dt.date(2021, 5, 31)), today=TODAY)
    assert a_day_over.eligible
    # without an offence date the check date is the reference
    assert not check_eligibility(RULES, facts(prior=dt.date(2022, 1, 1)), today=TODAY).eligible


def test_unknown_offence_is_not_eligible():
    r = check_eligibility(RULES, facts("某某罪"), today=TODAY)
    assert not r.eligible and any("未列入" in x for x in r.reasons)


def test_deployment_overrides_thresholds_and_rule_file(tmp_path, settings):
    strict = rules_for(settings.with_(channels={"procuratorate": {"thresholds": {"civil_dispute_max_years": 2}}}))
    assert not check_eligibility(strict, facts(years="3"), today=TODAY).eligible
    assert check_eligibility(strict, facts(years="2"), today=TODAY).eligible
    text = DEFAULT_RULES_FILE.read_text(encoding="utf-8").replace('version = "2026.1"', 'version = "local-7"')
    text += '\n[[offences]]\nname = "妨害公务罪"\narticle = "第二百七十七条"\nchapter = 4\n'
    local = tmp_path / "local.toml"
    local.write_text(text, encoding="utf-8")
    rules = rules_for(settings.with_(channels={"procuratorate": {"rules_file": str(local)}}))
    r = check_eligibility(rules, facts("妨害公务罪", "1"), today=TODAY)
    assert r.eligible and r.rules_version == "local-7"
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n[thresholds]\ncivil_dispute_max_years = "three"\n', encoding="utf-8")
    with pytest.raises(RegistrationError, match="procuratorate"):
        rules_for(settings.with_(channels={"procuratorate": {"rules_file": str(bad)}}))
    with pytest.raises(RegistrationError, match="does not exist"):
        rules_for(settings.with_(channels={"procuratorate": {"rules_file": str(tmp_path / "none.toml")}}))
    with pytest.raises(RegistrationError, match="channels.procuratorate"):
        rules_for(settings.with_(channels={"procuratorate": {"rules_fil": "x"}}))


# --------------------------------------------------------------------------- engine fixtures


@pytest.fixture
def preg(settings):
    from core.registry import build_registry

    return build_registry(settings, PLUGINS, entry_points=False)


@pytest.fixture
def pworld(preg, arun) -> dict[str, Any]:
    from core.users import create_organisation, create_room, create_user

    async def build() -> dict[str, Any]:
        org = await create_organisation("org-p", "某县人民调解委员会")
        rooms = {
            "p": await create_room("room-p", name="检察院调解室", channel="procuratorate", organisation=org["id"],
                                   number_prefix="检调"),
            "q": await create_room("room-q", name="另一检察院调解室", channel="procuratorate",
                                   organisation=org["id"], number_prefix="检调乙"),
        }
        users = {}
        for name, room in (("med-p", "room-p"), ("med-q", "room-q")):
            users[name] = UserCtx.from_row(await create_user(name, "correct-horse-1", role="mediator", room_id=room,
                                                             display_name=name))
        return {"rooms": rooms, "users": users}

    return arun(build())


def register(preg, cipher, arun, room, user, kind="criminal_reconciliation", partner_id=None, external_id=None,
             **fields: Any) -> dict[str, Any]:
    from core.cases import create_case
    from core.forms import validate_data
    from core.intake import CaseIntake, PartyIn

    form = preg.form("procuratorate", kind)
    base = {"procuratorate": "某县人民检察院", "procuratorate_case_number": "某检刑审〔2026〕12号"}
    if kind == "criminal_reconciliation":
        base |= {"offence": "故意伤害罪", "stage": "prosecution_review", "from_civil_dispute": True,
                 "likely_sentence_years": "2", "offence_on": "2026-10-01", "compensation_claimed": "20000.00"}
    data = validate_data(form.schema, base | fields, strict=False)
    parties = [PartyIn(role="applicant", name="王被害", id_number="110101199003071233", phone="13800138000"),
               PartyIn(role="respondent", name="赵嫌疑", address="某县某镇")]
    intake = CaseIntake(summary="邻里纠纷引发肢体冲突致轻伤", dispute_type="damages")
    return arun(create_case(preg, room=room, form=form, intake=intake, parties=parties, fields=data, actor=user,
                            cipher=cipher, partner_id=partner_id, external_id=external_id))


def state(arun, case_id) -> str:
    from core.tables import Case

    return arun(Case.select(Case.state).where(Case.id == case_id).first())["state"]


def events(arun, case_id, type_=None) -> list[dict[str, Any]]:
    from core.tables import CaseEvent

    q = CaseEvent.select().where(CaseEvent.case == case_id)
    if type_:
        q = q.where(CaseEvent.type == type_)
    return arun(q.order_by(CaseEvent.id).output(load_json=True))


GOOD_TERMS = ("赵嫌疑于2026年11月20日当场一次性赔偿王被害医疗费、误工费共计20000元，并当面赔礼道歉；"
              "王被害对赵嫌疑予以谅解，并请求司法机关对赵嫌疑依法从宽处理。")


def agreement(**kw: Any):
    from core.records import AgreementIn

    values = dict(form="written", facts="2026年10月1日双方因宅基地界址发生争执，赵嫌疑将王被害打伤，经鉴定为轻伤二级；"
                  "赵嫌疑对此负全部责任。", terms=GOOD_TERMS, amount=decimal.Decimal("20000.00"),
                  performance_method="现金当场支付", performance_deadline=dt.date(2026, 11, 20),
                  signed_by_parties=True, signed_on=dt.date(2026, 11, 20))
    values.update(kw)
    return AgreementIn(**values)


def to_mediation(preg, arun, case_id, user) -> None:
    from core.cases import apply_transition, record_session
    from core.records import SessionIn

    arun(apply_transition(preg, case_id, "accept", user))
    arun(apply_transition(preg, case_id, "start_mediation", user))
    arun(record_session(preg, case_id, user, SessionIn(
        held_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), place="检察院调解室",
        attendees="王被害、赵嫌疑、调解员", record="双方就赔偿数额和谅解达成一致", outcome="agreement")))


# --------------------------------------------------------------------------- engine


def test_registration_records_the_check_and_only_eligible_cases_are_accepted(preg, pworld, cipher, arun):
    from core.cases import Refused, apply_transition

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    ok = register(preg, cipher, arun, room, user)
    assert state(arun, ok["id"]) == "eligible"
    [check] = events(arun, ok["id"], "procuratorate.eligibility_checked")
    assert check["data"]["eligible"] is True and check["data"]["clause"] == "civil_dispute"
    assert "刑事诉讼法》第二百八十八条第一款" in check["data"]["citation"]
    assert check["data"]["rules_version"] == RULES.version
    assert [e["type"] for e in events(arun, ok["id"])][:3] == [
        "case.registered", "procuratorate.eligibility_checked", "procuratorate.eligible"]

    bad = register(preg, cipher, arun, room, user, prior_intentional_crime_on="2023-01-01")
    assert state(arun, bad["id"]) == "registered"
    [check] = events(arun, bad["id"], "procuratorate.eligibility_checked")
    assert check["data"]["eligible"] is False and "第二百八十八条第二款" in check["data"]["citation"]
    with pytest.raises(Refused, match="适用条件审查"):
        arun(apply_transition(preg, bad["id"], "accept", user))
    # the system-only transitions are not the mediator's to take
    with pytest.raises(Refused, match="角色"):
        arun(apply_transition(preg, bad["id"], "confirm_eligible", user))
    arun(apply_transition(preg, bad["id"], "decline", user, {"reason": "五年内曾故意犯罪，不适用刑事和解"}))
    arun(apply_transition(preg, ok["id"], "accept", user))
    assert state(arun, ok["id"]) == "accepted"

    # civil supervision and complaints need no check
    civil = register(preg, cipher, arun, room, user, kind="civil_supervision", court_case_number="（2025）某民终1号")
    assert not events(arun, civil["id"], "procuratorate.eligibility_checked")
    arun(apply_transition(preg, civil["id"], "accept", user))


def test_intake_rejects_bad_fields_with_chinese_messages(preg):
    from core.forms import validate_data

    schema = preg.form("procuratorate", "criminal_reconciliation").schema
    with pytest.raises(FormErrors) as exc:
        validate_data(schema, {"procuratorate": "某县人民检察院", "procuratorate_case_number": "x1",
                               "offence": "不存在的罪", "stage": "trial", "likely_sentence_years": "2"}, strict=False)
    assert exc.value.errors["offence"] == "请从列表中选择" and exc.value.errors["stage"] == "请从列表中选择"
    with pytest.raises(FormErrors) as exc:
        validate_data(schema, {"procuratorate": "某县人民检察院", "procuratorate_case_number": "x1",
                               "offence": "盗窃罪", "stage": "arrest_review", "likely_sentence_years": "-1"},
                      strict=False)
    assert "负数" in exc.value.errors["likely_sentence_years"]


def test_recheck_moves_the_case_in_and_out_of_eligible(preg, pworld, cipher, arun):
    from core.cases import Refused, apply_transition
    from plugins.procuratorate.service import recheck, recheck_schema
    from core.forms import validate_form

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    case = register(preg, cipher, arun, room, user, likely_sentence_years="4")
    assert state(arun, case["id"]) == "registered"
    form = validate_form(recheck_schema(preg), {"offence": "故意伤害罪", "from_civil_dispute": "1",
                                                "likely_sentence_years": "3", "note": "检察机关更正量刑评估为三年以下"})
    result = arun(recheck(preg, case["id"], user, form))
    assert result.eligible and state(arun, case["id"]) == "eligible"
    form = validate_form(recheck_schema(preg), {"offence": "故意伤害罪", "likely_sentence_years": "3",
                                                "note": "经核实并非因民间纠纷引起"})
    assert not arun(recheck(preg, case["id"], user, form)).eligible
    assert state(arun, case["id"]) == "registered"
    checks = events(arun, case["id"], "procuratorate.eligibility_checked")
    assert [c["data"]["eligible"] for c in checks] == [False, True, False]
    assert checks[-1]["data"]["note"] == "经核实并非因民间纠纷引起"
    # another room's mediator cannot see the case at all
    from core.cases import NotFound

    with pytest.raises(NotFound):
        arun(recheck(preg, case["id"], pworld["users"]["med-q"], form))
    arun(apply_transition(preg, case["id"], "decline", user, {"reason": "不符合刑事和解条件"}))
    with pytest.raises(Refused, match="不能再审查"):
        arun(recheck(preg, case["id"], user, form))


@pytest.mark.parametrize("terms, touches", [
    (GOOD_TERMS + "检察院对赵嫌疑作出不起诉决定。", "追诉"),
    (GOOD_TERMS + "双方同意将罪名变更为过失致人重伤罪。", "罪名"),
    (GOOD_TERMS + "建议判处缓刑。", "量刑"),
    (GOOD_TERMS + "王被害撤回此前的证言。", "证据"),
])
def test_agreement_may_not_negotiate_facts_evidence_charge_or_sentence(preg, pworld, cipher, arun, terms, touches):
    from core.cases import save_agreement

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    case = register(preg, cipher, arun, room, user)
    to_mediation(preg, arun, case["id"], user)
    with pytest.raises(FormErrors) as exc:
        arun(save_agreement(preg, case["id"], user, agreement(terms=terms)))
    assert touches in exc.value.errors["terms"] and "第四百九十五条" in exc.value.errors["terms"]
    # unsigned drafts may be saved (the rules apply when the agreement is marked signed)
    arun(save_agreement(preg, case["id"], user, agreement(terms=terms, signed_by_parties=False)))


def test_agreement_content_signatures_and_performance_rules(preg, pworld, cipher, arun):
    from core.cases import save_agreement

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    case = register(preg, cipher, arun, room, user, decision_due_on="2026-12-10")
    to_mediation(preg, arun, case["id"], user)

    def errors(**kw: Any) -> dict[str, str]:
        with pytest.raises(FormErrors) as exc:
            arun(save_agreement(preg, case["id"], user, agreement(**kw)))
        return exc.value.errors

    assert "谅解" in errors(terms="赵嫌疑于2026年11月20日赔偿王被害20000元并赔礼道歉。")["terms"]
    assert "赔偿损失、赔礼道歉" in errors(terms="王被害对赵嫌疑予以谅解，请求司法机关依法从宽处理。",
                                         amount=None)["terms"]
    assert "双方当事人签名" in errors(sealed=True)["sealed"]
    assert "双方当事人签名" in errors(signed_by_mediator=True)["sealed"]
    assert "书面和解协议书" in errors(form="oral")["form"]
    late = errors(performance_deadline=dt.date(2026, 12, 20))["performance_deadline"]
    assert "2026-12-10" in late and "第四百九十九条" in late
    instal = errors(performance_method="分期支付，每月5000元", performance_deadline=dt.date(2027, 2, 20))
    assert "担保" in instal["performance_method"] and "被害人同意分期履行" in instal["performance_method"]
    # instalments with a guarantee and the victim's consent may run past the decision
    arun(save_agreement(preg, case["id"], user, agreement(
        performance_method="分期支付，每月5000元，由赵某某提供连带责任保证担保，被害人同意分期履行",
        performance_deadline=dt.date(2027, 2, 20))))
    arun(save_agreement(preg, case["id"], user, agreement()))  # the plain one passes

    # without a decision date "immediately" means the day of signing
    other = register(preg, cipher, arun, room, user)
    to_mediation(preg, arun, other["id"], user)
    with pytest.raises(FormErrors) as exc:
        arun(save_agreement(preg, other["id"], user, agreement(performance_deadline=dt.date(2026, 11, 25))))
    assert "立即履行" in exc.value.errors["performance_deadline"]


def test_settle_needs_only_the_parties_signatures(preg, pworld, cipher, arun):
    from core.cases import Refused, apply_transition, save_agreement

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    case = register(preg, cipher, arun, room, user)
    to_mediation(preg, arun, case["id"], user)
    arun(save_agreement(preg, case["id"], user, agreement(signed_by_parties=False)))
    with pytest.raises(Refused, match="双方当事人签名"):
        arun(apply_transition(preg, case["id"], "settle", user))
    arun(save_agreement(preg, case["id"], user, agreement()))  # no mediator signature, no seal
    arun(apply_transition(preg, case["id"], "settle", user))
    assert state(arun, case["id"]) == "settled"


def drain(arun, cipher) -> None:
    from core.handoff.outbox import OutboxConfig, claim, deliver, record

    async def go() -> None:
        cfg = OutboxConfig(retry_scale=0.001)
        async with httpx.AsyncClient(trust_env=False) as client:
            for _ in range(20):
                rows = await claim(10, "t", 30)
                if not rows:
                    return
                for row in rows:
                    await record(row, await deliver(client, row, cipher), "t", cfg)

    arun(go())


def test_performance_before_reporting_and_the_report_reaches_the_procuratorate(preg, pworld, cipher, arun):
    from core.cases import Refused, apply_transition, save_agreement
    from core.followups import FollowUpIn, record_followup
    from core.handoff.partners import create_partner
    from core.handoff.testing import PartnerServer

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    with PartnerServer() as server:
        created = arun(create_partner("spp-county", channel="procuratorate", room_id="room-p",
                                      callback_url=server.url("/spp"), cipher=cipher,
                                      known_channels={"procuratorate"}))
        server.secrets["/spp"] = created["secret"]
        case = register(preg, cipher, arun, room, None, partner_id="spp-county",
                        external_id="某检刑审〔2026〕12号")
        to_mediation(preg, arun, case["id"], user)
        arun(save_agreement(preg, case["id"], user, agreement()))
        arun(apply_transition(preg, case["id"], "settle", user))
        report = {"victim_view": "requests_leniency", "apology_made": "1", "notes": "赔偿已当场履行"}
        with pytest.raises(Refused, match="第四百九十九条"):
            arun(apply_transition(preg, case["id"], "report", user, report))
        with pytest.raises(Refused, match="报送"):
            arun(apply_transition(preg, case["id"], "close", user))
        arun(record_followup(preg, case["id"], user, FollowUpIn(
            done_on=dt.date(2026, 11, 20), performance="performed", satisfaction="satisfied")))
        with pytest.raises(FormErrors) as exc:
            arun(apply_transition(preg, case["id"], "report", user, {"victim_view": "forgets"}))
        assert exc.value.errors["victim_view"] == "请从列表中选择"
        arun(apply_transition(preg, case["id"], "report", user, report))
        arun(apply_transition(preg, case["id"], "close", user))
        drain(arun, cipher)
        got = server.wait_for(lambda ds: len([d for d in ds if d.verified]) >= 4 and ds)
        bodies = [d.body for d in got if d.verified]
    assert [b["type"] for b in bodies] == ["case.accepted", "case.settled", "procuratorate.outcome_reported",
                                           "case.closed"]
    rep = bodies[2]
    assert rep["external_id"] == "某检刑审〔2026〕12号"
    assert rep["data"]["victim_view"] == "requests_leniency" and rep["data"]["apology_made"] is True
    assert rep["data"]["performance"] == {"fulfilment": "performed", "instalments": False, "amount": "20000.00"}
    assert rep["data"]["agreement"]["amount"] == "20000.00"
    assert rep["data"]["procuratorate"]["offence"] == "故意伤害罪"
    assert rep["data"]["eligibility"]["eligible"] is True and "第二百八十八条" in rep["data"]["eligibility"]["citation"]
    # the case log holds what the partner was told
    [logged] = events(arun, case["id"], "procuratorate.outcome_reported")
    assert logged["partner_event"] is True and logged["data"]["victim_view"] == "requests_leniency"
    [details] = events(arun, case["id"], "procuratorate.report_details")
    assert details["data"]["event_id"] == logged["id"]
    assert details["data"]["performance"] == rep["data"]["performance"]


def test_instalments_may_be_reported_after_the_first_one(preg, pworld, cipher, arun):
    from core.cases import Refused, apply_transition, save_agreement
    from core.followups import FollowUpIn, record_followup

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    case = register(preg, cipher, arun, room, user)
    to_mediation(preg, arun, case["id"], user)
    arun(save_agreement(preg, case["id"], user, agreement(
        performance_method="分期支付，首期10000元当场支付，余款由赵某某提供担保，被害人同意分期履行",
        performance_deadline=dt.date(2027, 1, 20))))
    arun(apply_transition(preg, case["id"], "settle", user))
    with pytest.raises(Refused, match="首期"):
        arun(apply_transition(preg, case["id"], "report", user, {"victim_view": "agrees_leniency"}))
    arun(record_followup(preg, case["id"], user, FollowUpIn(done_on=dt.date(2026, 11, 21), performance="partial",
                                                            satisfaction="neutral")))
    arun(apply_transition(preg, case["id"], "report", user, {"victim_view": "agrees_leniency"}))
    assert state(arun, case["id"]) == "reported"


def test_statistics_count_the_reconciliation_funnel(preg, pworld, cipher, arun):
    from core.cases import apply_transition, save_agreement
    from core.followups import FollowUpIn, record_followup
    from core.statistics.queries import StatsFilters
    from core.statistics.report import monthly_report
    from core.statistics.testing import rebuilt_snapshot, rollup_snapshot

    room, user = pworld["rooms"]["p"], pworld["users"]["med-p"]
    done = register(preg, cipher, arun, room, user)
    to_mediation(preg, arun, done["id"], user)
    arun(save_agreement(preg, done["id"], user, agreement()))
    arun(apply_transition(preg, done["id"], "settle", user))
    arun(record_followup(preg, done["id"], user, FollowUpIn(done_on=dt.date(2026, 11, 20), performance="performed",
                                                            satisfaction="satisfied")))
    arun(apply_transition(preg, done["id"], "report", user, {"victim_view": "agrees_leniency"}))
    arun(apply_transition(preg, done["id"], "close", user))
    register(preg, cipher, arun, room, user)  # eligible, still open
    register(preg, cipher, arun, room, user, likely_sentence_years="5")  # not eligible
    civil = register(preg, cipher, arun, room, user, kind="civil_supervision")
    arun(apply_transition(preg, civil["id"], "accept", user))

    from core import clock

    now = clock.now().astimezone(clock.TZ)
    period = now.year * 100 + now.month
    live, rebuilt = arun(rollup_snapshot()), arun(rebuilt_snapshot(preg))
    for table in live:  # the counters kept in the transactions equal a rebuild from scratch
        diff = sorted(set(live[table]) ^ set(rebuilt[table]), key=repr)
        assert not diff, (table, diff[:2])
    _, report = arun(monthly_report(preg, user, StatsFilters(period, period)))
    values = {s.name: v for s, v in report.indicators}
    assert values, "the monthly report lists the channel's indicators"
    assert values["procuratorate_received_cases"] == 3
    assert values["procuratorate_eligible_cases"] == 2
    assert values["procuratorate_reconciled_cases"] == 1
    assert values["procuratorate_performed_cases"] == 1
    assert values["procuratorate_reported_cases"] == 1
    assert values["procuratorate_success_rate_percent"] == decimal.Decimal("50.0")
    assert values["procuratorate_compensation_yuan"] == decimal.Decimal("20000.00")
    assert 0 <= float(values["procuratorate_close_days"]) < 0.1  # closed within minutes
    from core.tables import Case

    row = arun(Case.select(Case.registered_at).where(Case.id == done["id"]).first())
    arun(Case.update({Case.closed_at: row["registered_at"] + dt.timedelta(days=3, hours=12)}).where(
        Case.id == done["id"]))
    _, report = arun(monthly_report(preg, user, StatsFilters(period, period)))
    assert {s.name: v for s, v in report.indicators}["procuratorate_close_days"] == pytest.approx(3.5)

    # the live average reads cases by a registered_at range in China time (served by an index): a case
    # registered at 00:30 on 1 April (16:30 UTC on 31 March) belongs to April, not March; another
    # channel's filter leaves the procuratorate's average out
    april_start = dt.datetime(2026, 4, 1, 0, 30, tzinfo=clock.TZ)
    arun(Case.update({Case.registered_at: april_start, Case.closed_at: april_start + dt.timedelta(days=2)}).where(
        Case.id == done["id"]))

    def close_days(first: int, last: int, channel: str = "") -> Any:
        _, r = arun(monthly_report(preg, user, StatsFilters(first, last, channel=channel)))
        return {s.name: v for s, v in r.indicators}["procuratorate_close_days"]

    assert close_days(202604, 202604) == pytest.approx(2.0)
    assert close_days(202602, 202604, "procuratorate") == pytest.approx(2.0)
    assert not close_days(202603, 202603)
    assert not close_days(202604, 202604, "court")


# --------------------------------------------------------------------------- pages


@pytest.fixture
def pclient(settings, preg, pworld):
    from litestar.testing import TestClient

    from web.app import create_app

    with TestClient(create_app(settings, plugins=PLUGINS, entry_points=False), base_url="https://testserver.local") as c:
        yield c


def test_intake_page_case_panel_recheck_page_and_documents(pclient, login, csrf, pworld, preg, cipher, arun):
    login(pclient, "med-p")
    page = pclient.get("/intake/procuratorate/criminal_reconciliation")
    assert page.status_code == 200 and "可能判处的有期徒刑（年）" in page.text and "故意伤害罪" in page.text
    posted = {"_csrf_token": csrf(pclient), "c.summary": "邻里纠纷引发肢体冲突", "c.dispute_type": "damages",
              "f.procuratorate": "某县人民检察院", "f.procuratorate_case_number": "某检刑审〔2026〕9号",
              "f.offence": "故意伤害罪", "f.stage": "prosecution_review", "f.from_civil_dispute": "1",
              "f.likely_sentence_years": "five"}
    from web.controllers.intake import PARTY_SLOTS

    for (prefix, role, _), name in zip(PARTY_SLOTS, ("王被害", "赵嫌疑")):
        posted[prefix + "name"] = name
    bad = pclient.post("/intake/procuratorate/criminal_reconciliation", data=posted, follow_redirects=False)
    assert bad.status_code == 422 and "请输入有效的金额" in bad.text
    from core.tables import Case

    assert arun(Case.count().where(Case.channel == "procuratorate")) == 0  # nothing half-written
    posted["f.likely_sentence_years"] = "4"
    made = pclient.post("/intake/procuratorate/criminal_reconciliation", data=posted, follow_redirects=False)
    assert made.status_code == 303, made.text
    case_id = int(made.headers["location"].rsplit("/", 1)[-1])
    assert state(arun, case_id) == "registered"

    body = pclient.get(f"/cases/{case_id}").text
    assert 'data-eligible="false"' in body and "超过3年" in body and "第二百八十八条第一款" in body
    assert "不得协商：案件事实认定" in body
    assert "第九十一条" not in body  # prosecution review, not arrest review
    assert f"/channels/procuratorate/cases/{case_id}/eligibility" in body

    form = pclient.get(f"/channels/procuratorate/cases/{case_id}/eligibility")
    assert form.status_code == 200 and 'value="4"' in form.text and "玩忽职守罪" in form.text
    recheck = {"_csrf_token": csrf(pclient), "offence": "故意伤害罪", "from_civil_dispute": "1",
               "likely_sentence_years": "2"}
    missing_note = pclient.post(f"/channels/procuratorate/cases/{case_id}/eligibility", data=recheck,
                                follow_redirects=False)
    assert missing_note.status_code == 422 and "此项为必填" in missing_note.text
    assert state(arun, case_id) == "registered"
    no_csrf = pclient.post(f"/channels/procuratorate/cases/{case_id}/eligibility",
                           data={k: v for k, v in recheck.items() if k != "_csrf_token"} | {"note": "更正"},
                           follow_redirects=False)
    assert no_csrf.status_code == 403
    done = pclient.post(f"/channels/procuratorate/cases/{case_id}/eligibility",
                        data=recheck | {"note": "检察机关更正量刑评估"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}"
    assert state(arun, case_id) == "eligible"
    body = pclient.get(f"/cases/{case_id}").text
    assert 'data-eligible="true"' in body and "检察机关更正量刑评估" in body

    # the reconciliation agreement document: parties sign, three copies, no seal, no mediator
    from core.cases import apply_transition, save_agreement

    user = pworld["users"]["med-p"]
    to_mediation(preg, arun, case_id, user)
    arun(save_agreement(preg, case_id, user, agreement()))
    doc = pclient.get(f"/cases/{case_id}/documents/procuratorate_reconciliation_agreement")
    assert doc.status_code == 200
    assert "一式三份" in doc.text and "某县人民检察院附卷备查" in doc.text and "被害人" in doc.text
    assert "（印章）" not in doc.text and "人民调解员（签名）" not in doc.text
    docx = pclient.get(f"/cases/{case_id}/documents/procuratorate_reconciliation_agreement.docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    arun(apply_transition(preg, case_id, "settle", user))
    body = pclient.get(f"/cases/{case_id}").text
    assert 'data-fulfilment="pending"' in body and "履行后方可向检察机关报送" in body

    # another room's mediator sees nothing
    pclient.cookies.clear()
    login(pclient, "med-q")
    assert pclient.get(f"/cases/{case_id}").status_code == 404
    assert pclient.get(f"/channels/procuratorate/cases/{case_id}/eligibility").status_code == 404
    assert pclient.post(f"/channels/procuratorate/cases/{case_id}/eligibility", data=recheck | {
        "_csrf_token": csrf(pclient), "note": "越权"}, follow_redirects=False).status_code == 404


def test_partner_api_lists_the_kinds_and_a_referral_is_checked_on_arrival(pclient, preg, cipher, arun):
    from core.handoff.partners import create_partner
    from core.handoff.testing import sample_referral

    created = arun(create_partner("spp-a", channel="procuratorate", room_id="room-p",
                                  callback_url="http://127.0.0.1:9/x", cipher=cipher,
                                  known_channels={"procuratorate"}))
    auth = {"Authorization": f"Bearer {created['token']}"}
    listing = pclient.get("/api/v1/channels", headers=auth)
    assert listing.status_code == 200, listing.text
    data = listing.json()
    [channel] = [c for c in (data["channels"] if isinstance(data, dict) else data) if c["key"] == "procuratorate"]
    kinds = {k["kind"]: k for k in channel["kinds"]}
    assert set(kinds) == {"criminal_reconciliation", "civil_supervision", "complaint"}
    crim = kinds["criminal_reconciliation"]
    assert "交通肇事罪" in crim["fields_schema"]["properties"]["offence"]["enum"]
    assert crim["deadline"]["key"] == "procuratorate_reconciliation" and "第一百七十二条" in crim["deadline"]["citation"]
    fields = {"procuratorate": "某县人民检察院", "procuratorate_case_number": "某检刑审〔2026〕77号",
              "offence": "交通肇事罪", "stage": "prosecution_review", "suspect_detained": False,
              "likely_sentence_years": "7", "compensation_claimed": "150000.00"}
    body = sample_referral("某检刑审〔2026〕77号", channel="procuratorate", kind="criminal_reconciliation",
                           dispute_type="traffic", fields=fields)
    bad = pclient.post("/api/v1/referrals", json=body | {"fields": fields | {"offence": "某罪",
                                                                               "likely_sentence_years": "x"}},
                       headers=auth)
    assert bad.status_code == 422
    paths = {f["field"] for f in bad.json()["error"]["fields"]}
    assert {"fields.offence", "fields.likely_sentence_years"} <= paths
    made = pclient.post("/api/v1/referrals", json=body, headers=auth)
    assert made.status_code == 201, made.text
    from core.tables import Case

    case = arun(Case.select(Case.id, Case.state, Case.source).where(Case.external_id == body["external_id"]).first())
    assert case["state"] == "eligible" and case["source"] == "referral.procuratorate"
    [check] = events(arun, case["id"], "procuratorate.eligibility_checked")
    assert check["data"]["clause"] == "negligent" and "第二百八十八条第一款" in check["data"]["citation"]


def test_recheck_page_refuses_other_kinds_without_hiding_them(pclient, login, pworld, preg, cipher, arun, csrf):
    user = pworld["users"]["med-p"]
    civil = register(preg, cipher, arun, pworld["rooms"]["p"], user, kind="civil_supervision")
    login(pclient, "med-p")
    page = pclient.get(f"/channels/procuratorate/cases/{civil['id']}/eligibility")
    assert page.status_code == 409 and "不是刑事和解案件" in page.text
    posted = pclient.post(f"/channels/procuratorate/cases/{civil['id']}/eligibility",
                          data={"_csrf_token": csrf(pclient), "offence": "盗窃罪", "likely_sentence_years": "1",
                                "note": "误点"}, follow_redirects=False)
    assert posted.status_code == 409
    assert not events(arun, civil["id"], "procuratorate.eligibility_checked")
    assert pclient.get("/channels/procuratorate/cases/999999/eligibility").status_code == 404
    arrest = register(preg, cipher, arun, pworld["rooms"]["p"], user, stage="arrest_review", suspect_detained=True)
    body = pclient.get(f"/cases/{arrest['id']}").text
    assert "第九十一条" in body and "七日以内" in body
