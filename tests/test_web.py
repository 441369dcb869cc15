"""Web behaviour: sessions and CSRF, page vs partial, filters and pagination, logout."""

import datetime as dt

from core import clock


def test_login_failure_and_cookie_flags(client, world, csrf):
    client.get("/login")
    resp = client.post("/login", data={"username": "med-a", "password": "wrong-password", "_csrf_token": csrf(client)})
    assert resp.status_code == 401 and "用户名或密码不正确" in resp.text
    resp = client.post("/login", data={"username": "med-a", "password": world["password"], "_csrf_token": csrf(client)},
                       follow_redirects=False)
    cookie = next(v for k, v in resp.headers.multi_items() if k == "set-cookie" and v.startswith("fq_session="))
    for flag in ("Secure", "HttpOnly", "SameSite=lax"):
        assert flag.lower() in cookie.lower()
    client.cookies.clear()
    first_visit = client.get("/login")
    csrf_cookie = next(v for k, v in first_visit.headers.multi_items() if k == "set-cookie" and v.startswith("csrftoken="))
    for flag in ("secure", "httponly", "samesite=lax"):
        assert flag in csrf_cookie.lower()


def test_unsafe_routes_reject_missing_csrf_token(client, world, login, make_case):
    login(client, "med-a")
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    for path in ("/logout", f"/cases/{case['id']}/transitions/accept", "/intake/general/walk_in",
                 f"/cases/{case['id']}/sessions", f"/cases/{case['id']}/agreement"):
        resp = client.post(path, data={"x": "1"})
        assert resp.status_code == 403, path
    resp = client.post("/login", data={"username": "med-a", "password": "x"})
    assert resp.status_code == 403
    # a forged token is refused too
    resp = client.post(f"/cases/{case['id']}/transitions/accept", data={"_csrf_token": "forged"})
    assert resp.status_code == 403


