"""Online services for parties: access links and one-time codes, messages, slots, e-signing,
online follow-up and online applications.

A party has no account. A mediator sends a link to the party's phone; the party opens it, asks
for a one-time code (sent to the same phone) and enters it with the last four characters of their
ID number. That opens a party session bound to one case and one party: every party page reads
the case from the session, never from the URL, so changing a URL cannot reach another case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx
from core.cases import NotFound, Refused, load_case, write_event
from core.crypto import FieldCipher
from core.db import write_transaction
from core.forms import FormErrors
from core.idnumbers import mask_phone
from core.online.tables import ESignature, Message, OneTimeCode, PartyLink, Slot
from core.plugins import await_me_maybe, call_each
from core.queries import case_file
from core.registry import Registry
from core.sql import Read, fetch
from core.tables import Agreement, Case, CaseParty, FollowUp, MediationSession
from core.tables.org import Room

__all__ = [
    "LINK_DAYS", "CODE_MINUTES", "MAX_ATTEMPTS", "PartySession", "agreement_text", "book_slot", "cancel_slot",
    "confirm_signature", "create_link", "register_application", "create_slot", "deliver", "open_link", "party_view", "request_code",
    "SlotIn", "room_messages", "room_slots", "send_due_reminders", "verify", "text_hash",
]

LINK_DAYS = 30
CODE_MINUTES = 10
MAX_ATTEMPTS = 5
REMIND_BEFORE = dt.timedelta(hours=24)
PARTY_ACTOR = "当事人（在线）"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def text_hash(text: str) -> str:
    """SHA-256 of the exact text shown to the party (UTF-8)."""
    return _sha256(text)


def _code_hash(secret: str, link_id: int, purpose: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{link_id}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PartySession:
    """What the party's browser session holds after verification."""

    link_id: int
    case_id: int
    case_party_id: int


# ---------------------------------------------------------------- messages


async def _store_message(*, room: int, case: int | None, party: Mapping[str, Any], phone: str, body: str,
                         purpose: str, expires_at: dt.datetime | None = None) -> int:
    rows = await Message.insert(Message(
        room=room, case=case, recipient=f"{party['name']}（{mask_phone(phone)}）", phone_enc="",
        body=body, purpose=purpose, status="to_read", created_at=clock.now(), expires_at=expires_at,
    )).returning(Message.id)
    return int(rows[0]["id"])


async def deliver(reg: Registry, message_id: int, phone: str, room_key: str) -> str:
    """Offer a stored message to the SMS gateway plugins (after commit); returns the new status."""
    row = await Message.select(Message.body).where(Message.id == message_id).first()
    status, gateway = "to_read", ""
    for name, result in call_each(reg.pm, "fengqiao_send_sms", phone=phone, text=row["body"], room_id=room_key,
                                  registry=reg):
        try:
            answer = await await_me_maybe(result)
        except Exception as exc:  # noqa: BLE001 - a gateway's failure is recorded, the message stays readable
            status, gateway = "failed", f"{name}: {type(exc).__name__}"
            continue
        if answer:
            status, gateway = "sent", str(answer)[:64]
            break
    if status != "to_read":
        await Message.update({Message.status: status, Message.gateway: gateway}).where(Message.id == message_id)
    return status


async def room_messages(user: UserCtx, limit: int = 100) -> list[dict[str, Any]]:
    """The room's recent messages (the outbox a mediator reads out), newest first, scope-checked."""
    from core.access import room_scope

    rooms = [r["id"] for r in await Room.select(Room.id).where(room_scope(user))]
    if not rooms:
        return []
    return await (Message.select(Message.all_columns(exclude=[Message.phone_enc]),
                                 Message.case.number.as_alias("case_number"),
                                 Message.room.name.as_alias("room_name"))
                  .where(Message.room.is_in(rooms)).order_by(Message.id, ascending=False).limit(limit))


# ---------------------------------------------------------------- online applications


