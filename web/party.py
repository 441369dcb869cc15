"""Pages for parties (no account: a link, a one-time code and the last ID digits) and the staff pages
of the online services (the room's message outbox, session slots, sending a link).

Party pages never take a case id from the URL: the case comes from the verified party session,
so changing a URL cannot reach another case. Domain logic lives in :mod:`core.online.service`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core import audit, clock
from core.access import UserCtx
from core.cases import NotFound, Refused, load_case, room_for_user
from core.followups import FollowUpIn, PERFORMANCE_LABELS, SATISFACTION_LABELS
from core.forms import FormErrors, validate_form
from core.intake import CaseIntake, PartyIn
from core.online import service, video
from core.online.service import PartySession, SlotIn
from core.online.tables import Slot
from core.tables.org import Room
from web.auth import current_user, requires_login, session_alive
from web.forms import form_items
from web.rendering import render
from web.sessions import renew_session
from web.state import app_state

__all__ = ["PARTY_ROUTES", "STAFF_ROUTES"]

PARTY_KEY = "party"


# ---------------------------------------------------------------- party session


async def _party(request: Request) -> PartySession | None:
    session = request.scope.get("session") or {}
    data = session.get(PARTY_KEY) if isinstance(session, dict) else None
    if not isinstance(data, dict):
        return None
    ps = await service.check_session(data) if session_alive(data) else None  # the staff time-outs apply
    if ps is None:
        session.pop(PARTY_KEY, None)
    return ps


def _ip(request: Request) -> str:
    return (request.client.host if request.client else "")[:64]


async def _audit(request: Request, action: str, ps: PartySession | None, target: str = "", **detail: Any) -> None:
    await audit.record(action, actor=f"party:{ps.case_party_id}" if ps else "party", target=target or
                       f"{request.method} {request.url.path}", ip=_ip(request), detail=detail)


def _party_page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Template:
    return render(request, f"party/{name}.html", None, {"user": None, **context}, status_code=status_code)


# ---------------------------------------------------------------- link and verification


@get("/p/l/{token:str}", name="party_link")
async def party_link(request: Request, token: FromPath[str]) -> Template:
    """The page a party's link opens: get a code, then enter it with the last ID digits."""
    try:
        await service.open_link(token)
    except NotFound as exc:
        return _party_page(request, "invalid", {"message": exc.message}, status_code=404)
    return _party_page(request, "verify", {"token": token, "errors": {}, "sent": request.query_params.get("sent")})


@post("/p/l/{token:str}/code", name="party_code", status_code=303)
async def party_code(request: Request, token: FromPath[str]) -> Any:
    st = app_state(request)
    try:
        link = await service.open_link(token)
        await service.request_code(st.registry, link, st.cipher)
    except NotFound as exc:
        return _party_page(request, "invalid", {"message": exc.message}, status_code=404)
    except Refused as exc:
        return _party_page(request, "verify", {"token": token, "errors": {"": exc.message}}, status_code=409)
    return Redirect(f"/p/l/{token}?sent=1", status_code=303)


@post("/p/l/{token:str}/verify", name="party_verify", status_code=303)
async def party_verify(request: Request, token: FromPath[str]) -> Any:
    st = app_state(request)
    form = form_items(await request.form())
    try:
        link = await service.open_link(token)
        ps = await service.verify(st.registry, link, str(form.get("code", "")), str(form.get("id_last4", "")),
                                  st.cipher)
    except NotFound as exc:
        return _party_page(request, "invalid", {"message": exc.message}, status_code=404)
    except FormErrors as exc:
        await _audit(request, "party.verify_failed", None, target=f"link:{link['id']}", fields=sorted(exc.errors))
        return _party_page(request, "verify", {"token": token, "errors": exc.errors, "sent": "1"}, status_code=422)
    await renew_session(request)  # a fresh session id once the party is known (no fixation)
    now = clock.now().timestamp()
    request.session[PARTY_KEY] = {"link": ps.link_id, "case": ps.case_id, "case_party": ps.case_party_id,
                                  "iat": now, "seen": now}
    await _audit(request, "party.verified", ps, target=f"case:{ps.case_id}")
    return Redirect("/p", status_code=303)


