"""Online services for parties: link + one-time code + ID digits, own case only, booking and reminders,
reading and confirming the exact agreement text, the online follow-up, and online applications."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from core import clock

APPLICANT_ID = "110101199003071233"
APPLICANT_PHONE = "13800138000"


@pytest.fixture
def unfreeze() -> Iterator[None]:
    yield
    clock.freeze(None)


@pytest.fixture
def party_client(app: Any) -> Iterator[Any]:
    """A second browser: the party's phone."""
    from litestar.testing import TestClient

    with TestClient(app, base_url="https://testserver.local") as c:
        yield c


def _messages(arun: Any, case_id: int | None = None) -> list[dict[str, Any]]:
    from core.online.tables import Message

    q = Message.select().order_by(Message.id)
    if case_id is not None:
        q = q.where(Message.case == case_id)
    return arun(q)


def _applicant_cp(arun: Any, case_id: int) -> int:
    from core.tables import CaseParty

    return arun(CaseParty.select(CaseParty.id).where(CaseParty.case == case_id, CaseParty.role == "applicant")
                .first())["id"]


def _send_link(client: Any, login: Any, csrf: Any, arun: Any, case_id: int, user: str = "med-a") -> str:
    client.cookies.clear()
    login(client, user)
    resp = client.post(f"/cases/{case_id}/online/link", data={"_csrf_token": csrf(client),
                                                              "case_party": _applicant_cp(arun, case_id)},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/online/messages"
    body = _messages(arun, case_id)[-1]["body"]
    return re.search(r"/p/l/([A-Za-z0-9_-]+)", body).group(1)


def _last_code(arun: Any, case_id: int) -> str:
    return re.search(r"验证码 (\d{6})", _messages(arun, case_id)[-1]["body"]).group(1)


def _verify(pc: Any, csrf: Any, arun: Any, case_id: int, token: str, last4: str = "1233") -> Any:
    assert pc.post(f"/p/l/{token}/code", data={"_csrf_token": csrf(pc)}, follow_redirects=False).status_code == 303
    return pc.post(f"/p/l/{token}/verify", data={"_csrf_token": csrf(pc), "code": _last_code(arun, case_id),
                                                 "id_last4": last4}, follow_redirects=False)


def test_link_code_and_id_digits_open_the_party_own_case(client, party_client, world, make_case, login, csrf,
                                                          arun, unfreeze):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    token = _send_link(client, login, csrf, arun, case["id"])
    # the room's outbox shows the message to read out; the full phone number appears nowhere
    page = client.get("/online/messages")
    assert page.status_code == 200 and f"/p/l/{token}" in page.text and "138****8000" in page.text
    assert APPLICANT_PHONE not in page.text
    assert all(APPLICANT_PHONE not in m["recipient"] and APPLICANT_PHONE not in m["body"] for m in _messages(arun))

    pc = party_client
    assert pc.get("/p").status_code == 401  # nothing without verification
    assert pc.get(f"/p/l/{token}").status_code == 200
    assert pc.get("/p/l/not-a-token").status_code == 404
    # wrong ID digits: refused with a field message, and the code is burned
    resp = _verify(pc, csrf, arun, case["id"], token, last4="9999")
    assert resp.status_code == 422 and "身份证号码后4位与登记信息不符" in resp.text
    assert 'aria-invalid="true"' in resp.text
    code = _last_code(arun, case["id"])
    resp = pc.post(f"/p/l/{token}/verify", data={"_csrf_token": csrf(pc), "code": code, "id_last4": "1233"},
                   follow_redirects=False)
    assert resp.status_code == 422 and "验证码已使用或不存在" in resp.text
    # a new code at most once a minute
    assert pc.post(f"/p/l/{token}/code", data={"_csrf_token": csrf(pc)}, follow_redirects=False).status_code == 409
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    resp = _verify(pc, csrf, arun, case["id"], token)
    assert resp.status_code == 303 and resp.headers["location"] == "/p"
    home = pc.get("/p")
    assert home.status_code == 200 and case["number"] in home.text and "张三" in home.text and "李四" in home.text
    # only what a party may see: no ID numbers, phones, caucus notes
    for secret in (APPLICANT_ID, APPLICANT_PHONE, "110101********1233", "138****8000"):
        assert secret not in home.text
    # the code is single use: the party's session is the only way in, not the code again
    from core.audit import verify as verify_chain
    from core.tables import AuditEntry, CaseEvent

    assert arun(verify_chain()).ok
    actions = {r["action"] for r in arun(AuditEntry.select(AuditEntry.action))}
    assert {"party.verify_failed", "party.verified", "party.case_read"} <= actions
    types = [e["type"] for e in arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == case["id"]))]
    assert "online.link_sent" in types and "online.party_verified" in types