async def register_application(reg: Registry, *, room: Mapping[str, Any], form: Any, intake: Any, parties: list[Any],
                               fields: Any, cipher: FieldCipher) -> tuple[dict[str, Any], int]:
    """Register a party's online application with the applicant's consent and the rights notice, in one
    transaction (validated input only). Returns the case and the applicant's case-party id.

    Raises:
        FormErrors: as :func:`core.cases.create_case`; nothing is stored.
    """
    from core.cases import create_case

    async with write_transaction():
        case = await create_case(reg, room=room, form=form, intake=intake, parties=parties, fields=fields,
                                 actor=None, actor_label="当事人在线申请", cipher=cipher)
        applicant = await CaseParty.select(CaseParty.id).where(
            CaseParty.case == case["id"], CaseParty.role == "applicant").first()
        await CaseParty.update({CaseParty.consent: "agreed"}).where(CaseParty.id == applicant["id"])
        await write_event(case["id"], "online.applied", actor=None, actor_label="当事人在线申请",
                          data={"consent": True, "notice": "权利义务告知（人民调解法 第二十三条、第二十四条）"})
    return case, int(applicant["id"])


# ---------------------------------------------------------------- links and codes


async def _party_row(case_id: int, case_party_id: int) -> dict[str, Any]:
    row = await CaseParty.select(
        CaseParty.id, CaseParty.role, CaseParty.party.id.as_alias("party_id"), CaseParty.party.name.as_alias("name"),
        CaseParty.party.phone_enc.as_alias("phone_enc"), CaseParty.party.id_number_enc.as_alias("id_number_enc"),
        CaseParty.party.kind.as_alias("kind"),
    ).where(CaseParty.id == case_party_id, CaseParty.case == case_id).first()
    if row is None:
        raise NotFound("当事人不存在")
    return row


def _site(reg: Registry) -> str:
    return str(reg.settings.raw.get("online", {}).get("public_url", "")).rstrip("/")


async def create_link(reg: Registry, case_id: int, case_party_id: int, user: UserCtx | None,
                      cipher: FieldCipher) -> tuple[str, int]:
    """Create a party's access link and queue the text message with it.

    Returns ``(token, message_id)``; the token appears only in the message, never in the database.

    Raises:
        NotFound: the case is outside ``user``'s scope or the party is not on it.
        Refused: the party has no phone number, or the case is archived.
    """
    token = secrets.token_urlsafe(24)
    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        if case["status"] == "archived":
            raise Refused("案件已归档")
        try:
            party = await _party_row(case_id, case_party_id)
        except NotFound:
            raise FormErrors({"case_party": "请选择本案的当事人"}) from None
        phone = cipher.decrypt(party["phone_enc"], "phone") if party["phone_enc"] else ""
        if not phone:
            raise Refused("该当事人没有登记手机号码，无法发送在线服务链接")
        now = clock.now()
        rows = await PartyLink.insert(PartyLink(
            case=case_id, case_party=case_party_id, token_hash=_sha256(token), created_by=user.id if user else None,
            created_at=now, expires_at=now + dt.timedelta(days=LINK_DAYS),
        )).returning(PartyLink.id)
        body = (f"【{case['room_name']}】{party['name']}您好，您的调解案件 {case['number']} 可在线查看进度、预约调解、"
                f"阅读并确认协议、回访：{_site(reg)}/p/l/{token}（{LINK_DAYS}日内有效，请勿转发）")
        message_id = await _store_message(room=case["room"], case=case_id, party=party, phone=phone, body=body,
                                          purpose="link", expires_at=now + dt.timedelta(days=LINK_DAYS))
        await write_event(case_id, "online.link_sent", actor=user, actor_label="" if user else "系统",
                          data={"case_party": case_party_id, "link": int(rows[0]["id"])})
    await deliver(reg, message_id, phone, case["room_key"])
    return token, message_id


