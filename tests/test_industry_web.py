"""The industry pages over HTTP: expert pool, consultations of a case, the committee registry — plain
forms (no JavaScript) with Chinese field errors, room scope, and htmx requests."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import clock
from tests.test_industry import MEDICAL, register


@pytest.fixture
def medical_room(world, arun):
    from core.users import create_room, create_user

    room = arun(create_room("medical-1", name="医调室", channel="medical", organisation=world["orgs"][0]["id"],
                            number_prefix="医调"))
    arun(create_user("med-m", "correct-horse-1", role="mediator", room_id="medical-1", display_name="医调员"))
    return room


def _post(client, url, data):
    return client.post(url, data={**data, "_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False)


def test_expert_pool_page(client, login, world, medical_room):
    login(client, "sup-1")
    page = client.get("/channels/medical/experts")
    assert page.status_code == 200 and "专家库为空" in page.text and "未启用" in page.text
    bad = _post(client, "/channels/medical/experts", {"category": "clinical", "name": ""})
    assert bad.status_code == 422 and "此项为必填" in bad.text
    bad = _post(client, "/channels/medical/experts", {"category": "astrology", "name": "某"})
    assert bad.status_code == 422 and "该委员会没有此专业类别" in bad.text
    for i in range(5):
        resp = _post(client, "/channels/medical/experts", {"category": "clinical", "name": f"临床专家{i}",
                                                           "employer": "市医学会", "title": "主任医师"})
        assert resp.status_code == 303 and resp.headers["location"] == "/channels/medical/experts"
    page = client.get("/channels/medical/experts", headers={"HX-Request": "true"})
    assert page.status_code == 200 and "临床专家4" in page.text
    assert re.search(r'pool-clinical"><td>临床医学</td><td>5</td><td>已启用', page.text)
    client.cookies.clear()
    login(client, "med-m")
    page = client.get("/channels/medical/experts")
    assert page.status_code == 200 and "添加专家" not in page.text
    denied = _post(client, "/channels/medical/experts", {"category": "clinical", "name": "某"})
    assert denied.status_code == 403 and "只有督导或管理员可以维护专家库" in denied.text


def test_consultation_over_http(client, login, world, medical_room, registry, cipher, arun):
    from plugins.industry import experts as ex
    from plugins.industry.host import committees_of

    c = committees_of(registry)["medical"]
    experts = [arun(ex.add_expert(c, world["users"]["admin"], ex.ExpertIn(category=cat, name=f"{cat}{i}")))
               for cat, n in (("clinical", 5), ("law", 2)) for i in range(n)]
    case = register(registry, cipher, arun, medical_room, world["users"]["sup-1"], "medical", MEDICAL)
    login(client, "med-m")
    page = client.get(f"/cases/{case['id']}")
    assert "医疗纠纷人民调解委员会" in page.text and f"/cases/{case['id']}/consultations" in page.text
    page = client.get(f"/cases/{case['id']}/consultations")
    assert page.status_code == 200 and "申请专家咨询" in page.text
    resp = _post(client, f"/cases/{case['id']}/consultations", {"category": "law", "question": "责任如何划分"})
    assert resp.status_code == 422 and "不足 5 名" in resp.text
    resp = _post(client, f"/cases/{case['id']}/consultations", {"category": "clinical", "question": ""})
    assert resp.status_code == 422 and "此项为必填" in resp.text
    resp = _post(client, f"/cases/{case['id']}/consultations", {"category": "clinical", "question": "诊疗是否有过错"})
    assert resp.status_code == 303
    cid = arun(ex.consultations_for_case(c, case["id"]))[0]["id"]
    today = clock.today().isoformat()
    text = "经审阅病历资料，诊疗行为存在过错。"
    resp = _post(client, f"/cases/{case['id']}/consultations/opinions",
                 {"consultation": cid, "expert": experts[5], "opinion": text, "given_on": today})
    assert resp.status_code == 422 and "同一专业类别" in resp.text
    resp = _post(client, f"/cases/{case['id']}/consultations/recusals",
                 {"consultation": cid, "expert": experts[0], "reason": "近亲属在涉事医院任职"})
    assert resp.status_code == 303
    for e in experts[1:3]:
        assert _post(client, f"/cases/{case['id']}/consultations/opinions",
                     {"consultation": cid, "expert": e, "opinion": text, "given_on": today}).status_code == 303
    page = client.get(f"/cases/{case['id']}/consultations")
    assert "已完成" in page.text and "近亲属在涉事医院任职" in page.text
    page = client.get(f"/cases/{case['id']}")
    assert "已完成（2 份书面意见，已附卷）" in page.text
    # another organisation's mediator: 404, as if the case did not exist
    client.cookies.clear()
    login(client, "med-c")
    assert client.get(f"/cases/{case['id']}/consultations").status_code == 404
    assert _post(client, f"/cases/{case['id']}/consultations", {"category": "clinical",
                                                                 "question": "诊疗是否有过错"}).status_code == 404


def test_traffic_clock_start_form(client, login, world, registry, cipher, arun):
    from core.cases import load_case
    from core.users import create_room, create_user
    from tests.test_industry import TRAFFIC

    room = arun(create_room("traffic-1", name="交调室", channel="traffic", organisation=world["orgs"][0]["id"]))
    arun(create_user("tr-m", "correct-horse-1", role="mediator", room_id="traffic-1", display_name="交调员"))
    case = register(registry, cipher, arun, room, world["users"]["sup-1"], "traffic", {**TRAFFIC, "start_on": None})
    login(client, "tr-m")
    assert "记录起算日" in client.get(f"/cases/{case['id']}").text
    bad = _post(client, f"/cases/{case['id']}/industry/clock-start", {"start_on": "不是日期"})
    assert bad.status_code == 422 and "请输入有效日期" in bad.text
    day = clock.today() - dt.timedelta(days=1)
    resp = _post(client, f"/cases/{case['id']}/industry/clock-start", {"start_on": day.isoformat()})
    assert resp.status_code == 303 and resp.headers["location"] == f"/cases/{case['id']}"
    assert arun(load_case(case["id"], None))["clock_started_on"] == day
    assert "记录起算日" not in client.get(f"/cases/{case['id']}").text


def test_committee_registry_pages(client, login, world, arun):
    from plugins.industry.tables import CommitteeRecord

    org1, org2 = world["orgs"][0]["id"], world["orgs"][1]["id"]
    login(client, "sup-1")
    page = client.get("/channels/industry/committees")
    assert page.status_code == 200 and "尚无登记" in page.text
    bad = _post(client, "/channels/industry/committees", {"organisation": org1, "committee": "medical"})
    assert bad.status_code == 422 and "此项为必填" in bad.text
    assert _post(client, "/channels/industry/committees",
                 {"organisation": org2, "committee": "medical", "founded_on": "2020-01-01"}).status_code == 404
    resp = _post(client, "/channels/industry/committees",
                 {"organisation": org1, "committee": "medical", "founded_on": "2020-01-01"})
    assert resp.status_code == 303
    resp = _post(client, f"/channels/industry/committees/{org1}/inspections",
                 {"year": "2025", "inspected_on": "2025-12-01", "result": "rectify", "notes": "台账不全"})
    assert resp.status_code == 303
    bad = _post(client, f"/channels/industry/committees/{org1}/reports", {"year": "1999", "reported_on": "2025-01-01"})
    assert bad.status_code == 422 and "不能小于 2000" in bad.text
    assert _post(client, f"/channels/industry/committees/{org2}/reports",
                 {"year": "2025", "reported_on": "2026-01-10"}).status_code == 404
    page = client.post("/channels/industry/dormant-check", data={"_csrf_token": client.cookies.get("csrftoken")})
    assert page.status_code == 200 and "1 个委员会被标记为需整改" in page.text
    assert "连续三年未开展调解工作" in page.text and "2025：限期整改" in page.text
    assert arun(CommitteeRecord.select(CommitteeRecord.flagged_on).first())["flagged_on"] == clock.today()
    client.cookies.clear()
    login(client, "med-a")
    assert _post(client, "/channels/industry/dormant-check", {}).status_code == 403


def test_traffic_agreement_document_states_the_liability_ratios(client, login, world, registry, cipher, arun):
    from core.users import create_room, create_user
    from tests.test_industry import settle

    room = arun(create_room("traffic-1", name="交调室", channel="traffic", organisation=world["orgs"][0]["id"]))
    arun(create_user("tr-m", "correct-horse-1", role="mediator", room_id="traffic-1", display_name="交调员"))
    case = register(registry, cipher, arun, room, world["users"]["sup-1"], "traffic")
    login(client, "tr-m")
    assert client.get(f"/cases/{case['id']}/documents/traffic_agreement").status_code == 409  # no agreement yet
    assert client.get(f"/cases/{case['id']}/documents/medical_agreement").status_code == 404  # another committee's
    from core.cases import apply_transition

    for step in ("accept", "start_mediation"):
        arun(apply_transition(registry, case["id"], step, world["users"]["sup-1"]))
    settle(registry, arun, case["id"], world["users"]["sup-1"], clock.today())
    page = client.get(f"/cases/{case['id']}/documents/traffic_agreement")
    assert page.status_code == 200 and "道路交通事故损害赔偿调解书" in page.text
    assert "申请人方 30%，被申请人方 70%" in page.text and "公交认字[2026]第0012号" in page.text
    docx = client.get(f"/cases/{case['id']}/documents/traffic_agreement.docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"


def test_pages_follow_the_session_time_outs(client, login, world, medical_room):
    login(client, "sup-1")
    assert client.get("/channels/industry/committees").status_code == 200
    clock.freeze(clock.now() + dt.timedelta(minutes=31))
    try:
        resp = client.get("/channels/industry/committees", follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
        assert _post(client, "/channels/medical/experts", {"category": "clinical", "name": "某"}).status_code in (303, 403)
    finally:
        clock.freeze(None)


@pytest.mark.parametrize("key,fields,dispute_type,title", [
    ("medical", {"f.hospital": "市第一人民医院", "f.treatment_from": "2026-01-05", "f.claimed_damage": "术后感染请求赔偿"},
     "medical", "申请医疗损害鉴定"),
    ("traffic", {"f.certificate_no": "公交认字0012", "f.injury_type": "property", "f.applicant_liability": "0",
                 "f.respondent_liability": "100"}, "traffic", "道路交通事故认定书编号"),
    ("labour", {"f.employer": "某劳务公司", "f.wage_arrears": "12000.50"}, "labour.wage_arrears", "拖欠工资金额（元）"),
    ("property", {"f.property_company": "某物业公司", "f.estate": "某小区1栋", "f.issues": ["fees", "services"]},
     "property_management", "争议事项"),
])
def test_each_committee_registers_over_http(client, login, world, arun, key, fields, dispute_type, title):
    from core.cases import load_case
    from core.users import create_room, create_user

    arun(create_room(f"{key}-1", name=f"{key}室", channel=key, organisation=world["orgs"][0]["id"]))
    arun(create_user(f"{key}-m", "correct-horse-1", role="mediator", room_id=f"{key}-1", display_name="调解员"))
    login(client, f"{key}-m")
    page = client.get(f"/intake/{key}/application")
    assert page.status_code == 200 and title in page.text
    common = {"c.summary": "纠纷", "c.dispute_type": dispute_type, "a.name": "张三", "r.name": "某单位",
              "r.kind": "organization"}
    bad = _post(client, f"/intake/{key}/application", common)
    assert bad.status_code == 422 and "此项为必填" in bad.text
    resp = _post(client, f"/intake/{key}/application", {**common, **fields})
    assert resp.status_code == 303, resp.text
    case = arun(load_case(int(resp.headers["location"].rsplit("/", 1)[1]), None))
    assert case["channel"] == key and case["intake"]
    page = client.get(resp.headers["location"])  # the case page shows every intake value (lists too)
    assert page.status_code == 200
    if key == "property":
        from plugins.industry.committees.property import ISSUES

        assert f"{ISSUES['fees']}、{ISSUES['services']}" in page.text
