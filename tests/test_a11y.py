"""Accessibility of the rendered pages (without a browser) and the assisted-entry read-back.

The browser checks (axe-core, keyboard-only use) are in tests/test_browser.py; here every form
control of the main pages must have a label, and an invalid field must point at its message.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from typing import Any

from markupsafe import Markup


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit", "button"}:
            self.controls.append({**a, "_tag": tag, "_in_label": "1" if self._label_depth else ""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_depth:
            self._label_depth -= 1


def _check_labels(html: str, page: str) -> _Controls:
    p = _Controls()
    p.feed(html)
    unlabelled = [c for c in p.controls if not (c["_in_label"] or c.get("aria-label") or c.get("id") in p.label_for)]
    assert not unlabelled, f"{page}: controls without a label: {unlabelled}"
    for c in p.controls:
        if c.get("aria-invalid") == "true":
            refs = c.get("aria-describedby", "").split()
            assert refs and all(r in p.ids for r in refs), f"{page}: invalid field without its message: {c}"
    return p


def test_every_control_of_the_main_pages_is_labelled(client: Any, world: Any, make_case: Any, login: Any,
                                                      csrf: Any) -> None:
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    pages = ["/login", "/", "/cases", "/intake/", "/intake/general/walk_in", f"/cases/{case['id']}",
             f"/cases/{case['id']}/readback", "/statistics", "/org/"]
    for url in pages:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert re.search(r'<html lang="zh-CN"', resp.text), url
        _check_labels(resp.text, url)
    # a form with errors: every invalid field names its message, and the summary is announced
    bad = client.post("/intake/general/walk_in", data={"_csrf_token": csrf(client), "c.summary": "",
                                                       "a.id_number": "110101199003071234"})
    assert bad.status_code == 422
    p = _check_labels(bad.text, "intake with errors")
    invalid = [c for c in p.controls if c.get("aria-invalid") == "true"]
    assert {c["name"] for c in invalid} >= {"c.summary", "a.name"}
    assert re.search(r'<p class="error banner" role="alert">请检查标红的项目', bad.text)


def _digest(html: str) -> str:
    m = re.search(r'name="sha256" value="([0-9a-f]{64})"', html)
    assert m, html
    return m.group(1)


def _readback_text(html: str) -> str:
    m = re.search(r'<div class="readback-text" id="readback-text"[^>]*>(.*?)</div>\s*<div aria-live', html, re.S)
    assert m
    return Markup(m.group(1)).striptags()


def test_read_back_confirmation_is_recorded_with_the_hash_of_the_text(client: Any, world: Any, make_case: Any,
                                                                     login: Any, csrf: Any, arun: Any) -> None:
    from core.tables import CaseEvent, CaseParty

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    page = client.get(f"/cases/{case['id']}/readback")
    assert page.status_code == 200
    text = _readback_text(page.text)
    assert case["number"] in text and "当事人在人民调解活动中享有下列权利" in text
    digest = _digest(page.text)
    assert hashlib.sha256(text.encode()).hexdigest() == digest
    parties = arun(CaseParty.select(CaseParty.id, CaseParty.role, CaseParty.consent).where(
        CaseParty.case == case["id"]).order_by(CaseParty.id))
    applicant = next(p for p in parties if p["role"] == "applicant")
    url = f"/cases/{case['id']}/readback"

    def events() -> list[dict[str, Any]]:
        return arun(CaseEvent.select().where(CaseEvent.case == case["id"],
                                             CaseEvent.type == "case.readback_confirmed").output(load_json=True))

    # nothing chosen: 422, both fields marked, nothing written
    r = client.post(url, data={"_csrf_token": csrf(client), "sha256": digest})
    assert r.status_code == 422
    assert 'aria-invalid="true" aria-describedby="rb-consent-err"' in r.text and 'id="rb-party-err"' in r.text
    # a party of another case, or garbage
    r = client.post(url, data={"_csrf_token": csrf(client), "sha256": digest, "party": "abc", "consent": "1"})
    assert r.status_code == 422
    # the text changed since it was read (an old hash): 409, nothing written
    r = client.post(url, data={"_csrf_token": csrf(client), "sha256": "0" * 64, "party": str(applicant["id"]),
                               "consent": "1"})
    assert r.status_code == 409 and "登记内容已变更" in r.text
    assert events() == []
    # the real confirmation
    r = client.post(url, data={"_csrf_token": csrf(client), "sha256": digest, "party": str(applicant["id"]),
                               "consent": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case['id']}"
    [event] = events()
    assert event["data"]["text_sha256"] == digest
    assert [p["id"] for p in event["data"]["parties"]] == [applicant["id"]]
    assert event["actor"] == world["users"]["med-a"].id and event["created_at"] is not None
    consents = {p["id"]: p["consent"] for p in arun(CaseParty.select(CaseParty.id, CaseParty.consent).where(
        CaseParty.case == case["id"]))}
    assert consents[applicant["id"]] == "agreed"
    assert all(v == "unknown" for k, v in consents.items() if k != applicant["id"])
    page = client.get(f"/cases/{case['id']}")
    assert "当事人已确认登记内容" in page.text
    # with htmx the form answers with an HX-Redirect
    r = client.post(url, data={"_csrf_token": csrf(client), "sha256": digest, "party": str(applicant["id"]),
                               "consent": "1"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/cases/{case['id']}"
    assert len(events()) == 2


def test_read_back_is_room_scoped(client: Any, world: Any, make_case: Any, login: Any, csrf: Any, arun: Any) -> None:
    from core.tables import CaseEvent

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-c")
    assert client.get(f"/cases/{case['id']}/readback").status_code == 404
    r = client.post(f"/cases/{case['id']}/readback", data={"_csrf_token": csrf(client), "sha256": "0" * 64,
                                                           "party": "1", "consent": "1"})
    assert r.status_code == 404
    assert arun(CaseEvent.count().where(CaseEvent.case == case["id"], CaseEvent.type == "case.readback_confirmed")) == 0


def test_read_back_in_english_hashes_the_english_text(client: Any, world: Any, make_case: Any, login: Any,
                                                      csrf: Any) -> None:
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    zh = client.get(f"/cases/{case['id']}/readback")
    client.post("/-/preferences", data={"lang": "en", "next": "/", "_csrf_token": csrf(client)})
    en = client.get(f"/cases/{case['id']}/readback")
    assert "In people's mediation the parties have the right to" in _readback_text(en.text)
    assert _digest(en.text) != _digest(zh.text)
