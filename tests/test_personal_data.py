"""Personal data: a known ID number and phone never appear in the database file, the logs, pages or
exports — only masked — and a reveal shows them once and is audited."""

import io
import logging
import zipfile
from pathlib import Path

import pytest

ID = "110101199003071233"
PHONE = "13912345678"


def _intake(client, csrf, name="保密测试人"):
    resp = client.post("/intake/general/walk_in", data={
        "_csrf_token": csrf(client), "c.summary": "个人信息保护测试", "c.dispute_type": "neighbour", "c.amount": "800",
        "a.name": name, "a.id_number": ID, "a.phone": PHONE, "r.name": "对方"}, follow_redirects=False)
    assert resp.status_code == 303, resp.text[:500]
    return int(resp.headers["location"].rsplit("/", 1)[1])


def _texts_of(resp) -> str:
    ctype = resp.headers.get("content-type", "")
    if "officedocument" in ctype or resp.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(resp.content)) as z:
            return "".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
    return resp.content.decode("utf-8", "ignore")


def test_no_plain_id_or_phone_anywhere(client, world, login, csrf, settings, database_url, caplog, arun):
    if not database_url.startswith("sqlite"):
        pytest.skip("this test inspects the SQLite file itself (the PostgreSQL variant of the rest runs elsewhere)")
    caplog.set_level(logging.DEBUG)
    login(client, "med-a")
    case_id = _intake(client, csrf)
    seen: list[tuple[str, str]] = []
    paths = ["/", "/cases", f"/cases/{case_id}", f"/cases/{case_id}/file", "/statistics", "/statistics/report.csv",
             "/statistics/report.xlsx", "/org/"]
    for name in ("application", "register", "notice", "file_cover"):
        paths += [f"/cases/{case_id}/documents/{name}", f"/cases/{case_id}/documents/{name}.docx"]
    for path in paths:
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        seen.append((path, _texts_of(resp)))
    page = dict(seen)[f"/cases/{case_id}"]
    assert "110101********1233" in page and "139****5678" in page
    for path, text in seen:
        assert ID not in text and PHONE not in text, f"plain personal data in {path}"
    # the database file, its WAL and shared memory
    db_path = Path(database_url.removeprefix("sqlite:///"))
    for f in db_path.parent.glob(db_path.name + "*"):
        raw = f.read_bytes()
        assert ID.encode() not in raw and PHONE.encode() not in raw, f"plain personal data in {f.name}"
        assert ID.encode("utf-16-le") not in raw
    assert ID not in caplog.text and PHONE not in caplog.text


def test_reveal_shows_once_and_is_audited(client, world, login, csrf, arun, settings):
    from core.tables import AuditEntry, CaseParty

    login(client, "med-a")
    case_id = _intake(client, csrf)
    party_id = arun(CaseParty.select(CaseParty.id).where(CaseParty.case == case_id, CaseParty.role == "applicant")
                    .first())["id"]
    resp = client.post(f"/cases/{case_id}/parties/{party_id}/reveal", data={"_csrf_token": csrf(client)},
                       headers={"HX-Request": "true"})
    assert resp.status_code == 200 and ID in resp.text and PHONE in resp.text and "<html" not in resp.text
    assert resp.headers["cache-control"] == "no-store"
    entry = arun(AuditEntry.select().where(AuditEntry.action == "reveal").first())
    assert entry["actor"] == "med-a" and f"party:{party_id}" in entry["target"] and ID not in str(entry)
    # outside the scope: 404, and nothing revealed
    client.post("/logout", data={"_csrf_token": csrf(client)})
    login(client, "med-b")
    resp = client.post(f"/cases/{case_id}/parties/{party_id}/reveal", data={"_csrf_token": csrf(client)})
    assert resp.status_code == 404 and ID not in resp.text


def test_a_deployment_can_withhold_reveal_from_mediators(settings, world, make_case, cipher, arun):
    from core.cases import Refused, reveal_party
    from core.registry import build_registry
    from core.tables import CaseParty

    reg = build_registry(settings.with_(raw={"reveal_roles": ["supervisor", "admin"]}), entry_points=False)
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    party_id = arun(CaseParty.select(CaseParty.id).where(CaseParty.case == case["id"]).first())["id"]
    with pytest.raises(Refused):
        arun(reveal_party(reg, case["id"], party_id, world["users"]["med-a"], cipher))
    assert arun(reveal_party(reg, case["id"], party_id, world["users"]["sup-1"], cipher))["id_number"] == ID