@post("/p/logout", name="party_logout", status_code=303)
async def party_logout(request: Request) -> Redirect:
    session = request.scope.get("session")
    if isinstance(session, dict):
        session.pop(PARTY_KEY, None)
    return Redirect("/p", status_code=303)


# ---------------------------------------------------------------- the party's case


async def _home(request: Request, ps: PartySession, *, errors: dict[str, str] | None = None, values: Any = None,
                notice: str = "", status_code: int = 200, section: str = "") -> Template:
    view = await service.party_view(app_state(request).registry, ps)
    return _party_page(request, "home", {
        **view, "errors": errors or {}, "values": values or {}, "notice": notice, "section": section,
        "followup_schema": FollowUpIn, "performance_labels": PERFORMANCE_LABELS,
        "satisfaction_labels": SATISFACTION_LABELS, "video": video.video_settings(app_state(request).settings.raw),
    }, status_code=status_code)


@get("/p", name="party_home")
async def party_home(request: Request) -> Template:
    ps = await _party(request)
    if ps is None:
        return _party_page(request, "invalid", {"message": "请通过短信中的链接进入，并验证身份。"}, status_code=401)
    await _audit(request, "party.case_read", ps, target=f"case:{ps.case_id}")
    notice = {"booked": "已预约，我们会在调解前一天短信提醒您。", "code": "验证码已发送到您的手机。",
              "signed": "您已确认调解协议。", "followup": "感谢您的反馈，已记录到案件。"}.get(
        request.query_params.get("done", ""), "")
    return await _home(request, ps, notice=notice)


async def _party_action(request: Request, section: str, action: Any) -> Any:
    ps = await _party(request)
    if ps is None:
        return _party_page(request, "invalid", {"message": "身份验证已过期，请通过短信中的链接重新进入。"},
                           status_code=401)
    form = form_items(await request.form())
    try:
        done = await action(ps, form)
    except FormErrors as exc:
        return await _home(request, ps, errors=exc.errors, values=form, status_code=422, section=section)
    except Refused as exc:
        return await _home(request, ps, errors={"": exc.message}, values=form, status_code=409, section=section)
    await _audit(request, f"party.{section}", ps, target=f"case:{ps.case_id}")
    return Redirect(f"/p?done={done}#{section}", status_code=303)


@post("/p/book", name="party_book", status_code=303)
async def party_book(request: Request) -> Any:
    async def action(ps: PartySession, form: dict[str, Any]) -> str:
        try:
            slot_id = int(str(form.get("slot", "")))
        except ValueError:
            raise FormErrors({"slot": "请选择一个时段"}) from None
        await service.book_slot(app_state(request).registry, ps, slot_id)
        return "booked"

    return await _party_action(request, "book", action)


@post("/p/sign/code", name="party_sign_code", status_code=303)
async def party_sign_code(request: Request) -> Any:
    st = app_state(request)

    async def action(ps: PartySession, form: dict[str, Any]) -> str:
        if not form.get("read"):
            raise FormErrors({"read": "请先阅读协议全文并勾选“我已阅读”"})
        await service.request_sign_code(st.registry, ps, str(form.get("shown_hash", "")), st.cipher)
        return "code"

    return await _party_action(request, "sign", action)


@post("/p/sign", name="party_sign", status_code=303)
async def party_sign(request: Request) -> Any:
    async def action(ps: PartySession, form: dict[str, Any]) -> str:
        await service.confirm_signature(app_state(request).registry, ps, str(form.get("code", "")))
        return "signed"

    return await _party_action(request, "sign", action)


@post("/p/followup", name="party_followup", status_code=303)
async def party_followup(request: Request) -> Any:
    from core.followups import record_followup

    async def action(ps: PartySession, form: dict[str, Any]) -> str:
        data = validate_form(FollowUpIn, {**form, "done_on": clock.today().isoformat()})
        await record_followup(app_state(request).registry, ps.case_id, None, data, actor_label=service.PARTY_ACTOR)
        return "followup"

    return await _party_action(request, "followup", action)


