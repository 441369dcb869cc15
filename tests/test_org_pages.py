"""Issue-12 pages: overview, mediator registry, filing, screening, and the case-page actions."""

import datetime as dt

from core import clock


def _post(client, csrf, path, data):
    return client.post(path, data={"_csrf_token": csrf(client), **data}, follow_redirects=False)


def test_supervisor_keeps_the_registry_and_assigns_only_certified(client, world, login, csrf, make_case, arun):
    login(client, "sup-1")
    med_b = world["users"]["med-b"].id
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    page = client.get(f"/cases/{case['id']}").text
    assert "未取得调解员证书，不能承办案件（持证上岗）" in page and 'value="%d" disabled' % med_b in page
    # forcing the uncertified choice is refused with the reason
    refused = _post(client, csrf, f"/cases/{case['id']}/mediator", {"user_id": str(med_b)})
    assert refused.status_code == 409 and "持证上岗" in refused.text
    resp = _post(client, csrf, f"/org/mediators/{med_b}/profile", {
        "employment": "full_time", "certificate_no": "鄂调证2026-018",
        "certificate_valid_until": (clock.today() + dt.timedelta(days=200)).isoformat(), "star_grade": "3",
        "specialities": ["neighbour", "contract"]})
    assert resp.status_code == 303
    bad = _post(client, csrf, f"/org/mediators/{med_b}/profile", {"certificate_no": "X", "star_grade": "9"})
    assert bad.status_code == 422 and "不能大于 5" in bad.text
    assert _post(client, csrf, f"/org/mediators/{med_b}/trainings",
                 {"held_on": clock.today().isoformat(), "course": "调解技巧", "hours": "4"}).status_code == 303
    detail = client.get(f"/org/mediators/{med_b}").text
    assert "鄂调证2026-018" in detail and "调解技巧" in detail and "合计 4.0 学时" in detail
    ok = _post(client, csrf, f"/cases/{case['id']}/mediator", {"user_id": str(med_b)})
    assert ok.status_code == 303
    assert "med-b" in client.get(f"/cases/{case['id']}").text
    roster = client.get("/org/mediators").text
    assert "鄂调证2026-018" in roster and "med-a" in roster and "med-c" not in roster
    assert client.get(f"/org/mediators/{world['users']['med-c'].id}").status_code == 404


def test_mediators_cannot_edit_the_registry(client, world, login, csrf):
    login(client, "med-a")
    resp = _post(client, csrf, f"/org/mediators/{world['users']['med-a'].id}/profile", {"employment": "full_time"})
    assert resp.status_code == 403 and "督导或管理员" in resp.text
    assert client.get(f"/org/mediators/{world['users']['med-b'].id}").status_code == 404


def test_flag_warns_the_supervisor_on_the_dashboard(client, world, login, csrf, make_case):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    resp = _post(client, csrf, f"/cases/{case['id']}/flags", {"flags": ["may_escalate"], "note": "一方情绪激动"})
    assert resp.status_code == 303
    page = client.get(f"/cases/{case['id']}").text
    assert "可能激化" in page and "已通知" in page and "sup-1" in page
    client.post("/logout", data={"_csrf_token": csrf(client)})
    login(client, "sup-1")
    dash = client.get("/").text
    assert "未读预警" in dash and case["number"] in dash and "一方情绪激动" in dash
    notice_id = dash.split('action="/warnings/')[1].split("/read")[0]
    assert _post(client, csrf, f"/warnings/{notice_id}/read", {}).status_code == 303
    assert 'id="warnings"' not in client.get("/").text, "a read warning leaves the dashboard"
    assert _post(client, csrf, f"/warnings/{notice_id}/read", {}).status_code == 404


def test_followup_recorded_from_the_case_page(client, world, login, csrf, make_case, registry, arun):
    from core.cases import apply_transition, record_session, save_agreement
    from core.records import AgreementIn, SessionIn

    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    arun(apply_transition(registry, case["id"], "accept", user))
    arun(apply_transition(registry, case["id"], "start_mediation", user))
    arun(record_session(registry, case["id"], user, SessionIn(held_at=clock.now(), place="室", attendees="双方", record="记录")))
    arun(save_agreement(registry, case["id"], user, AgreementIn(
        terms="乙方当面赔礼道歉并支付医药费300元", facts="事实", performance_method="现金当面支付",
        amount=__import__("decimal").Decimal("300"), performance_deadline=clock.today() - dt.timedelta(days=10),
        signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=clock.today() - dt.timedelta(days=12))))
    arun(apply_transition(registry, case["id"], "settle", user))
    login(client, "med-a")
    dash = client.get("/").text
    assert "到期未回访" in dash and case["number"] in dash.split("到期未回访")[1]
    page = client.get(f"/cases/{case['id']}").text
    assert "待回访" in page and "已逾期" in page
    bad = _post(client, csrf, f"/cases/{case['id']}/followups", {"done_on": clock.today().isoformat()})
    assert bad.status_code == 422 and "此项为必填" in bad.text
    ok = _post(client, csrf, f"/cases/{case['id']}/followups", {
        "done_on": clock.today().isoformat(), "performance": "performed", "satisfaction": "satisfied",
        "escalation_signs": "无"})
    assert ok.status_code == 303
    page = client.get(f"/cases/{case['id']}").text
    assert "已履行，满意" in page and "到期未回访" not in client.get("/").text


def test_overview_filing_and_screening_pages(client, world, login, csrf):
    login(client, "sup-1")
    org = world["orgs"][0]["id"]
    page = client.get("/org/").text
    assert "甲调解室" in page and "乙调解室" in page and "丙调解室" not in page and "未备案" in page
    assert _post(client, csrf, f"/org/organisations/{org}/filing", {
        "filing_no": "郧司备2026-009", "filed_on": clock.today().isoformat(), "checklist": ["org", "staff", "seal"]}
    ).status_code == 303
    bad = _post(client, csrf, f"/org/organisations/{org}/filing", {"filing_no": "X"})
    assert bad.status_code == 422 and "备案号和备案日期须同时填写" in bad.text
    assert _post(client, csrf, f"/org/organisations/{org}/screening", {
        "level": "village", "conducted_on": clock.today().isoformat(), "disputes_found": "2", "risks_found": "1",
        "findings": "两起土地纠纷"}).status_code == 303
    page = client.get("/org/").text
    assert "郧司备2026-009" in page and "3 / 22" in page and "最近 " + clock.today().isoformat() in page
    assert client.post(f"/org/organisations/{world['orgs'][1]['id']}/screening", data={
        "_csrf_token": csrf(client), "level": "village", "conducted_on": clock.today().isoformat(),
        "findings": "越权登记"}).status_code == 404