def test_codes_expire_and_wrong_guesses_burn_them(client, party_client, world, make_case, login, csrf, arun,
                                                   unfreeze):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    token = _send_link(client, login, csrf, arun, case["id"])
    pc = party_client
    assert pc.post(f"/p/l/{token}/code", data={"_csrf_token": csrf(pc)}, follow_redirects=False).status_code == 303
    code = _last_code(arun, case["id"])
    clock.freeze(clock.now() + dt.timedelta(minutes=11))
    resp = pc.post(f"/p/l/{token}/verify", data={"_csrf_token": csrf(pc), "code": code, "id_last4": "1233"},
                   follow_redirects=False)
    assert resp.status_code == 422 and "验证码已过期" in resp.text
    assert pc.post(f"/p/l/{token}/code", data={"_csrf_token": csrf(pc)}, follow_redirects=False).status_code == 303
    code = _last_code(arun, case["id"])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        resp = pc.post(f"/p/l/{token}/verify", data={"_csrf_token": csrf(pc), "code": wrong, "id_last4": "1233"},
                       follow_redirects=False)
        assert resp.status_code == 422 and f"还可尝试 {left} 次" in resp.text
    resp = pc.post(f"/p/l/{token}/verify", data={"_csrf_token": csrf(pc), "code": wrong, "id_last4": "1233"},
                   follow_redirects=False)
    assert "错误次数过多" in resp.text
    resp = pc.post(f"/p/l/{token}/verify", data={"_csrf_token": csrf(pc), "code": code, "id_last4": "1233"},
                   follow_redirects=False)
    assert resp.status_code == 422  # the right code no longer works after five wrong ones
    # a link expires after 30 days
    clock.freeze(clock.now() + dt.timedelta(days=31))
    assert pc.get(f"/p/l/{token}").status_code == 404


