"""Room scoping: mediators see their room, supervisors their organisation, admins everything."""

import pytest


@pytest.fixture
def cases(world, make_case):
    u = world["users"]
    return {
        "a": make_case(world["rooms"]["a"], u["med-a"], summary="甲室的案件"),
        "b": make_case(world["rooms"]["b"], u["med-b"], summary="乙室的案件"),
        "c": make_case(world["rooms"]["c"], u["med-c"], summary="丙室的案件"),
    }


@pytest.mark.parametrize(
    "username,visible",
    [("med-a", {"a"}), ("med-b", {"b"}), ("med-c", {"c"}), ("sup-1", {"a", "b"}), ("admin", {"a", "b", "c"})],
)
def test_case_pages_by_url_and_by_list(client, world, cases, login, username, visible):
    login(client, username)
    for key, case in cases.items():
        resp = client.get(f"/cases/{case['id']}")
        if key in visible:
            assert resp.status_code == 200 and case["number"] in resp.text
        else:
            assert resp.status_code == 404, f"{username} must not see room {key}'s case"
            assert case["number"] not in resp.text
    listing = client.get("/cases").text
    dashboard = client.get("/").text
    for key, case in cases.items():
        assert (case["number"] in listing) == (key in visible)
        assert (case["number"] in dashboard) == (key in visible)
    # searching for another room's case by its text finds nothing either
    for key, case in cases.items():
        found = client.get("/cases", params={"q": case["number"]}).text.split('id="case-table"')[1]
        assert (case["number"] in found) == (key in visible)


def test_actions_on_another_rooms_case_are_404_and_change_nothing(client, world, cases, login, csrf, arun):
    from core.tables import Case

    login(client, "med-b")
    token = csrf(client)
    case = cases["a"]
    for path in (f"/cases/{case['id']}/transitions/accept", f"/cases/{case['id']}/sessions",
                 f"/cases/{case['id']}/agreement"):
        resp = client.post(path, data={"_csrf_token": token})
        assert resp.status_code == 404, path
    assert arun(Case.select(Case.status).where(Case.id == case["id"]).first())["status"] == "registered"


def test_anonymous_requests_go_to_login(client, cases):
    resp = client.get(f"/cases/{cases['a']['id']}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next=/cases/")
    resp = client.get("/cases", headers={"HX-Request": "true"}, follow_redirects=False)
    assert resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/login")


def test_intake_into_a_room_of_another_organisation_is_refused(client, world, login, csrf, arun):
    from core.tables import Case

    login(client, "sup-1")
    resp = client.post("/intake/general/walk_in", data={
        "_csrf_token": csrf(client), "room": str(world["rooms"]["c"]["id"]),
        "c.summary": "越权登记", "c.dispute_type": "neighbour", "a.name": "甲", "r.name": "乙"})
    assert resp.status_code == 422 and "请选择调解室" in resp.text
    assert arun(Case.count()) == 0


def test_room_scope_in_sql_matches_the_piccolo_clause(world, arun):
    """``room_scope_sql`` (the statistics page's plain SQL) selects exactly the rooms ``room_scope`` does,
    for every role — including a user with neither room nor organisation, who sees none."""
    import dataclasses

    from core.access import room_scope, room_scope_sql
    from core.sql import fetch
    from core.tables import Room

    users = dict(world["users"])
    users["nobody"] = dataclasses.replace(users["med-a"], room=None, organisation=None)
    expected = {"med-a": {"a"}, "med-b": {"b"}, "med-c": {"c"}, "sup-1": {"a", "b"}, "admin": {"a", "b", "c"},
                "nobody": set()}
    names = {r["id"]: k for k, r in world["rooms"].items()}
    for name, user in users.items():
        where, args = room_scope_sql(user)
        by_sql = {names[r["id"]] for r in arun(fetch(f"SELECT r.id FROM core_room r WHERE {where}", *args))}
        by_piccolo = {names[r["id"]] for r in arun(Room.select(Room.id).where(room_scope(user)))}
        assert by_sql == by_piccolo == expected[name], name