async def open_link(token: str) -> dict[str, Any]:
    """The link row for ``token`` if it is valid (not revoked, not expired), else :class:`NotFound`."""
    if not token or len(token) > 100:
        raise NotFound("链接无效或已过期")
    row = await PartyLink.select().where(PartyLink.token_hash == _sha256(token)).first()
    if row is None or row["revoked"] or row["expires_at"] <= clock.now():
        raise NotFound("链接无效或已过期，请联系调解员重新发送")
    return row


async def request_code(reg: Registry, link: Mapping[str, Any], cipher: FieldCipher, *, purpose: str = "login",
                       payload_hash: str = "") -> int:
    """Send a new one-time code for ``link`` (earlier unused codes of the same purpose stop working).

    Returns the message id. At most one code a minute per link and purpose.
    """
    now = clock.now()
    code = f"{secrets.randbelow(10**6):06d}"
    async with write_transaction():
        recent = await OneTimeCode.select(OneTimeCode.created_at).where(
            OneTimeCode.link == link["id"], OneTimeCode.purpose == purpose,
            OneTimeCode.created_at > now - dt.timedelta(seconds=60)).first()
        if recent is not None:
            raise Refused("验证码已发送，请一分钟后再试")
        await OneTimeCode.update({OneTimeCode.used_at: now}).where(
            OneTimeCode.link == link["id"], OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_null())
        await OneTimeCode.insert(OneTimeCode(
            link=link["id"], purpose=purpose, code_hash=_code_hash(reg.settings.secret_key, link["id"], purpose, code),
            payload_hash=payload_hash, created_at=now, expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        ))
        case = await Case.select(Case.room, Case.room.room_id.as_alias("room_key")).where(
            Case.id == link["case"]).first()
        party = await _party_row(link["case"], link["case_party"])
        phone = cipher.decrypt(party["phone_enc"], "phone") if party["phone_enc"] else ""
        what = "确认调解协议（电子签名）" if purpose == "sign" else "登录查看案件"
        body = f"验证码 {code}，用于{what}，{CODE_MINUTES}分钟内有效，仅可使用一次。请勿告诉他人。"
        message_id = await _store_message(room=case["room"], case=link["case"], party=party, phone=phone, body=body,
                                          purpose=purpose, expires_at=now + dt.timedelta(minutes=CODE_MINUTES))
    await deliver(reg, message_id, phone, case["room_key"])
    return message_id


async def _check_code(reg: Registry, link: Mapping[str, Any], purpose: str, code: str) -> dict[str, Any] | str:
    """The live code row when ``code`` matches (marked used), else the field error message.

    Runs in its own transaction so that a failed attempt is counted even when the caller refuses.
    """
    now = clock.now()
    code = (code or "").strip()
    async with write_transaction():
        row = await OneTimeCode.select().where(
            OneTimeCode.link == link["id"], OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_null()
        ).order_by(OneTimeCode.id, ascending=False).first()
        if row is None:
            return "验证码已使用或不存在，请重新获取"
        if row["expires_at"] <= now:
            await OneTimeCode.update({OneTimeCode.used_at: now}).where(OneTimeCode.id == row["id"])
            return "验证码已过期，请重新获取"
        expected = _code_hash(reg.settings.secret_key, link["id"], purpose, code)
        if not (code.isdigit() and len(code) == 6 and hmac.compare_digest(expected, row["code_hash"])):
            attempts = row["attempts"] + 1
            burned = attempts >= MAX_ATTEMPTS
            await OneTimeCode.update({OneTimeCode.attempts: attempts, **({OneTimeCode.used_at: now} if burned else {})}
                                     ).where(OneTimeCode.id == row["id"])
            return "验证码错误次数过多，请重新获取" if burned else f"验证码不正确（还可尝试 {MAX_ATTEMPTS - attempts} 次）"
        used = await OneTimeCode.update({OneTimeCode.used_at: now}).where(
            OneTimeCode.id == row["id"], OneTimeCode.used_at.is_null()).returning(OneTimeCode.id)
        if not used:  # a concurrent request used it first
            return "验证码已使用或不存在，请重新获取"
    return row