@get("/p/video/{slot_id:int}", name="party_video")
async def party_video(request: Request, slot_id: FromPath[int]) -> Any:
    ps = await _party(request)
    if ps is None:
        return _party_page(request, "invalid", {"message": "身份验证已过期，请通过短信中的链接重新进入。"},
                           status_code=401)
    slot = await Slot.select().where(Slot.id == slot_id, Slot.case == ps.case_id, Slot.online == True,  # noqa: E712
                                     Slot.cancelled == False).first()  # noqa: E712
    cfg = video.video_settings(app_state(request).settings.raw)
    if slot is None or cfg is None:
        raise NotFoundException("没有可进入的在线调解")
    view = await service.party_view(app_state(request).registry, ps)
    url = video.join_url(cfg, slot["video_room"], name=view["me"]["name"], moderator=False,
                         not_after=slot["ends_at"] + dt.timedelta(hours=1))
    return Redirect(url, status_code=303)


# ---------------------------------------------------------------- apply online


def _apply_targets(request: Request) -> list[tuple[Any, Any]]:
    reg = app_state(request).registry
    return [(ch, form) for ch in reg.channels.values() if ch.self_application
            for form in reg.forms.values() if form.channel == ch.key][:20]


async def _apply_rooms(request: Request) -> list[dict[str, Any]]:
    keys = {ch.key for ch, _ in _apply_targets(request)}
    if not keys:
        return []
    return await Room.select().where(
        Room.channel.is_in(list(keys)), Room.active == True).order_by(Room.name)  # noqa: E712


@get("/apply", name="apply_page")
async def apply_page(request: Request) -> Template:
    return _party_page(request, "apply", {"rooms": await _apply_rooms(request), "errors": {}, "values": {}})


@post("/apply", name="apply_submit", status_code=303)
async def apply_submit(request: Request) -> Any:
    """An online application: lands in the chosen room as ``registered`` with the consent recorded."""
    st = app_state(request)
    reg = st.registry
    form = form_items(await request.form())
    rooms = await _apply_rooms(request)
    errors: dict[str, str] = {}
    room = next((r for r in rooms if r["room_id"] == form.get("room")), None)
    if room is None:
        errors["room"] = "请选择调解室"
    if not form.get("consent"):
        errors["consent"] = "请阅读权利义务告知并勾选同意"
    try:
        applicant = validate_form(PartyIn, {"role": "applicant", "kind": "person", **{
            k[2:]: v for k, v in form.items() if k.startswith("a_")}})
    except FormErrors as exc:
        errors.update({f"a_{k}": v for k, v in exc.errors.items()})
        applicant = None
    if applicant is not None:
        if not applicant.id_number:
            errors["a_id_number"] = "请填写身份证号码（用于核实身份和查询进度）"
        if not applicant.phone:
            errors["a_phone"] = "请填写手机号码（用于接收进度和验证码）"
    try:
        respondent = validate_form(PartyIn, {"role": "respondent", **{
            k[2:]: v for k, v in form.items() if k.startswith("r_")}})
    except FormErrors as exc:
        errors.update({f"r_{k}": v for k, v in exc.errors.items()})
        respondent = None
    try:
        intake = validate_form(CaseIntake, {k: v for k, v in form.items() if k in {"summary", "dispute_type", "claims"}})
    except FormErrors as exc:
        errors.update(exc.errors)
        intake = None
    if errors or room is None or applicant is None or respondent is None or intake is None:
        return _party_page(request, "apply", {"rooms": rooms, "errors": errors, "values": form}, status_code=422)
    channel_form = next(f for ch, f in _apply_targets(request) if ch.key == room["channel"])
    try:
        fields = channel_form.schema()
    except TypeError:  # the kind needs fields only staff can fill in
        return _party_page(request, "apply", {"rooms": rooms, "errors": {"room": "该调解室暂不接受在线申请"},
                                              "values": form}, status_code=422)
    intake = CaseIntake(summary=intake.summary, dispute_type=intake.dispute_type, claims=intake.claims,
                        source="application")
    try:
        case, applicant_cp = await service.register_application(
            reg, room=room, form=channel_form, intake=intake, parties=[applicant, respondent], fields=fields,
            cipher=st.cipher)
    except FormErrors as exc:
        return _party_page(request, "apply", {"rooms": rooms, "errors": exc.errors, "values": form}, status_code=422)
    await service.create_link(reg, case["id"], applicant_cp, None, st.cipher)
    await audit.record("party.applied", actor="party", target=f"case:{case['id']}", ip=_ip(request))
    return _party_page(request, "applied", {"number": case["number"], "room": room})