def test_htmx_gets_partials_and_vary_header(client, world, login, make_case, csrf):
    login(client, "med-a")
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    full = client.get("/cases")
    part = client.get("/cases", headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in part.text and 'id="case-table"' in part.text
    assert full.headers["vary"] == "HX-Request" and part.headers["vary"] == "HX-Request"
    boosted = client.get("/cases", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text
    resp = client.post(f"/cases/{case['id']}/transitions/accept",
                       headers={"HX-Request": "true", "x-csrftoken": csrf(client)})
    assert resp.status_code == 200 and "<html" not in resp.text and 'id="case-body"' in resp.text
    assert "已完成：受理" in resp.text and "已受理" in resp.text


def test_refused_transition_is_shown_in_place(client, world, login, make_case, csrf):
    login(client, "med-a")
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    resp = client.post(f"/cases/{case['id']}/transitions/close", data={"_csrf_token": csrf(client)})
    assert resp.status_code == 409 and "不能执行" in resp.text
    resp = client.post(f"/cases/{case['id']}/transitions/decline", data={"_csrf_token": csrf(client), "reason": ""})
    assert resp.status_code == 422 and "此项为必填" in resp.text


def test_list_filters_search_and_keyset_pagination(client, world, login, make_case, registry, arun):
    from core.cases import apply_transition

    user = world["users"]["med-a"]
    room = world["rooms"]["a"]
    made = [make_case(room, user, summary=f"第{i}号纠纷", applicant=f"当事人{i}",
                      dispute_type="contract" if i % 2 else "neighbour") for i in range(30)]
    arun(apply_transition(registry, made[0]["id"], "accept", user))
    login(client, "med-a")
    page1 = client.get("/cases").text
    assert "共 30 件" in page1 and made[29]["number"] in page1 and made[4]["number"] not in page1
    assert 'rel="next"' in page1
    nxt = page1.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    page2 = client.get(nxt).text
    assert made[4]["number"] in page2 and made[29]["number"] not in page2 and 'rel="next"' not in page2
    assert "共 30 件" in client.get("/cases", params={"q": "纠纷"}).text
    assert "共 1 件" in client.get("/cases", params={"q": "当事人17"}).text
    assert "共 15 件" in client.get("/cases", params={"dispute_type": "contract"}).text
    assert "共 1 件" in client.get("/cases", params={"status": "accepted"}).text
    assert "共 29 件" in client.get("/cases", params={"status": "registered"}).text
    urgent = {"sort": "deadline", "status": "open", "urgent": "1"}
    assert "共 0 件" in client.get("/cases", params=urgent).text  # the accepted case is due in 30 days
    from core.tables import Case

    arun(Case.update({Case.deadline: clock.today() + dt.timedelta(days=2)}).where(Case.id == made[0]["id"]))
    assert "共 1 件" in client.get("/cases", params=urgent).text
    tomorrow = (clock.today() + dt.timedelta(days=2)).isoformat()
    assert "共 0 件" in client.get("/cases", params={"date_from": tomorrow}).text
    # nonsense filter values are ignored, not a 500
    assert client.get("/cases", params={"status": "bogus", "cursor": "!!", "date_from": "x", "room": "y"}).status_code == 200


def test_deadline_sort_puts_urgent_first(client, world, login, make_case, registry, arun):
    from core.cases import apply_transition
    from core.tables import Case

    user = world["users"]["med-a"]
    cases = [make_case(world["rooms"]["a"], user) for _ in range(3)]
    for c in cases:
        arun(apply_transition(registry, c["id"], "accept", user))
    overdue = clock.today() - dt.timedelta(days=2)
    arun(Case.update({Case.deadline: overdue}).where(Case.id == cases[2]["id"]))
    login(client, "med-a")
    text = client.get("/cases", params={"sort": "deadline"}).text
    assert text.index(cases[2]["number"]) < text.index(cases[0]["number"])
    assert "已超期 2 天" in text
    dash = client.get("/").text
    assert 'class="overdue"' in dash and "已超期" in dash


def test_logout_invalidates_the_session(client, world, login, csrf):
    login(client, "med-a")
    assert client.get("/", follow_redirects=False).status_code == 200
    old_cookie = client.cookies.get("fq_session")
    client.post("/logout", data={"_csrf_token": csrf(client)})
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.set("fq_session", old_cookie, domain="testserver.local")
    assert client.get("/", follow_redirects=False).status_code == 303, "a logged-out session id must not work again"


def test_open_redirect_is_refused(client, world, csrf):
    client.get("/login")
    resp = client.post("/login", data={"username": "med-a", "password": world["password"], "next": "//evil.example",
                                       "_csrf_token": csrf(client)}, follow_redirects=False)
    assert resp.headers["location"] == "/"


def test_login_issues_a_fresh_session_id(client, world, csrf):
    planted = "a" * 64
    client.get("/login")
    client.cookies.set("fq_session", planted, domain="testserver.local")
    resp = client.post("/login", data={"username": "med-a", "password": world["password"], "_csrf_token": csrf(client)},
                       follow_redirects=False)
    assert resp.status_code == 303
    new_id = client.cookies.get("fq_session")
    assert new_id and new_id != planted
    assert client.get("/", follow_redirects=False).status_code == 200
    client.cookies.set("fq_session", planted, domain="testserver.local")
    assert client.get("/", follow_redirects=False).status_code == 303, "the planted id must not be signed in"


def test_rerendered_pages_are_html_not_json(client, world, login, make_case, csrf):
    login(client, "med-a")
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    refused = client.post(f"/cases/{case['id']}/transitions/close", data={"_csrf_token": csrf(client)})
    invalid = client.post("/intake/general/walk_in", data={"_csrf_token": csrf(client), "c.summary": ""})
    for resp in (refused, invalid):
        assert resp.headers["content-type"].startswith("text/html"), resp.headers["content-type"]


def test_case_count_is_capped(client, world, login, make_case, monkeypatch):
    import core.queries
    import web.controllers.cases

    monkeypatch.setattr(core.queries, "COUNT_CAP", 3)
    monkeypatch.setattr(web.controllers.cases, "COUNT_CAP", 3)
    for _ in range(4):
        make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    assert "超过 3 件" in client.get("/cases").text


def test_case_page_of_a_form_no_longer_registered(client, world, login, make_case, arun):
    """A case registered through an intake form that this deployment no longer has (a retired form, a
    disabled plugin) still opens: its page shows the case without the form's own fields."""
    from core.tables import Case

    login(client, "med-a")
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    arun(Case.update({Case.kind: "retired_form"}).where(Case.id == case["id"]))
    resp = client.get(f"/cases/{case['id']}")
    assert resp.status_code == 200 and case["number"] in resp.text