async def verify(reg: Registry, link: Mapping[str, Any], code: str, id_last4: str, cipher: FieldCipher
                 ) -> PartySession:
    """Verify a party: the one-time code and the last four characters of their ID number.

    Raises:
        FormErrors: ``code`` or ``id_last4`` is wrong (each failure counts against the code).
    """
    id_last4 = (id_last4 or "").strip().upper()
    party = await _party_row(link["case"], link["case_party"])
    id_number = cipher.decrypt(party["id_number_enc"], "id_number") if party["id_number_enc"] else ""
    errors: dict[str, str] = {}
    if len(id_last4) != 4:
        errors["id_last4"] = "请填写身份证号码最后4位"
    if errors:
        raise FormErrors(errors)
    result = await _check_code(reg, link, "login", code)
    if isinstance(result, str):
        raise FormErrors({"code": result})
    if not id_number or not hmac.compare_digest(id_number[-4:].upper(), id_last4):
        # the code is burned either way: a guess at the ID digits costs a new code
        raise FormErrors({"id_last4": "身份证号码后4位与登记信息不符；验证码已失效，请重新获取" if id_number else
                          "案件未登记您的身份证号码，请联系调解员核实身份"})
    async with write_transaction():
        await PartyLink.update({PartyLink.verified_at: clock.now()}).where(PartyLink.id == link["id"])
        await write_event(link["case"], "online.party_verified", actor=None, actor_label=PARTY_ACTOR,
                          data={"case_party": link["case_party"]})
    return PartySession(link_id=link["id"], case_id=link["case"], case_party_id=link["case_party"])


async def check_session(session: Mapping[str, Any] | None) -> PartySession | None:
    """The party session stored in a browser session, if its link is still valid."""
    if not isinstance(session, Mapping):
        return None
    try:
        ps = PartySession(int(session["link"]), int(session["case"]), int(session["case_party"]))
    except (KeyError, TypeError, ValueError):
        return None
    row = await PartyLink.select(PartyLink.revoked, PartyLink.expires_at, PartyLink.case, PartyLink.case_party).where(
        PartyLink.id == ps.link_id).first()
    if row is None or row["revoked"] or row["expires_at"] <= clock.now() or (row["case"], row["case_party"]) != (
            ps.case_id, ps.case_party_id):
        return None
    return ps


# ---------------------------------------------------------------- what a party sees


def agreement_text(case: Mapping[str, Any], agreement: Mapping[str, Any], parties: list[Mapping[str, Any]]) -> str:
    """The canonical text of an agreement as shown to parties for confirmation (hashed when signed)."""
    from core.intake import PARTY_ROLES

    lines = [f"人民调解协议书　{agreement.get('number') or ''}".rstrip(), f"案件编号：{case['number']}"]
    for p in parties:
        lines.append(f"{PARTY_ROLES.get(p['role'], p['role'])}：{p['name']}")
    lines += ["纠纷的主要事实、争议事项及各方当事人的责任：", agreement.get("facts") or "",
              "经调解，自愿达成如下协议：", agreement["terms"]]
    if agreement.get("amount") is not None:
        lines.append(f"涉及金额：{Decimal(str(agreement['amount'])):,.2f} 元")
    if agreement.get("performance_method"):
        lines.append(f"履行方式：{agreement['performance_method']}")
    if agreement.get("performance_deadline"):
        lines.append(f"履行期限：{agreement['performance_deadline']}")
    lines.append("本协议经各方当事人签名（或电子确认）、人民调解员签名并加盖人民调解委员会印章后生效。")
    return "\n".join(lines)


async def _parties_public(case_id: int) -> list[dict[str, Any]]:
    """Names and roles only — never another party's ID number, phone or address."""
    return await CaseParty.select(CaseParty.id, CaseParty.role, CaseParty.party.name.as_alias("name")).where(
        CaseParty.case == case_id).order_by(CaseParty.id)


