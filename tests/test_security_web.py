"""Security defaults of the web layer: headers, session timeouts, log-in throttling."""

import datetime as dt

import pytest

from core import clock


@pytest.fixture
def frozen():
    start = clock.now()
    clock.freeze(start)
    yield start
    clock.freeze(None)


def test_security_headers_on_pages_and_errors(client, world, login):
    for resp in (client.get("/login"), client.get("/nonexistent-page")):
        h = resp.headers
        assert "script-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h[
            "content-security-policy"].split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "same-origin"
    login(client, "med-a")
    assert client.get("/cases").headers["cache-control"] == "no-store"


def test_no_inline_script_in_any_page(client, world, login, make_case):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    for path in ("/", "/cases", "/intake/", "/intake/general/walk_in", f"/cases/{case['id']}", "/-/plugins", "/org/"):
        text = client.get(path).text
        for chunk in text.split("<script")[1:]:
            assert chunk.split(">", 1)[0].strip().startswith("src="), f"inline script on {path}"
        assert " onclick=" not in text and " onload=" not in text


def test_idle_timeout(client, world, login, frozen):
    login(client, "med-a")
    clock.freeze(frozen + dt.timedelta(minutes=29))
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.freeze(frozen + dt.timedelta(minutes=29 + 31))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_absolute_timeout_despite_activity(client, world, login, frozen):
    login(client, "med-a")
    t = frozen
    while t + dt.timedelta(minutes=25) < frozen + dt.timedelta(hours=11, minutes=59):
        t += dt.timedelta(minutes=25)
        clock.freeze(t)
        assert client.get("/cases", follow_redirects=False).status_code == 200
    clock.freeze(frozen + dt.timedelta(hours=12, minutes=1))
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_login_is_throttled_after_repeated_failures(client, world, csrf, frozen, arun):
    from core.tables import AuditEntry

    client.get("/login")
    for _ in range(5):
        r = client.post("/login", data={"username": "med-a", "password": "nope-nope", "_csrf_token": csrf(client)})
        assert r.status_code == 401
    r = client.post("/login", data={"username": "med-a", "password": world["password"], "_csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 429 and "登录失败次数过多" in r.text and r.headers["retry-after"] == "900"
    # another account is not locked by it; the window slides
    ok = client.post("/login", data={"username": "med-b", "password": world["password"], "_csrf_token": csrf(client)},
                     follow_redirects=False)
    assert ok.status_code == 303
    clock.freeze(frozen + dt.timedelta(minutes=16))
    client.cookies.clear()
    client.get("/login")
    r = client.post("/login", data={"username": "med-a", "password": world["password"], "_csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    assert arun(AuditEntry.count().where(AuditEntry.action == "login.throttled")) == 1