def test_a_party_cannot_reach_another_case(client, party_client, world, make_case, login, csrf, arun, unfreeze):
    mine = make_case(world["rooms"]["a"], world["users"]["med-a"], applicant="王五")
    other = make_case(world["rooms"]["a"], world["users"]["med-a"], applicant="赵六", respondent="孙七")
    token_mine = _send_link(client, login, csrf, arun, mine["id"])
    token_other = _send_link(client, login, csrf, arun, other["id"])
    pc = party_client
    assert _verify(pc, csrf, arun, mine["id"], token_mine).status_code == 303
    home = pc.get("/p")
    assert mine["number"] in home.text and other["number"] not in home.text and "赵六" not in home.text
    # the other case's link still needs its own code — the session for case 1 does not open it
    page = pc.get(f"/p/l/{token_other}")
    assert other["number"] not in page.text
    # party pages take no case id: staff URLs of the other case send a party to the log-in page
    resp = pc.get(f"/cases/{other['id']}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    # a slot of another room cannot be booked through a party session
    from core.online.tables import Slot

    arun(Slot.insert(Slot(room=world["rooms"]["c"]["id"], starts_at=clock.now() + dt.timedelta(days=2),
                          ends_at=clock.now() + dt.timedelta(days=2, hours=1), place="丙室", created_at=clock.now())))
    foreign = arun(Slot.select(Slot.id).where(Slot.room == world["rooms"]["c"]["id"]).first())["id"]
    resp = pc.post("/p/book", data={"_csrf_token": csrf(pc), "slot": foreign}, follow_redirects=False)
    assert resp.status_code == 422 and "该时段已被预约或已不可预约" in resp.text
    assert arun(Slot.select(Slot.case).where(Slot.id == foreign).first())["case"] is None
    # a mediator of another room cannot send links for this case
    client.cookies.clear()
    login(client, "med-c")
    resp = client.post(f"/cases/{mine['id']}/online/link",
                       data={"_csrf_token": csrf(client), "case_party": _applicant_cp(arun, mine["id"])})
    assert resp.status_code == 404


def test_slots_booking_reminders_and_video_links(client, party_client, world, make_case, login, csrf, arun, app,
                                                 unfreeze):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    token = _send_link(client, login, csrf, arun, case["id"])
    starts = (clock.now() + dt.timedelta(days=3)).astimezone(clock.TZ).replace(second=0, microsecond=0)
    form = {"_csrf_token": csrf(client), "starts_at": starts.strftime("%Y-%m-%dT%H:%M"), "minutes": "60"}
    resp = client.post("/online/slots", data=form)
    assert resp.status_code == 422 and "现场调解请填写地点" in resp.text  # neither place nor online
    past = {**form, "starts_at": "2020-01-01T09:00", "place": "调解室"}
    assert "开始时间须晚于现在" in client.post("/online/slots", data=past).text
    assert client.post("/online/slots", data={**form, "online": "1"}, follow_redirects=False).status_code == 303
    from core.online.tables import Slot

    slot = arun(Slot.select().first())
    assert slot["room"] == world["rooms"]["a"]["id"] and slot["online"]
    pc = party_client
    _verify(pc, csrf, arun, case["id"], token)
    home = pc.get("/p")
    assert 'name="slot"' in home.text
    assert pc.post("/p/book", data={"_csrf_token": csrf(pc), "slot": slot["id"]},
                   follow_redirects=False).status_code == 303
    booked = arun(Slot.select().where(Slot.id == slot["id"]).first())
    assert booked["case"] == case["id"] and booked["video_room"].startswith("fq-")
    # booked twice → refused, nothing changes
    assert pc.post("/p/book", data={"_csrf_token": csrf(pc), "slot": slot["id"]}).status_code == 422
    # video: no video system configured → no join link, the party is told the room will say how
    assert pc.get(f"/p/video/{slot['id']}").status_code == 404
    assert "调解室会告知进入方式" in pc.get("/p").text
    # reminders: nothing three days ahead; once within 24 h; never twice
    from core.case_clocks import run_sweep_hooks

    reg = app.state["fq"].registry
    before = len(_messages(arun, case["id"]))
    arun(run_sweep_hooks(reg))
    assert len(_messages(arun, case["id"])) == before
    clock.freeze(starts - dt.timedelta(hours=20))
    arun(run_sweep_hooks(reg))
    arun(run_sweep_hooks(reg))
    reminders = [m for m in _messages(arun, case["id"]) if m["purpose"] == "reminder"]
    assert len(reminders) == 1 and case["number"] in reminders[0]["body"]
    # the party's session has long expired (idle 30 min): back to the link
    assert pc.get("/p").status_code == 401


def test_jitsi_join_url_is_signed_for_the_booked_room():
    from core.online.video import join_url, video_settings

    raw = {"online": {"video": {"provider": "jitsi", "base_url": "https://meet.example.org", "app_id": "fq",
                                "secret": "s3cret-s3cret-s3cret-s3cret-s3cret"}}}
    cfg = video_settings(raw)
    assert cfg is not None and video_settings({"online": {"video": {"provider": "homemade"}}}) is None
    end = dt.datetime(2026, 12, 1, 10, tzinfo=clock.TZ)
    url = join_url(cfg, "fq-abc", name="张三", moderator=False, not_after=end)
    assert url.startswith("https://meet.example.org/fq-abc?jwt=")
    claims = jwt.decode(url.split("jwt=")[1], "s3cret-s3cret-s3cret-s3cret-s3cret", algorithms=["HS256"],
                        audience="jitsi", options={"verify_exp": False, "verify_nbf": False})
    assert claims["room"] == "fq-abc" and claims["iss"] == "fq" and claims["sub"] == "meet.example.org"
    assert claims["context"]["user"] == {"name": "张三", "moderator": False}
    assert claims["exp"] == int(end.timestamp())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(url.split("jwt=")[1], "wrong-key-wrong-key-wrong-key-wrong", algorithms=["HS256"],
                   audience="jitsi", options={"verify_exp": False, "verify_nbf": False})


def _settle_path(arun: Any, registry: Any, case_id: int, user: Any, terms: str) -> None:
    from core.cases import apply_transition, save_agreement
    from core.records import AgreementIn

    arun(apply_transition(registry, case_id, "accept", user, {}))
    arun(apply_transition(registry, case_id, "start_mediation", user, {}))
    arun(save_agreement(registry, case_id, user, AgreementIn(
        form="written", facts="双方因装修噪音发生争执。", terms=terms, amount=None,
        performance_method="当面道歉并调整施工时间", performance_deadline=clock.today() + dt.timedelta(days=10))))


def test_reading_and_confirming_records_the_exact_text(client, party_client, world, make_case, login, csrf, arun,
                                                       registry, unfreeze):
    from core.online.tables import ESignature
    from core.tables import Agreement

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    _settle_path(arun, registry, case["id"], world["users"]["med-a"], "李四每日十二时至十四时不施工。")
    token = _send_link(client, login, csrf, arun, case["id"])
    pc = party_client
    _verify(pc, csrf, arun, case["id"], token)
    home = pc.get("/p")
    shown = re.search(r'<pre class="agreement-text"[^>]*>(.*?)</pre>', home.text, re.S).group(1)
    import html

    shown = html.unescape(shown)
    shown_hash = re.search(r'name="shown_hash" value="([0-9a-f]{64})"', home.text).group(1)
    assert hashlib.sha256(shown.encode()).hexdigest() == shown_hash
    assert "李四每日十二时至十四时不施工。" in shown
    # must tick "read" first
    resp = pc.post("/p/sign/code", data={"_csrf_token": csrf(pc), "shown_hash": shown_hash})
    assert resp.status_code == 422 and "请先阅读协议全文" in resp.text
    assert pc.post("/p/sign/code", data={"_csrf_token": csrf(pc), "shown_hash": shown_hash, "read": "1"},
                   follow_redirects=False).status_code == 303
    code = _last_code(arun, case["id"])
    assert "确认调解协议" in _messages(arun, case["id"])[-1]["body"]
    # the mediator changes the terms after the code was sent: the old code cannot sign the new text
    arun(Agreement.update({Agreement.terms: "李四每日十二时至十五时不施工。"}).where(Agreement.case == case["id"]))
    resp = pc.post("/p/sign", data={"_csrf_token": csrf(pc), "code": code})
    assert resp.status_code == 409 and "协议内容在发送验证码后已变更" in resp.text
    assert arun(ESignature.count()) == 0
    # read again, new code, sign
    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    home = pc.get("/p")
    shown = html.unescape(re.search(r'<pre class="agreement-text"[^>]*>(.*?)</pre>', home.text, re.S).group(1))
    shown_hash = re.search(r'name="shown_hash" value="([0-9a-f]{64})"', home.text).group(1)
    pc.post("/p/sign/code", data={"_csrf_token": csrf(pc), "shown_hash": shown_hash, "read": "1"})
    code = _last_code(arun, case["id"])
    resp = pc.post("/p/sign", data={"_csrf_token": csrf(pc), "code": code}, follow_redirects=False)
    assert resp.status_code == 303
    sig = arun(ESignature.select().first())
    assert sig["text"] == shown and sig["text_sha256"] == hashlib.sha256(shown.encode()).hexdigest()
    assert "十五时" in sig["text"]
    assert "您已于" in pc.get("/p").text
    # the code is single use
    assert pc.post("/p/sign", data={"_csrf_token": csrf(pc), "code": code}).status_code == 422
    assert arun(ESignature.count()) == 1
    # the mediator sees the confirmation on the case page
    page = client.get(f"/cases/{case['id']}")
    assert sig["text_sha256"][:16] in page.text


def test_personal_matters_cannot_be_signed_electronically(client, party_client, world, make_case, login, csrf,
                                                          arun, registry, unfreeze):
    from core.online.tables import ESignature

    case = make_case(world["rooms"]["a"], world["users"]["med-a"], dispute_type="marriage_family")
    _settle_path(arun, registry, case["id"], world["users"]["med-a"], "双方就子女抚养费按月支付达成一致。")
    token = _send_link(client, login, csrf, arun, case["id"])
    pc = party_client
    _verify(pc, csrf, arun, case["id"], token)
    home = pc.get("/p")
    assert "依法不适用电子签名" in home.text and 'action="/p/sign"' not in home.text
    shown_hash = hashlib.sha256(b"any text").hexdigest()
    resp = pc.post("/p/sign/code", data={"_csrf_token": csrf(pc), "shown_hash": shown_hash, "read": "1"})
    assert resp.status_code == 409 and "不适用电子签名" in resp.text
    assert arun(ESignature.count()) == 0


def test_followup_answered_online_lands_in_the_case(client, party_client, world, make_case, login, csrf, arun,
                                                    registry, unfreeze):
    from core.cases import apply_transition
    from core.tables import Agreement, FollowUp

    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    user = world["users"]["med-a"]
    _settle_path(arun, registry, case["id"], user, "李四赔偿张三人民币伍佰元整，于签署当日当面付清。")
    arun(Agreement.update({Agreement.signed_by_parties: True, Agreement.signed_by_mediator: True,
                           Agreement.sealed: True, Agreement.signed_on: clock.today()}).where(
        Agreement.case == case["id"]))
    from core.tables import MediationSession

    arun(MediationSession.insert(MediationSession(case=case["id"], held_at=clock.now(), place="甲调解室",
                                                  record="背靠背：张三表示可接受五百元（内部记录）", outcome="agreement",
                                                  created_at=clock.now())))
    arun(apply_transition(registry, case["id"], "settle", user, {}))
    assert arun(FollowUp.count().where(FollowUp.case == case["id"], FollowUp.done_on.is_null())) == 1
    token = _send_link(client, login, csrf, arun, case["id"])
    pc = party_client
    _verify(pc, csrf, arun, case["id"], token)
    home = pc.get("/p")
    assert 'action="/p/followup"' in home.text
    assert "背靠背" not in home.text  # the mediators' session record is never shown to a party
    resp = pc.post("/p/followup", data={"_csrf_token": csrf(pc), "performance": "bogus"})
    assert resp.status_code == 422
    resp = pc.post("/p/followup", data={"_csrf_token": csrf(pc), "performance": "performed",
                                        "satisfaction": "satisfied", "escalation_signs": ""},
                   follow_redirects=False)
    assert resp.status_code == 303
    done = arun(FollowUp.select().where(FollowUp.case == case["id"]).first())
    assert done["done_on"] == clock.today() and done["performance"] == "performed" and done["visitor"] is None
    assert arun(Agreement.select(Agreement.fulfilment).where(Agreement.case == case["id"]).first())[
        "fulfilment"] == "performed"
    assert 'action="/p/followup"' not in pc.get("/p").text


def test_apply_online_registers_a_case_with_consent(party_client, world, csrf, arun):
    from core.tables import Case, CaseEvent, CaseParty

    pc = party_client
    page = pc.get("/apply")
    assert page.status_code == 200 and "甲调解室" in page.text and "第二十三条" in page.text
    good = {"_csrf_token": csrf(pc), "room": "room-a", "a_name": "周八", "a_id_number": APPLICANT_ID,
            "a_phone": "13900139000", "r_name": "吴九", "dispute_type": "neighbour",
            "summary": "楼上漏水损坏我家天花板", "claims": "修复并赔偿", "consent": "1"}
    before = arun(Case.count())
    for bad, field, message in (
        ({**good, "consent": ""}, "consent", "请阅读权利义务告知并勾选同意"),
        ({**good, "a_id_number": "110101199003071234"}, "a_id_number", "校验"),
        ({**good, "a_phone": ""}, "a_phone", "请填写手机号码"),
        ({**good, "room": "room-zz"}, "room", "请选择调解室"),
        ({**good, "summary": ""}, "summary", ""),
    ):
        resp = pc.post("/apply", data=bad)
        assert resp.status_code == 422, field
        assert f'id="f-{field}-err"' in resp.text and message in resp.text, field
    assert arun(Case.count()) == before  # nothing half-written
    resp = pc.post("/apply", data=good)
    assert resp.status_code == 200 and "申请已提交" in resp.text
    case = arun(Case.select().order_by(Case.id, ascending=False).first())
    assert case["number"] in resp.text and case["status"] == "registered" and case["source"] == "application"
    assert case["room"] == world["rooms"]["a"]["id"]
    applicant = arun(CaseParty.select(CaseParty.consent).where(CaseParty.case == case["id"],
                                                               CaseParty.role == "applicant").first())
    assert applicant["consent"] == "agreed"
    events = [e["type"] for e in arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == case["id"]))]
    assert "online.applied" in events and "online.link_sent" in events
    assert "/p/l/" in _messages(arun, case["id"])[-1]["body"]