async def party_view(reg: Registry, ps: PartySession) -> dict[str, Any]:
    """Everything a party may see of their case (no caucus notes, no other party's details)."""
    case = await Case.select(
        Case.id, Case.number, Case.status, Case.state, Case.channel, Case.dispute_type, Case.registered_at,
        Case.room, Case.room.name.as_alias("room_name"),
    ).where(Case.id == ps.case_id).first()
    if case is None:
        raise NotFound("案件不存在")
    parties = await _parties_public(ps.case_id)
    me = next((p for p in parties if p["id"] == ps.case_party_id), None)
    sessions = await MediationSession.select(MediationSession.held_at, MediationSession.place,
                                             MediationSession.online).where(
        MediationSession.case == ps.case_id).order_by(MediationSession.held_at)
    agreement = await Agreement.select().where(Agreement.case == ps.case_id).first()
    text = agreement_text(case, agreement, parties) if agreement else ""
    signature = None
    if agreement:
        signature = await ESignature.select(ESignature.signed_at, ESignature.text_sha256).where(
            ESignature.case == ps.case_id, ESignature.case_party == ps.case_party_id,
            ESignature.agreement_id == agreement["id"]).order_by(ESignature.id, ascending=False).first()
    from core.documents.validator import needs_wet_signature

    booked = await Slot.select().where(Slot.case == ps.case_id, Slot.cancelled == False).order_by(  # noqa: E712
        Slot.starts_at)
    open_slots = []
    if case["status"] in ("registered", "accepted", "in_mediation"):
        open_slots = await Slot.select().where(
            Slot.room == case["room"], Slot.case.is_null(), Slot.cancelled == False,  # noqa: E712
            Slot.starts_at > clock.now()).order_by(Slot.starts_at).limit(20)
    followup = await FollowUp.select(FollowUp.id, FollowUp.due_on).where(
        FollowUp.case == ps.case_id, FollowUp.done_on.is_null()).first() if agreement else None
    return {
        "case": case, "me": me, "parties": parties, "sessions": sessions, "agreement": agreement,
        "agreement_text": text, "agreement_hash": text_hash(text) if text else "", "signature": signature,
        "signature_current": bool(signature and text and signature["text_sha256"] == text_hash(text)),
        "wet_only": needs_wet_signature(reg, case["dispute_type"]), "booked": booked, "open_slots": open_slots,
        "followup": followup,
    }


# ---------------------------------------------------------------- e-signing


async def request_sign_code(reg: Registry, ps: PartySession, shown_hash: str, cipher: FieldCipher) -> int:
    """Send a signing code bound to the hash of the agreement text the party was shown."""
    view = await party_view(reg, ps)
    _check_signable(view)
    if shown_hash != view["agreement_hash"]:
        raise Refused("协议内容已更新，请重新阅读后再确认")
    link = await PartyLink.select().where(PartyLink.id == ps.link_id).first()
    return await request_code(reg, link, cipher, purpose="sign", payload_hash=shown_hash)


def _check_signable(view: Mapping[str, Any]) -> None:
    if view["agreement"] is None:
        raise Refused("本案尚无调解协议")
    if view["agreement"]["form"] != "written":
        raise Refused("口头协议无需签署")
    if view["wet_only"]:
        raise Refused("本案涉及婚姻、收养、继承等人身关系，依《中华人民共和国电子签名法》第三条不适用电子签名，"
                      "请到调解室当面签署")
    if view["case"]["status"] not in ("in_mediation", "settled"):
        raise Refused("当前案件状态不能签署协议")


