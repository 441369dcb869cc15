"""The petition channel (访调对接): the eight steps and their rules, the dedicated team and its
visibility, the petition regulation's deadlines (appraisal pauses the clock), the subsidy report on a
hand-computed dataset (with its exports) and the statistics. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from core import clock
from core.access import UserCtx
from core.cases import Refused, apply_transition, create_case, load_case, record_session, save_agreement
from core.deadline_service import deadline_for, main_clock
from core.forms import FormErrors
from core.intake import CaseIntake, PartyIn
from core.records import AgreementIn, SessionIn
from core.tables import Case, CaseEvent

from plugins.petition import service
from plugins.petition.forms import (
    AcceptForm, AppraisalRequest, AppraisalResult, ConsultationRecord, EvidenceRecord, MemberForm, ReceiveFields,
    TeamForm,
)
from plugins.petition.tables import PetitionFile, WorkRecord

START = dt.datetime(2026, 9, 1, 10, 0, tzinfo=clock.TZ)

SUBSIDIES_TOML = (Path(__file__).parent.parent / "plugins" / "petition" / "subsidies.example.toml").read_text("utf-8")
"""The example rules shipped with the channel (the Yunnan bands) — the hand-computed figures below follow them."""


PLUGINS = ["core.builtin", "core.documents", "core.handoff", "core.statistics", "plugins.general", "plugins.petition"]
"""The channel's own plugin set, so that these tests do not depend on other channels."""


@pytest.fixture
def registry(settings):
    from core.registry import build_registry

    return build_registry(settings, PLUGINS, entry_points=False)


@pytest.fixture
def app(settings):
    from web.app import create_app

    return create_app(settings, plugins=PLUGINS, entry_points=False)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(START)
    yield
    clock.freeze(None)


def at(day: dt.date, hour: int = 10) -> None:
    clock.freeze(dt.datetime(day.year, day.month, day.day, hour, tzinfo=clock.TZ))


@pytest.fixture
def proom(world, arun):
    """A petition room in organisation 1 with three mediators; sup-1 supervises the organisation."""
    from core.users import create_room, create_user

    org1 = world["orgs"][0]
    room = arun(create_room("room-p", name="信访局人民调解工作室", channel="petition", organisation=org1["id"],
                            number_prefix="访调"))
    users = {}
    for name in ("med-p1", "med-p2", "med-p3"):
        users[name] = UserCtx.from_row(arun(create_user(name, "correct-horse-1", role="mediator", room_id="room-p",
                                                        display_name=name)))
    return {"room": room, "users": {**world["users"], **users}}


def receive(registry, cipher, arun, proom, *, people=2, to_capital=False, user="med-p1"):
    form = registry.form("petition", "visit")
    return arun(create_case(
        registry, room=proom["room"], form=form,
        intake=CaseIntake(summary="村民反映征地补偿款未足额发放", dispute_type="other", people_count=people,
                          claims="足额发放补偿款"),
        parties=[PartyIn(role="applicant", name="王五"), PartyIn(role="respondent", name="某镇人民政府", kind="organization")],
        fields=ReceiveFields(statement="2019年征地，补偿款至今未足额发放", materials="征地协议复印件",
                             petitioned_unit="某镇人民政府", to_capital=to_capital),
        actor=proom["users"][user], cipher=cipher))


def form_team(registry, arun, proom, case_id, *, members=("med-p1",), outsiders=(), user="med-p1"):
    u = proom["users"]
    case = arun(load_case(case_id, None))
    number = arun(service.save_team(registry, case_id, u[user], TeamForm(
        plan="走访调查、释法析理、组织双方协商", supervisor=u["sup-1"].id, team_deadline=case["deadline"])))
    for name in members:
        if name != user:  # whoever forms the team is on it already (as its lead)
            arun(service.add_member(registry, case_id, u[user], MemberForm(user=u[name].id, profession="mediator")))
    for name, public in outsiders:
        arun(service.add_member(registry, case_id, u[user], MemberForm(name=name, profession="lawyer",
                                                                          public_employee=public)))
    return number


def to_handling(registry, arun, proom, case_id, *, entrust=None, criteria=None, **team):
    user = proom["users"]["med-p1"]
    arun(apply_transition(registry, case_id, "accept", user, AcceptForm(assessment="属申诉求决类，双方同意调解",
                                                                       **(criteria or {}))))
    form_team(registry, arun, proom, case_id, **team)
    arun(apply_transition(registry, case_id, "entrust", user, entrust or {
        "entrusted_unit": "某镇人民政府", "unit_pays": "1", "entrusted_on": clock.today().isoformat()}))
    arun(apply_transition(registry, case_id, "start_handling", user))


