"""A first end-to-end pass over the web layer: log in, register, mediate, settle, close, archive."""

import re


def test_walk_in_case_full_path_without_javascript(client, world, login, csrf, arun):
    from core.tables import Case, CaseEvent

    login(client, "med-a")
    room_a = world["rooms"]["a"]
    token = csrf(client)
    resp = client.post(
        "/intake/general/walk_in",
        data={
            "_csrf_token": token,
            "c.summary": "楼上漏水导致楼下墙面受损",
            "c.dispute_type": "neighbour",
            "c.amount": "1200.50",
            "c.people_count": "2",
            "a.kind": "person", "a.name": "王五", "a.id_number": "110101199003071233", "a.phone": "13800138000",
            "r.kind": "person", "r.name": "赵六",
            "f.application_form": "oral",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    case_url = resp.headers["location"]
    case_id = int(case_url.rsplit("/", 1)[1])
    page = client.get(case_url)
    assert page.status_code == 200
    assert "（2026）甲人调字第0001号" in page.text or re.search(r"（\d{4}）甲人调字第0001号", page.text)
    assert "110101********1233" in page.text and "110101199003071233" not in page.text

    def step(path, data=None):
        r = client.post(path, data={"_csrf_token": token, **(data or {})}, follow_redirects=False)
        assert r.status_code == 303, (path, r.status_code, r.text[:2000])

    step(f"/cases/{case_id}/transitions/accept")
    step(f"/cases/{case_id}/transitions/start_mediation")
    step(f"/cases/{case_id}/sessions", {"held_at": "2026-11-20T10:00", "place": "调解室", "attendees": "王五、赵六",
                                        "record": "双方陈述，达成一致", "outcome": "agreement"})
    step(f"/cases/{case_id}/agreement", {"form": "written", "facts": "漏水系楼上管道老化", "terms": "赵六赔偿王五1200.50元",
                                         "amount": "1200.50", "performance_method": "现金", "performance_deadline": "2026-12-01",
                                         "signed_by_parties": "1", "signed_by_mediator": "1", "sealed": "1",
                                         "signed_on": "2026-11-20"})
    step(f"/cases/{case_id}/transitions/settle")
    step(f"/cases/{case_id}/transitions/close")
    step(f"/cases/{case_id}/file/items", {"item": "identity", "note": "身份证复印件"})  # 卷宗 item 3 on file
    step(f"/cases/{case_id}/transitions/archive")
    row = arun(Case.select(Case.status, Case.outcome).where(Case.id == case_id).first())
    assert row == {"status": "archived", "outcome": "settled_written"}
    types = [e["type"] for e in arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == case_id).order_by(CaseEvent.id))]
    assert types == ["case.registered", "case.accepted", "case.mediation_started", "case.session_recorded",
                     "case.agreement_saved", "case.settled", "case.closed", "documents.item_recorded",
                     "case.archived"]
    assert room_a["room_id"] == "room-a"