async def confirm_signature(reg: Registry, ps: PartySession, code: str) -> dict[str, Any]:
    """Record the party's electronic confirmation of the exact agreement text bound to the code.

    Raises:
        FormErrors: wrong, used or expired code.
        Refused: the agreement changed since the code was sent, or may not be signed electronically.
    """
    view = await party_view(reg, ps)
    _check_signable(view)
    link = await PartyLink.select().where(PartyLink.id == ps.link_id).first()
    result = await _check_code(reg, link, "sign", code)
    if isinstance(result, str):
        raise FormErrors({"code": result})
    text = view["agreement_text"]
    if result["payload_hash"] != text_hash(text):
        raise Refused("协议内容在发送验证码后已变更，本次确认无效；请重新阅读协议后再确认")
    async with write_transaction():
        now = clock.now()
        await ESignature.insert(ESignature(
            case=ps.case_id, case_party=ps.case_party_id, agreement_id=view["agreement"]["id"], text=text,
            text_sha256=text_hash(text), code=result["id"], signed_at=now))
        await write_event(ps.case_id, "online.agreement_signed", actor=None, actor_label=PARTY_ACTOR,
                          data={"case_party": ps.case_party_id, "text_sha256": text_hash(text),
                                "agreement": view["agreement"]["id"]})
    return {"text_sha256": text_hash(text), "signed_at": now}


async def signatures_of_case(case_id: int) -> list[dict[str, Any]]:
    return await ESignature.select(
        ESignature.id, ESignature.agreement_id, ESignature.text_sha256, ESignature.signed_at,
        ESignature.case_party.party.name.as_alias("name"), ESignature.case_party.role.as_alias("role"),
    ).where(ESignature.case == case_id).order_by(ESignature.id)


# ---------------------------------------------------------------- slots and reminders


class SlotIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A session slot a room offers to parties."""

    starts_at: Annotated[dt.datetime, Meta(title="开始时间")]
    minutes: Annotated[int, Meta(title="时长（分钟）", ge=15, le=480)] = 60
    online: Annotated[bool, Meta(title="在线视频调解")] = False
    place: Annotated[str, Meta(title="地点（现场调解）", max_length=200)] | None = None

    def check(self) -> list[tuple[str, str]]:
        problems = []
        starts = self.starts_at if self.starts_at.tzinfo else self.starts_at.replace(tzinfo=clock.TZ)
        if starts <= clock.now():
            problems.append(("starts_at", "开始时间须晚于现在"))
        if not self.online and not (self.place or "").strip():
            problems.append(("place", "现场调解请填写地点"))
        return problems


async def create_slot(room_pk: int, user: UserCtx, data: SlotIn) -> int:
    """Offer a slot in the room ``room_pk`` (the caller checked the user works there)."""
    starts = data.starts_at if data.starts_at.tzinfo else data.starts_at.replace(tzinfo=clock.TZ)
    async with write_transaction():
        rows = await Slot.insert(Slot(room=room_pk, starts_at=starts, ends_at=starts + dt.timedelta(minutes=data.minutes),
                                      place=(data.place or "").strip(), online=data.online, created_by=user.id,
                                      created_at=clock.now())).returning(Slot.id)
    return int(rows[0]["id"])


async def room_slots(user: UserCtx) -> list[dict[str, Any]]:
    from core.access import room_scope

    rooms = [r["id"] for r in await Room.select(Room.id).where(room_scope(user))]
    if not rooms:
        return []
    return await Slot.select(Slot.all_columns(), Slot.case.number.as_alias("case_number"),
                             Slot.room.name.as_alias("room_name"),
                             Slot.booked_by.party.name.as_alias("booked_name")).where(
        Slot.room.is_in(rooms), Slot.cancelled == False,  # noqa: E712
        Slot.ends_at > clock.now() - dt.timedelta(days=1)).order_by(Slot.starts_at)


async def cancel_slot(slot_id: int, user: UserCtx) -> None:
    from core.access import room_scope

    async with write_transaction():
        rooms = [r["id"] for r in await Room.select(Room.id).where(room_scope(user))]
        slot = await Slot.select().where(Slot.id == slot_id, Slot.room.is_in(rooms or [-1])).first()
        if slot is None:
            raise NotFound("时段不存在")
        await Slot.update({Slot.cancelled: True}).where(Slot.id == slot_id)
        if slot["case"]:
            await write_event(slot["case"], "online.slot_cancelled", actor=user,
                              data={"slot": slot_id, "starts_at": slot["starts_at"].isoformat()})


async def book_slot(reg: Registry, ps: PartySession, slot_id: int) -> dict[str, Any]:
    """Book an open slot of the case's room for the party's case (one party books for the case)."""
    async with write_transaction():
        case = await Case.select(Case.id, Case.room, Case.status).where(Case.id == ps.case_id).first()
        if case["status"] not in ("registered", "accepted", "in_mediation"):
            raise Refused("案件已结束，不能预约")
        video_room = f"fq-{secrets.token_hex(8)}"
        done = await Slot.update({Slot.case: ps.case_id, Slot.booked_by: ps.case_party_id, Slot.booked_at: clock.now(),
                                  Slot.video_room: video_room}).where(
            Slot.id == slot_id, Slot.room == case["room"], Slot.case.is_null(), Slot.cancelled == False,  # noqa: E712
            Slot.starts_at > clock.now()).returning(Slot.id)
        if not done:
            raise FormErrors({"slot": "该时段已被预约或已不可预约，请另选"})
        slot = await Slot.select().where(Slot.id == slot_id).first()
        await write_event(ps.case_id, "online.slot_booked", actor=None, actor_label=PARTY_ACTOR,
                          data={"slot": slot_id, "starts_at": slot["starts_at"].isoformat(), "online": slot["online"]})
    return slot


async def send_due_reminders(reg: Registry, cipher: FieldCipher) -> int:
    """Text every booked party whose slot starts within 24 hours, once; returns how many were sent."""
    now = clock.now()
    due = await Slot.select().where(Slot.case.is_not_null(), Slot.cancelled == False,  # noqa: E712
                                    Slot.reminded_at.is_null(), Slot.starts_at > now,
                                    Slot.starts_at <= now + REMIND_BEFORE)
    sent = 0
    for slot in due:
        async with write_transaction():
            claimed = await Slot.update({Slot.reminded_at: now}).where(
                Slot.id == slot["id"], Slot.reminded_at.is_null()).returning(Slot.id)
            if not claimed:
                continue
            case = await Case.select(Case.id, Case.number, Case.room, Case.room.room_id.as_alias("room_key"),
                                     Case.room.name.as_alias("room_name")).where(Case.id == slot["case"]).first()
            party = await _party_row(slot["case"], slot["booked_by"])
            phone = cipher.decrypt(party["phone_enc"], "phone") if party["phone_enc"] else ""
            if not phone:
                continue
            when = slot["starts_at"].astimezone(clock.TZ).strftime("%m月%d日 %H:%M")
            where = "在线视频调解（请通过案件链接进入）" if slot["online"] else slot["place"]
            body = f"【{case['room_name']}】提醒：您的调解案件 {case['number']} 定于 {when} 调解，地点：{where}。"
            message_id = await _store_message(room=case["room"], case=case["id"], party=party, phone=phone,
                                              body=body, purpose="reminder")
        await deliver(reg, message_id, phone, case["room_key"])
        sent += 1
    return sent


# ---------------------------------------------------------------- party lookup for the staff panel


async def parties_with_phone(case_id: int) -> list[dict[str, Any]]:
    file = await case_file(case_id)  # on the case page: the file it read already
    return [{"id": p["id"], "role": p["role"], "name": p["party"]["name"], "phone_masked": p["party"]["phone_masked"]}
            for p in file["parties"]]


def links_read(case_id: int) -> Read:
    """The links sent for a case (plain SQL, core.sql: the case page's online panel reads this on every view)."""
    return Read("SELECT l.id, l.case_party, l.created_at, l.expires_at, l.revoked, l.verified_at, p.name AS name "
                "FROM online_party_link l LEFT JOIN core_case_party cp ON cp.id = l.case_party "
                'LEFT JOIN core_party p ON p.id = cp.party WHERE l."case" = {} ORDER BY l.id', (case_id,))


async def links_of_case(case_id: int) -> list[dict[str, Any]]:
    read = links_read(case_id)
    return await fetch(read.sql, *read.args)