def signed_agreement() -> AgreementIn:
    return AgreementIn(form="written", facts="某镇政府征地补偿款尚欠王五部分款项，镇政府承担补足责任。",
                       terms="某镇人民政府于2026年12月1日前向王五补发征地补偿款8000元。", amount=Decimal("8000"),
                       performance_method="银行转账", performance_deadline=dt.date(2026, 12, 1),
                       signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=clock.today())


def propose_and_resolve(registry, arun, proom, case_id):
    user = proom["users"]["med-p1"]
    arun(apply_transition(registry, case_id, "propose", user, {"proposal": "补足补偿款", "basis": "征地协议第五条"}))
    arun(record_session(registry, case_id, user, SessionIn(
        held_at=clock.now(), place="信访局调解室", attendees="王五、镇政府代表、专调小组",
        record="释法析理，双方同意补足补偿款。", outcome="agreement")))
    arun(save_agreement(registry, case_id, user, signed_agreement()))
    arun(apply_transition(registry, case_id, "resolve", user, {"petition_concluded": "1"}))


# ------------------------------------------------------------------------------------------------ the steps


def test_eight_steps_map_onto_the_core_lifecycle_and_archive(registry, cipher, arun, proom):
    from core.documents.casefile import record_item

    user = proom["users"]["med-p1"]
    case = receive(registry, cipher, arun, proom)
    row = arun(load_case(case["id"], None))
    assert (row["state"], row["status"]) == ("received", "registered")
    assert deadline_for(registry, "petition_acceptance", START.date()) == dt.date(2026, 9, 16)
    from plugins.petition.panel import petition_panel

    viewer = {"id": user.id, "role": "mediator", "room": user.room}
    assert "2026-09-16" in arun(petition_panel(row, viewer, registry))["html"]
    at(dt.date(2026, 9, 17))
    assert "已超期" in arun(petition_panel(row, viewer, registry))["html"]
    at(START.date())
    with pytest.raises(Refused, match="专调小组"):  # no entrustment before the team exists
        arun(apply_transition(registry, case["id"], "accept", user, AcceptForm(assessment="适合调解")))
        arun(apply_transition(registry, case["id"], "entrust", user, {"entrusted_unit": "某镇人民政府",
                                                                      "entrusted_on": "2026-09-01"}))
    number = form_team(registry, arun, proom, case["id"], members=("med-p1", "med-p3"))
    assert number == f"专调{case['number']}"
    arun(apply_transition(registry, case["id"], "entrust", user, {"entrusted_unit": "某镇人民政府", "unit_pays": "1",
                                                                  "entrusted_on": "2026-09-01"}))
    arun(apply_transition(registry, case["id"], "start_handling", user))
    arun(service.add_record(registry, case["id"], user, "evidence", EvidenceRecord(
        evidence_kind="documentary", description="征地补偿协议", obtained_on=dt.date(2026, 9, 1))))
    propose_and_resolve(registry, arun, proom, case["id"])
    arun(apply_transition(registry, case["id"], "request_aid", user, {
        "aid_kind": "state_judicial_aid", "hardship": "家庭成员重病，无固定收入", "applied_to": "县人民法院",
        "applied_on": "2026-09-01"}))
    seen = [(e["to_state"], e["type"]) for e in arun(CaseEvent.select(CaseEvent.to_state, CaseEvent.type).where(
        CaseEvent.case == case["id"], CaseEvent.transition != "").order_by(CaseEvent.id))]
    assert [s for s, _ in seen] == ["accepted", "entrusted", "handling", "proposed", "resolved", "aid"]
    row = arun(load_case(case["id"], None))
    assert (row["state"], row["status"], row["outcome"]) == ("aid", "closed", "settled_written")
    f = arun(PetitionFile.select().where(PetitionFile.case == case["id"]).first())
    assert (f["grade"], f["payer"], f["entrusted_unit"]) == ("general", "某镇人民政府", "某镇人民政府")
    assert arun(WorkRecord.exists().where(WorkRecord.case == case["id"], WorkRecord.kind == "aid"))
    with pytest.raises(Refused):
        arun(apply_transition(registry, case["id"], "archive", user))  # one case, one file: the file is incomplete
    arun(record_item(case["id"], user, "identity", note="身份证复印件", pages=1))
    arun(apply_transition(registry, case["id"], "archive", user))
    assert arun(load_case(case["id"], None))["status"] == "archived"


