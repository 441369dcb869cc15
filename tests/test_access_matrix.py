"""Every route × every role × own/other object: the expected status.

The routes come from the app itself, so a new route cannot escape this test: a path parameter the
test does not know how to fill makes it fail until the author decides what "own" and "other" mean.

Expectations:
- anonymous: every non-public route sends the browser to the log-in page (303) — never content;
- an object outside the user's scope (another room's case for a mediator, another organisation's
  for a supervisor, another user's notice …) answers 404, exactly as if it did not exist;
- an object inside the scope never answers 404 or 5xx (it may answer 200, 303, 403, 409 or 422,
  since the test posts empty forms);
- an admin's scope is everything.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

PUBLIC = {"/login", "/-/health", "/-/documents/print.js", "/-/preferences"}
EXCLUDED_PREFIXES = ("/static/", "/schema", "/api/")  # static files, OpenAPI, the bearer-token API (own tests)
PARAM = re.compile(r"\{(\w+):\w+\}")
OWN_MAY_BE_404 = {
    "/cases/{case_id:int}/deliveries/{event_id:str}/resend",  # the event id is made up
    "/warnings/{notice_id:int}/read",  # mediators receive no notices
    "/online/slots/{slot_id:int}/join",  # the slot is not an online one and no video system is configured
}
# Party pages authenticate parties, not staff (a link, a one-time code and the ID digits); their
# access rules — a party reaches only their own case — are tested in tests/test_online.py.
PARTY_PATHS = re.compile(r"^/(p|apply)(/|$)")
ROLES = ("med-a", "sup-1", "admin")


def _routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        if route.path.startswith(EXCLUDED_PREFIXES) or route.path in {"/schema"} or PARTY_PATHS.match(route.path):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            out.append((route.path, method))
    return out


@pytest.fixture
def objects(world, make_case, registry, arun):
    """Own and other objects for each role, keyed by path parameter name."""
    from core.users import create_user
    from core.warnings import set_flags

    u = world["users"]
    own_case = make_case(world["rooms"]["a"], u["med-a"])
    room_b_case = make_case(world["rooms"]["b"], u["med-b"])
    org2_case = make_case(world["rooms"]["c"], u["med-c"])
    arun(create_user("sup-2", "correct-horse-1", role="supervisor", room_id="room-c"))
    arun(set_flags(registry, own_case["id"], u["med-a"], ["may_escalate"], "测试"))
    arun(set_flags(registry, org2_case["id"], u["med-c"], ["may_escalate"], "测试"))
    from core.tables import WarningNotice

    notices = {n["recipient"]: n["id"] for n in arun(WarningNotice.select(WarningNotice.id, WarningNotice.recipient))}
    from core.tables import CaseParty

    party = {c["id"]: arun(CaseParty.select(CaseParty.id).where(CaseParty.case == c["id"]).first())["id"]
             for c in (own_case, room_b_case, org2_case)}
    org1, org2 = world["orgs"][0]["id"], world["orgs"][1]["id"]
    slots = {}
    for key in ("a", "b", "c"):  # an open session slot in each room (online services)
        from core import clock
        from core.online.tables import Slot

        start = clock.now() + dt.timedelta(days=3)
        rows = arun(Slot.insert(Slot(room=world["rooms"][key]["id"], starts_at=start, place="调解室",
                                     ends_at=start + dt.timedelta(hours=1), created_at=clock.now())).returning(Slot.id))
        slots[key] = rows[0]["id"]
    out = {
        # role → (own values, other values)
        "med-a": ({"case_id": own_case["id"], "party_id": party[own_case["id"]], "user_id": u["med-a"].id,
                   "org_id": org1, "notice_id": notices["sup-1"]},
                  {"case_id": room_b_case["id"], "party_id": party[room_b_case["id"]], "user_id": u["med-c"].id,
                   "org_id": org2, "notice_id": notices["sup-1"]}),
        "sup-1": ({"case_id": room_b_case["id"], "party_id": party[room_b_case["id"]], "user_id": u["med-b"].id,
                   "org_id": org1, "notice_id": notices["sup-1"]},
                  {"case_id": org2_case["id"], "party_id": party[org2_case["id"]], "user_id": u["med-c"].id,
                   "org_id": org2, "notice_id": notices["sup-2"]}),
        "admin": ({"case_id": org2_case["id"], "party_id": party[org2_case["id"]], "user_id": u["med-c"].id,
                   "org_id": org2, "notice_id": None}, None),
    }
    for role, own_room, other_room in (("med-a", "a", "b"), ("sup-1", "b", "c"), ("admin", "c", None)):
        out[role][0]["slot_id"] = slots[own_room]
        if other_room:
            out[role][1]["slot_id"] = slots[other_room]
    return out


FIXED = {"key": "accept", "event_id": "evt_000000", "name": "application", "item": "identity",
         "channel": "general", "kind": "walk_in"}


def _fill(path: str, values: dict[str, Any]) -> str | None:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in values:
            return str(values[name])
        if name in FIXED:
            return FIXED[name]
        raise AssertionError(f"the access matrix does not know the path parameter {name!r} of {path}: "
                             "add what 'own' and 'other' mean for it")

    if "{notice_id" in path and values.get("notice_id") is None:
        return None
    return PARAM.sub(sub, path)


def test_access_matrix(app, client, world, objects, login, csrf):
    routes = _routes(app)
    assert len(routes) >= 30
    checked = 0
    # anonymous
    for path, method in routes:
        if path in PUBLIC:
            continue
        url = _fill(path, objects["admin"][0]) or _fill(path, {**objects["sup-1"][0]})
        resp = client.request(method, url, data={"_csrf_token": csrf(client)} if method != "GET" else None,
                              follow_redirects=False)
        assert resp.status_code in (303, 401), (method, path, resp.status_code)
        assert resp.status_code != 303 or resp.headers["location"].startswith("/login"), (method, path)
        checked += 1
    for role in ROLES:
        client.cookies.clear()
        login(client, role)
        token = csrf(client)
        own, other = objects[role]
        for path, method in routes:
            if path in PUBLIC or path == "/logout":
                continue
            for label, values in (("own", own), ("other", other)):
                if values is None or (label == "other" and not PARAM.search(path)):
                    continue
                if label == "other" and not any(p in path for p in ("{case_id", "{user_id", "{org_id", "{notice_id",
                                                                         "{slot_id")):
                    continue
                url = _fill(path, values)
                if url is None:
                    continue
                resp = client.request(method, url, data={"_csrf_token": token} if method != "GET" else None,
                                      follow_redirects=False)
                status = resp.status_code
                assert status < 500, (role, label, method, path, status)
                if label == "other":
                    assert status == 404, (role, method, path, status)
                elif path not in OWN_MAY_BE_404:
                    assert status != 404, (role, method, path, status)
                checked += 1
    print(f"access matrix: {checked} route × role × object checks over {len(routes)} routes")
    assert checked > 100