# ---------------------------------------------------------------- staff pages


@post("/cases/{case_id:int}/online/link", name="online_send_link", guards=[requires_login], status_code=303)
async def send_link(request: Request, case_id: FromPath[int]) -> Any:
    user: UserCtx = await current_user(request)
    st = app_state(request)
    form = form_items(await request.form())
    try:
        await load_case(case_id, user)
        await service.create_link(st.registry, case_id, int(str(form.get("case_party") or 0)), user, st.cipher)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc
    except (Refused, FormErrors, ValueError) as exc:
        message = exc.message if isinstance(exc, Refused) else "请选择本案的当事人"
        return render(request, "online/messages.html", None, {
            "user": user, "messages": await service.room_messages(user), "error": message, "now": clock.now()},
            status_code=409 if isinstance(exc, Refused) else 422)
    return Redirect("/online/messages", status_code=303)


@get("/online/messages", name="online_messages", guards=[requires_login])
async def messages_page(request: Request) -> Template:
    user: UserCtx = await current_user(request)
    return render(request, "online/messages.html", None, {"user": user, "messages": await service.room_messages(user),
                                                          "now": clock.now()})


async def _slots_page(request: Request, user: UserCtx, *, errors: dict[str, str] | None = None, values: Any = None,
                      status_code: int = 200) -> Template:
    return render(request, "online/slots.html", None, {
        "user": user, "slots": await service.room_slots(user), "schema": SlotIn, "errors": errors or {},
        "values": values or {}, "room": await room_for_user(user)}, status_code=status_code)


@get("/online/slots", name="online_slots", guards=[requires_login])
async def slots_page(request: Request) -> Template:
    return await _slots_page(request, await current_user(request))


@post("/online/slots", name="online_slot_add", guards=[requires_login], status_code=303)
async def slot_add(request: Request) -> Any:
    user: UserCtx = await current_user(request)
    form = form_items(await request.form())
    room = await room_for_user(user)
    if room is None:
        return await _slots_page(request, user, errors={"": "只有调解室的调解员可以发布预约时段"}, values=form,
                                 status_code=409)
    try:
        await service.create_slot(room["id"], user, validate_form(SlotIn, form))
    except FormErrors as exc:
        return await _slots_page(request, user, errors=exc.errors, values=form, status_code=422)
    return Redirect("/online/slots", status_code=303)


@post("/online/slots/{slot_id:int}/cancel", name="online_slot_cancel", guards=[requires_login], status_code=303)
async def slot_cancel(request: Request, slot_id: FromPath[int]) -> Any:
    try:
        await service.cancel_slot(slot_id, await current_user(request))
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc
    return Redirect("/online/slots", status_code=303)


@get("/online/slots/{slot_id:int}/join", name="online_slot_join", guards=[requires_login])
async def slot_join(request: Request, slot_id: FromPath[int]) -> Any:
    user: UserCtx = await current_user(request)
    slots = {s["id"]: s for s in await service.room_slots(user)}
    slot = slots.get(slot_id)
    cfg = video.video_settings(app_state(request).settings.raw)
    if slot is None or not slot["online"] or not slot["video_room"] or cfg is None:
        raise NotFoundException("没有可进入的在线调解")
    url = video.join_url(cfg, slot["video_room"], name=user.display_name, moderator=True,
                         not_after=slot["ends_at"] + dt.timedelta(hours=1))
    return Redirect(url, status_code=303)


PARTY_ROUTES = [party_link, party_code, party_verify, party_logout, party_home, party_book, party_sign_code,
                party_sign, party_followup, party_video, apply_page, apply_submit]
STAFF_ROUTES = [send_link, messages_page, slots_page, slot_add, slot_cancel, slot_join]