def test_declined_petition_records_advice_and_warning(registry, cipher, arun, proom):
    user = proom["users"]["med-p1"]
    case = receive(registry, cipher, arun, proom)
    with pytest.raises(FormErrors) as err:
        arun(apply_transition(registry, case["id"], "decline", user, {"reason": "属涉法涉诉事项", "advice": "向法院起诉"}))
    assert set(err.value.errors) == {"warned_agencies", "warning"}
    assert arun(load_case(case["id"], None))["state"] == "received"  # nothing half-written
    arun(apply_transition(registry, case["id"], "decline", user, {
        "reason": "属涉法涉诉事项，未经法定程序", "advice": "依法向人民法院提起诉讼",
        "warned_agencies": "某镇人民政府、县公安局", "warning": "信访人情绪激动，可能越级上访"}))
    row = arun(load_case(case["id"], None))
    assert (row["status"], row["outcome"], row["outcome_reason"]) == ("declined", "declined", "属涉法涉诉事项，未经法定程序")
    rec = arun(WorkRecord.select().where(WorkRecord.case == case["id"]).output(load_json=True).first())
    assert rec["kind"] == "decline_warning"
    assert rec["data"] == {"advice": "依法向人民法院提起诉讼", "warned_agencies": "某镇人民政府、县公安局",
                           "warning": "信访人情绪激动，可能越级上访"}
    assert not arun(PetitionFile.exists().where(PetitionFile.case == case["id"]))  # no team for a declined petition


def test_major_case_cannot_reach_a_proposal_without_a_consultation(registry, cipher, arun, proom):
    user = proom["users"]["med-p1"]
    case = receive(registry, cipher, arun, proom, people=12)
    to_handling(registry, arun, proom, case["id"], criteria={"leader_assigned": True})
    f = arun(PetitionFile.select().where(PetitionFile.case == case["id"]).output(load_json=True).first())
    assert f["grade"] == "major" and f["criteria"] == ["group", "leader_assigned"]
    assert "petition_major" in arun(load_case(case["id"], None))["risk_flags"]
    proposal = {"proposal": "补足补偿款", "basis": "征地协议第五条"}
    with pytest.raises(Refused, match="会商"):
        arun(apply_transition(registry, case["id"], "propose", user, proposal))
    arun(service.add_record(registry, case["id"], user, "consultation", ConsultationRecord(
        held_on=dt.date(2026, 9, 1), participants="工作室主任、律师甲、调解员乙", conclusion="建议补足补偿款并协调救助")))
    arun(apply_transition(registry, case["id"], "propose", user, proposal))
    assert arun(load_case(case["id"], None))["state"] == "proposed"


def test_general_case_needs_no_consultation(registry, cipher, arun, proom):
    case = receive(registry, cipher, arun, proom)
    to_handling(registry, arun, proom, case["id"])
    arun(apply_transition(registry, case["id"], "propose", proom["users"]["med-p1"], {"proposal": "补足", "basis": "协议"}))
    assert arun(load_case(case["id"], None))["state"] == "proposed"
    assert "petition_major" not in arun(load_case(case["id"], None))["risk_flags"]


def test_intake_criteria_make_a_case_major(registry, cipher, arun, proom):
    case = receive(registry, cipher, arun, proom, to_capital=True)
    to_handling(registry, arun, proom, case["id"])
    f = arun(PetitionFile.select().where(PetitionFile.case == case["id"]).output(load_json=True).first())
    assert (f["grade"], f["criteria"]) == ("major", ["to_capital"])


def test_appraisal_pauses_the_handling_clock(registry, cipher, arun, proom):
    user = proom["users"]["med-p1"]
    case = receive(registry, cipher, arun, proom)
    to_handling(registry, arun, proom, case["id"])
    row = arun(load_case(case["id"], None))
    assert row["clock_started_on"] == START.date()
    before = row["deadline"]
    assert before == deadline_for(registry, "petition_handling", START.date())  # 60 days (第三十四条)
    at(dt.date(2026, 9, 11))
    arun(service.add_record(registry, case["id"], user, "appraisal_request", AppraisalRequest(
        institution="某司法鉴定中心", matter="房屋损失价值", requested_on=dt.date(2026, 9, 11))))
    row = arun(load_case(case["id"], None))
    from core.case_clocks import clock_entries

    main = main_clock(registry, row, arun(clock_entries(case["id"])), clock.today())
    assert main.state == "paused"
    with pytest.raises(Refused, match="鉴定意见尚未收到"):
        arun(apply_transition(registry, case["id"], "propose", user, {"proposal": "补足", "basis": "协议"}))
    at(dt.date(2026, 9, 21))
    arun(service.add_record(registry, case["id"], user, "appraisal_result", AppraisalResult(
        received_on=dt.date(2026, 9, 21), opinion="损失价值12000元")))
    after = arun(load_case(case["id"], None))["deadline"]
    assert after == deadline_for(registry, "petition_handling", START.date() + dt.timedelta(days=10))
    assert after > before
    arun(apply_transition(registry, case["id"], "propose", user, {"proposal": "补足", "basis": "鉴定意见"}))