class _Gateway:
    """An SMS gateway plugin (the edge of the world: it records instead of sending)."""

    NAME = "test_sms_gateway"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    from core import hookimpl as _hookimpl

    @_hookimpl
    def fengqiao_send_sms(self, phone: str, text: str, room_id: str, registry: Any) -> Any:
        async def send() -> str:
            self.sent.append((phone, text, room_id))
            return "test-gateway"

        return send()


class _Sweeper:
    NAME = "test_sweeper"

    def __init__(self) -> None:
        self.calls = 0

    from core import hookimpl as _hookimpl

    @_hookimpl
    def fengqiao_sweep(self, registry: Any) -> None:
        self.calls += 1
        raise RuntimeError("a failing plugin does not stop the others")


def test_sms_gateway_plugin_sends_and_sweep_hooks_run(settings, world, make_case, arun, cipher):
    from core.case_clocks import run_sweep_hooks
    from core.online import service
    from core.plugins import DEFAULT_PLUGINS
    from core.registry import build_registry

    gateway, sweeper = _Gateway(), _Sweeper()
    reg = build_registry(settings, [*DEFAULT_PLUGINS, gateway, sweeper], entry_points=False)
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    token, message_id = arun(service.create_link(reg, case["id"], _applicant_cp(arun, case["id"]),
                                                 world["users"]["med-a"], cipher))
    assert gateway.sent == [(APPLICANT_PHONE, gateway.sent[0][1], "room-a")] and token in gateway.sent[0][1]
    row = [m for m in _messages(arun) if m["id"] == message_id][0]
    assert row["status"] == "sent" and row["gateway"] == "test-gateway"
    arun(run_sweep_hooks(reg))  # the failing sweeper is logged; the online reminders still ran
    assert sweeper.calls == 1