def test_extension_needs_approval_and_is_capped_at_30_days(registry, cipher, arun, proom):
    from core.case_clocks import extend_clock

    case = receive(registry, cipher, arun, proom)
    to_handling(registry, arun, proom, case["id"])
    user = proom["users"]["med-p1"]
    with pytest.raises(FormErrors):
        arun(extend_clock(registry, case["id"], user, days=31, by="局长张某", reason="案情复杂"))
    before = arun(load_case(case["id"], None))["deadline"]
    arun(extend_clock(registry, case["id"], user, days=30, by="局长张某", reason="案情复杂，需补充调查"))
    assert arun(load_case(case["id"], None))["deadline"] > before


def test_team_and_entrustment_validation(registry, cipher, arun, proom):
    u = proom["users"]
    case = receive(registry, cipher, arun, proom)
    arun(apply_transition(registry, case["id"], "accept", u["med-p1"], AcceptForm(assessment="适合调解")))
    row = arun(load_case(case["id"], None))
    with pytest.raises(FormErrors) as err:  # a supervisor of another organisation; a date past the statutory one
        arun(service.save_team(registry, case["id"], u["med-p1"], TeamForm(
            plan="方案", supervisor=u["med-c"].id, team_deadline=row["deadline"] + dt.timedelta(days=1))))
    assert set(err.value.errors) == {"supervisor", "team_deadline"}
    form_team(registry, arun, proom, case["id"])
    with pytest.raises(FormErrors) as err:  # a member from another room
        arun(service.add_member(registry, case["id"], u["med-p1"], MemberForm(user=u["med-a"].id, profession="lawyer")))
    assert "user" in err.value.errors
    with pytest.raises(FormErrors) as err:
        arun(apply_transition(registry, case["id"], "entrust", u["med-p1"], {"entrusted_on": "2026-09-01"}))
    assert "entrusted_unit" in err.value.errors
    assert arun(load_case(case["id"], None))["state"] == "accepted"
    arun(apply_transition(registry, case["id"], "entrust", u["med-p1"], {"bureau_handles": "1", "entrusted_on": "2026-09-01"}))
    f = arun(PetitionFile.select().where(PetitionFile.case == case["id"]).first())
    assert (f["bureau_handles"], f["payer"]) == (True, "")  # the same-level treasury pays


# --------------------------------------------------------------------------------------------- visibility


def test_team_records_are_closed_to_room_members_outside_the_team(registry, cipher, arun, proom, client, login, csrf):
    case = receive(registry, cipher, arun, proom)
    to_handling(registry, arun, proom, case["id"], members=("med-p1", "med-p3"))
    arun(service.add_record(registry, case["id"], proom["users"]["med-p1"], "evidence", EvidenceRecord(
        evidence_kind="witness", description="邻居赵六证言：补偿款只发了一半", obtained_on=dt.date(2026, 9, 1))))
    url = f"/channels/petition/cases/{case['id']}"
    for name in ("med-p1", "med-p3", "sup-1", "admin"):
        client.cookies.clear()
        login(client, name)
        page = client.get(url)
        assert page.status_code == 200 and "邻居赵六证言" in page.text, name
    client.cookies.clear()
    login(client, "med-p2")  # same room, not on the team, not a supervisor
    assert client.get(f"/cases/{case['id']}").status_code == 200  # the case itself, per the role
    case_page = client.get(f"/cases/{case['id']}").text
    assert "仅对小组成员、督办人和督导人员开放" in case_page and "邻居赵六证言" not in case_page
    denied = client.get(url)
    assert denied.status_code == 403 and "邻居赵六证言" not in denied.text
    post = client.post(url + "/records", data={"_csrf_token": csrf(client), "kind": "note", "notes": "偷看"})
    assert post.status_code == 403
    assert arun(WorkRecord.count().where(WorkRecord.case == case["id"])) == 1  # only the evidence
    step = client.post(f"/cases/{case['id']}/transitions/propose", data={
        "_csrf_token": csrf(client), "proposal": "越权提出", "basis": "没有依据"})
    assert step.status_code == 409 and "专调小组成员" in step.text
    assert arun(load_case(case["id"], None))["state"] == "handling"
    with pytest.raises(Refused):
        arun(apply_transition(registry, case["id"], "propose", proom["users"]["med-p2"], {"proposal": "越权", "basis": "没有"}))
    arun(apply_transition(registry, case["id"], "propose", proom["users"]["sup-1"], {"proposal": "补足", "basis": "协议"}))
    client.cookies.clear()
    login(client, "med-a")  # another room
    assert client.get(url).status_code == 404
    assert client.get(f"/channels/petition/cases/{case['id']}").status_code == 404


def test_team_page_forms_work_without_javascript_and_with_htmx(registry, cipher, arun, proom, world, client, login,
                                                              csrf, make_case):
    u = proom["users"]
    case = receive(registry, cipher, arun, proom)
    arun(apply_transition(registry, case["id"], "accept", u["med-p1"], AcceptForm(assessment="适合调解")))
    login(client, "med-p2")  # before a team exists the room forms it
    url = f"/channels/petition/cases/{case['id']}"
    bad = client.post(url + "/team", data={"_csrf_token": csrf(client), "plan": "", "supervisor": str(u["sup-1"].id),
                                           "team_deadline": "2026-10-01"})
    assert bad.status_code == 422 and "此项为必填" in bad.text
    ok = client.post(url + "/team", data={"_csrf_token": csrf(client), "plan": "先走访再协商",
                                          "supervisor": str(u["sup-1"].id), "team_deadline": "2026-10-01"},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].startswith(url)
    partial = client.post(url + "/members", data={"_csrf_token": csrf(client), "user": str(u["med-p3"].id),
                                                  "profession": "lawyer"},
                          headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text and 'id="petition-team"' in partial.text
    assert partial.headers["vary"] == "HX-Request"
    page = client.get(url).text
    assert f"专调{case['number']}" in page and "先走访再协商" in page and "med-p3" in page
    members = arun(service.team_members(arun(service.petition_file(case["id"]))["id"]))
    assert [(m["name"], m["profession"], m["lead"]) for m in members] == [("med-p2", "mediator", True),
                                                                          ("med-p3", "lawyer", False)]
    general = make_case(world["rooms"]["a"], world["users"]["med-a"])
    client.cookies.clear()
    login(client, "med-a")
    assert client.get(f"/channels/petition/cases/{general['id']}").status_code == 409  # not a petition


# ---------------------------------------------------------------------------------------- subsidies, stats


@pytest.fixture
def subsidy_settings(settings, tmp_path):
    from core.settings import load_settings

    path = tmp_path / "fengqiao.toml"
    path.write_text(SUBSIDIES_TOML, encoding="utf-8")
    return load_settings(env={
        "FENGQIAO_CONFIG": str(path), "FENGQIAO_DATA_DIR": str(settings.data_dir),
        "FENGQIAO_DATABASE_URL": settings.database_url, "FENGQIAO_SECRET_KEY": settings.secret_key,
        "FENGQIAO_DB_POOL": "0"})


def dataset(registry, cipher, arun, proom):
    """Four petitions received on 2026-09-01 and concluded in September:

    A general, 2 people, settled; team: med-p1 + lawyer 钱律师 (public employee) → band 3,000, half withheld → 1,500,
      paid by 某镇人民政府;
    B major (to the capital), 12 people, settled; team: med-p1, med-p3, 孙律师 → band 20,000 → 20,000, the bureau
      handles it so the same-level treasury pays;
    C general, 2 people, guided to litigation with legal aid; team: med-p3 → partial 1,000, 某镇人民政府;
    D declined (no team, no subsidy).
    Plus two duty days of med-p2 at 200 → 400, treasury.
    """
    from core.statistics.subsidies import record_duty_day
    from core.tables import Agreement

    u = proom["users"]
    a = receive(registry, cipher, arun, proom)
    to_handling(registry, arun, proom, a["id"], outsiders=(("钱律师", True),))
    propose_and_resolve(registry, arun, proom, a["id"])
    b = receive(registry, cipher, arun, proom, people=12, to_capital=True)
    to_handling(registry, arun, proom, b["id"], members=("med-p1", "med-p3"), outsiders=(("孙律师", False),),
                entrust={"bureau_handles": "1", "entrusted_on": "2026-09-01"})
    arun(service.add_record(registry, b["id"], u["med-p1"], "consultation", ConsultationRecord(
        held_on=dt.date(2026, 9, 1), participants="主任、律师", conclusion="同意")))
    propose_and_resolve(registry, arun, proom, b["id"])
    assert arun(Agreement.count()) == 2
    c = receive(registry, cipher, arun, proom, user="med-p3")
    to_handling(registry, arun, proom, c["id"], members=("med-p3",))
    arun(apply_transition(registry, c["id"], "propose", u["med-p1"], {"proposal": "建议起诉", "basis": "诉访分离"}))
    arun(apply_transition(registry, c["id"], "guide", u["med-p1"], {
        "reason": "被信访单位不同意补偿", "route": "litigation", "legal_aid": "1"}))
    arun(apply_transition(registry, c["id"], "request_aid", u["med-p1"], {
        "aid_kind": "social_aid", "hardship": "低保户", "applied_to": "县民政局", "applied_on": "2026-09-01"}))
    d = receive(registry, cipher, arun, proom)
    arun(apply_transition(registry, d["id"], "decline", u["med-p1"], {
        "reason": "不属于人民调解范围", "advice": "向有权机关反映", "warned_agencies": "县信访局", "warning": "注意稳控"}))
    for day in (dt.date(2026, 9, 1), dt.date(2026, 9, 2)):
        arun(record_duty_day(u["sup-1"], u["med-p2"].id, day))
    return a, b, c, d


def test_subsidy_report_on_a_hand_computed_dataset(subsidy_settings, registry, cipher, arun, proom):
    from plugins.petition.report import petition_subsidies, report_rows

    a, b, c, _ = dataset(registry, cipher, arun, proom)
    rep = arun(petition_subsidies(subsidy_settings, proom["users"]["sup-1"], 202609, 202609))
    lines = {line.case_number: line for line in rep.cases}
    assert set(lines) == {a["number"], b["number"], c["number"]}
    la, lb, lc = lines[a["number"]], lines[b["number"]], lines[c["number"]]
    assert (la.grade, la.band, la.package, la.members, la.eligible, la.paid, la.payer) == (
        "general", "一般案件", Decimal("3000.00"), 2, 1, Decimal("1500.00"), "某镇人民政府")
    assert (lb.grade, lb.band, lb.package, lb.members, lb.eligible, lb.paid, lb.payer) == (
        "major", "重大疑难复杂案件", Decimal("20000.00"), 3, 3, Decimal("20000.00"), "同级财政")
    assert (lc.outcome, lc.band, lc.paid, lc.payer) == ("not_settled", "调解不成或引导分流（部分补助）",
                                                       Decimal("1000.00"), "某镇人民政府")
    assert lb.team == f"专调{b['number']}" and la.period == 202609
    assert [(d.name, d.days, d.amount) for d in rep.duty] == [("med-p2", 2, Decimal("400.00"))]
    assert rep.by_payer == {"某镇人民政府": Decimal("2500.00"), "同级财政": Decimal("20400.00")}
    assert rep.total == Decimal("22900.00")
    assert report_rows(rep)[-1][-3:] == [Decimal("20400.00"), None, "同级财政"]
    # another organisation's supervisor sees none of it
    from core.users import create_user

    sup2 = UserCtx.from_row(arun(create_user("sup-2", "correct-horse-1", role="supervisor", room_id="room-c")))
    assert arun(petition_subsidies(subsidy_settings, sup2, 202609, 202609)).cases == []


def test_subsidy_report_page_and_exports(subsidy_settings, cipher, arun, proom, login):
    from litestar.testing import TestClient
    from openpyxl import load_workbook

    from core.registry import build_registry
    from web.app import create_app

    reg = build_registry(subsidy_settings, PLUGINS, entry_points=False)
    a, b, c, _ = dataset(reg, cipher, arun, proom)
    with TestClient(create_app(subsidy_settings, plugins=PLUGINS, entry_points=False), base_url="https://testserver.local") as client:
        login(client, "sup-1")
        page = client.get("/channels/petition/report?from=2026-09&to=2026-09")
        assert page.status_code == 200 and f"专调{b['number']}" in page.text and "20,400.00" in page.text
        partial = client.get("/channels/petition/report?from=2026-09&to=2026-09", headers={"HX-Request": "true"})
        assert 'id="petition-report"' in partial.text and "<html" not in partial.text
        x = client.get("/channels/petition/report?from=2026-09&to=2026-09&format=xlsx")
        assert x.status_code == 200 and "filename*=UTF-8''" in x.headers["content-disposition"]
        ws = load_workbook(io.BytesIO(x.content)).active
        rows = [[cell.value for cell in r] for r in ws.iter_rows(min_row=4)]
        by_case = {r[2]: r for r in rows}
        assert by_case[a["number"]][9] == 1500 and by_case[a["number"]][11] == "某镇人民政府"
        assert by_case[b["number"]][6] == 20000 and by_case[b["number"]][11] == "同级财政"
        assert sum(r[9] for r in rows if r[0] == "合计") == 22900
        text = client.get("/channels/petition/report?from=2026-09&to=2026-09&format=csv").content.decode("utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        assert table[0][0] == "月份" and any(r[2] == c["number"] and r[9] == "1000.00" for r in table)
        client.cookies.clear()
        login(client, "med-c")  # another organisation's room: an empty report
        assert a["number"] not in client.get("/channels/petition/report?from=2026-09&to=2026-09").text


def test_statistics_reproduce_the_seed_indicators(registry, subsidy_settings, cipher, arun, proom, client, login):
    from plugins.petition.report import petition_statistics

    a, b, c, d = dataset(registry, cipher, arun, proom)
    at(dt.date(2026, 10, 9))
    receive(registry, cipher, arun, proom)  # October intake
    data = arun(petition_statistics(registry, proom["users"]["sup-1"], 202609, 202610))
    v = data["values"]
    assert (v["petition_received_cases"], v["petition_declined_cases"], v["petition_mediated_cases"],
            v["petition_settled_cases"], v["petition_legal_track_cases"], v["petition_aid_cases"],
            v["petition_group_cases"]) == (5, 1, 3, 2, 1, 1, 1)
    assert v["petition_success_rate_percent"] == Decimal("66.7")  # 2 settled of 3 mediated (Yibin: 307/460)
    assert data["trend"] == [(202609, 4), (202610, 1)]
    assert data["live"] == {"major_accepted": 1, "consultations": 1, "appraisals": 0, "legal_aid_referrals": 1,
                            "notarisations": 0}
    login(client, "med-p2")
    page = client.get("/channels/petition/statistics?from=2026-09&to=2026-10")
    assert page.status_code == 200 and "66.7%" in page.text and 'data-period="202610"' in page.text
    client.cookies.clear()
    login(client, "med-c")
    other = arun(petition_statistics(registry, proom["users"]["med-c"], 202609, 202610))
    assert other["values"]["petition_received_cases"] == 0


# ------------------------------------------------------------------------------------------ partner API


def test_petition_bureau_refers_through_the_partner_api_and_hears_back(registry, cipher, arun, proom, client):
    """A petition bureau's system refers a petition (kind ``visit``, the intake schema over JSON) and its
    steps reach the outbox as callbacks, the channel-specific ``petition.aid_requested`` included."""
    from core.handoff.partners import create_partner
    from core.handoff.tables import OutboxEvent
    from core.handoff.testing import sample_referral

    token = arun(create_partner("bureau-1", channel="petition", room_id="room-p", callback_url="http://127.0.0.1:9/cb",
                                cipher=cipher, known_channels={"petition", "general"}))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    bad = client.post("/api/v1/referrals", headers=auth, json=sample_referral(
        "XF-2026-0001", channel="petition", kind="visit", fields={"representatives": 9}))
    assert bad.status_code == 422 and {"fields.statement", "fields.representatives"} <= {
        f["field"] for f in bad.json()["error"]["fields"]}
    body = sample_referral("XF-2026-0001", channel="petition", kind="visit", people_count=3,
                           fields={"statement": "拖欠租金引发信访", "petitioned_unit": "某某物业有限公司"})
    created = client.post("/api/v1/referrals", headers=auth, json=body)
    assert created.status_code == 201, created.text
    case = arun(Case.select().where(Case.external_id == "XF-2026-0001").first())
    assert (case["channel"], case["room"], case["state"]) == ("petition", proom["room"]["id"], "received")
    user = proom["users"]["med-p1"]
    to_handling(registry, arun, proom, case["id"])
    arun(apply_transition(registry, case["id"], "propose", user, {"proposal": "建议起诉", "basis": "合同约定"}))
    arun(apply_transition(registry, case["id"], "guide", user, {"reason": "物业公司不同意", "route": "litigation"}))
    arun(apply_transition(registry, case["id"], "request_aid", user, {
        "aid_kind": "social_aid", "hardship": "低保户", "applied_to": "县民政局", "applied_on": "2026-09-01"}))
    types = [r["type"] for r in arun(OutboxEvent.select(OutboxEvent.type).where(OutboxEvent.case == case["id"])
                                     .order_by(OutboxEvent.id))]
    assert types == ["case.accepted", "case.not_settled", "petition.aid_requested"]


def test_review_and_re_review_windows(registry, cipher, arun, proom, client, login):
    from plugins.petition.forms import ReviewRecord

    user = proom["users"]["med-p1"]
    case = receive(registry, cipher, arun, proom)
    to_handling(registry, arun, proom, case["id"])
    arun(apply_transition(registry, case["id"], "propose", user, {"proposal": "不予支持", "basis": "政策规定"}))
    with pytest.raises(Refused):  # no review while the petition is still being handled
        arun(service.add_record(registry, case["id"], user, "review", ReviewRecord(
            level="review", reply_received_on=START.date(), requested_on=START.date(), authority="市信访局")))
    arun(apply_transition(registry, case["id"], "guide", user, {"reason": "信访人不接受", "route": "administrative_review"}))
    last = deadline_for(registry, "petition_review_application", START.date())
    assert last >= START.date() + dt.timedelta(days=30)  # 30 days (第三十五条), rolled past holidays
    at(last + dt.timedelta(days=1))
    with pytest.raises(FormErrors) as err:
        arun(service.add_record(registry, case["id"], user, "review", ReviewRecord(
            level="review", reply_received_on=START.date(), requested_on=last + dt.timedelta(days=1),
            authority="市信访局")))
    assert "已超过请求期限" in err.value.errors["requested_on"]
    arun(service.add_record(registry, case["id"], user, "review", ReviewRecord(
        level="review", reply_received_on=START.date(), requested_on=last, authority="市信访局")))
    rec = arun(WorkRecord.select().where(WorkRecord.case == case["id"], WorkRecord.kind == "review")
               .output(load_json=True).first())
    assert rec["data"]["decision_due"] == deadline_for(registry, "petition_review_decision", last).isoformat()
    login(client, "med-p1")
    page = client.get(f"/channels/petition/cases/{case['id']}").text
    assert "请求复查、复核" in page and "复查/复核意见期限" in page and "<dt>请求事项</dt><dd>复查</dd>" in page and "<dt>level</dt>" not in page


def test_reception_and_assessment_through_the_web_without_javascript(proom, client, login, csrf, arun):
    login(client, "med-p1")
    form = client.get("/intake/petition/visit")
    assert form.status_code == 200 and "信访人陈述要点" in form.text and "走访代表人数" in form.text
    data = {"_csrf_token": csrf(client), "c.summary": "十二户村民反映征地补偿款未足额发放", "c.dispute_type": "other",
            "c.people_count": "12", "c.claims": "足额发放", "f.petition_form": "visit",
            "f.statement": "补偿款只发了一半", "f.representatives": "6", "a.kind": "person", "a.name": "王五",
            "r.kind": "organization", "r.name": "某镇人民政府"}
    bad = client.post("/intake/petition/visit", data=data)
    assert bad.status_code == 422 and "5" in bad.text  # at most five representatives (第二十条)
    assert arun(Case.count()) == 0
    created = client.post("/intake/petition/visit", data={**data, "f.representatives": "3"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    case_id = int(created.headers["location"].rsplit("/", 1)[-1])
    page = client.get(f"/cases/{case_id}").text
    assert "访调对接" in page and "决定是否受理期限" in page and "2026-09-16" in page
    declined = client.post(f"/cases/{case_id}/transitions/decline", data={
        "_csrf_token": csrf(client), "reason": "不属于调解范围", "advice": "向法院起诉"})
    assert declined.status_code == 422 and "此项为必填" in declined.text  # the warning is required
    accepted = client.post(f"/cases/{case_id}/transitions/accept", data={
        "_csrf_token": csrf(client), "assessment": "属申诉求决类，双方同意调解", "leader_assigned": "1"},
        follow_redirects=False)
    assert accepted.status_code == 303
    page = client.get(f"/cases/{case_id}").text
    assert "重大疑难复杂" in page and "领导包案" in page and "10人以上的群众性信访" in page
    assert "尚未组建专调小组" in page and f"/channels/petition/cases/{case_id}" in page


def test_desk_lists_the_rooms_petitions_under_supervision(registry, cipher, arun, proom, client, login):
    waiting = receive(registry, cipher, arun, proom)
    major = receive(registry, cipher, arun, proom, people=12)
    to_handling(registry, arun, proom, major["id"])
    declined = receive(registry, cipher, arun, proom)
    arun(apply_transition(registry, declined["id"], "decline", proom["users"]["med-p1"], {
        "reason": "不属于调解范围", "advice": "向法院起诉", "warned_agencies": "县信访局", "warning": "注意稳控"}))
    at(dt.date(2026, 9, 20))  # the acceptance decision of the first petition is now overdue
    login(client, "med-p2")
    page = client.get("/channels/petition/").text
    assert waiting["number"] in page and major["number"] in page and declined["number"] not in page
    assert f"专调{major['number']}" in page and "重大疑难复杂" in page and "限时销号" in page
    assert page.count('class="overdue"') == 1 and "决定是否受理 2026-09-16" in page
    everything = client.get("/channels/petition/?all=1", headers={"HX-Request": "true"})
    assert declined["number"] in everything.text and "<html" not in everything.text
    client.cookies.clear()
    login(client, "med-c")
    assert major["number"] not in client.get("/channels/petition/").text
