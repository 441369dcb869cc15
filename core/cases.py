"""The case engine: registering cases, executing protocol transitions, recording sessions and
agreements. This is the one place that changes case state.

Every change runs in one write transaction together with its append-only event row and the
``fengqiao_case_transitioned`` hook (where the outbox writes partner events), so a change and its
event are committed together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import msgspec

from core import clock
from core.access import UserCtx, case_scope_sql
from core.channels import IntakeForm
from core.crypto import FieldCipher
from core.db import is_sqlite, write_transaction
from core.sql import Read, fetch_one, json_columns
from core.deadline_service import clock_starts, recompute_deadline
from core.forms import FormErrors, validate_form
from core.intake import CaseIntake, PartyIn
from core.lifecycle import CoreStatus
from core.plugins import await_each, await_me_maybe
from core.protocol_kit import CaseContext
from core.records import AgreementIn, SessionIn
from core.registry import Registry
from core.tables import (
    Agreement,
    Case,
    CaseCounter,
    CaseEvent,
    CaseParty,
    MediationSession,
    Party,
    Room,
)

__all__ = [
    "CaseError",
    "NotFound",
    "Refused",
    "create_case",
    "apply_transition",
    "record_session",
    "save_agreement",
    "load_case",
    "case_context",
    "write_event",
]


class CaseError(Exception):
    """A refused operation; ``message`` is shown to the user, ``status`` is the HTTP status."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(CaseError):
    status = 404


class Refused(CaseError):
    status = 409


def format_number(fmt: str, *, year: int, prefix: str, seq: int) -> str:
    return fmt.format(year=year, prefix=prefix, seq=seq)


async def _next_seq(prefix: str, year: int) -> int:
    rows = await CaseCounter.raw(
        "INSERT INTO core_case_counter (key, last) VALUES ({}, 1) "
        "ON CONFLICT (key) DO UPDATE SET last = core_case_counter.last + 1 RETURNING last",
        f"{prefix}|{year}",
    )
    return int(rows[0]["last"])


async def write_event(
    case_id: int,
    type_: str,
    *,
    actor: UserCtx | None,
    actor_label: str = "",
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    data: Mapping[str, Any] | None = None,
    partner_event: bool = False,
) -> int:
    rows = await CaseEvent.insert(
        CaseEvent(
            case=case_id,
            type=type_,
            transition=transition,
            from_state=from_state,
            to_state=to_state,
            actor=actor.id if actor else None,
            actor_label=actor_label or (actor.display_name if actor else ""),
            data=msgspec.json.encode(dict(data or {})).decode(),
            partner_event=partner_event,
            created_at=clock.now(),
        )
    ).returning(CaseEvent.id)
    return int(rows[0]["id"])


async def _insert_party(p: PartyIn, cipher: FieldCipher) -> int:
    idn = p.normalised_id()
    phone = (p.phone or "").strip()
    from core.idnumbers import mask_id_number, mask_phone

    rows = await Party.insert(
        Party(
            kind=p.kind,
            name=p.name.strip(),
            id_number_enc=cipher.encrypt(idn, "id_number"),
            id_number_index=cipher.blind_index(idn),
            id_number_masked=mask_id_number(idn) if idn else "",
            phone_enc=cipher.encrypt(phone, "phone"),
            phone_masked=mask_phone(phone) if phone else "",
            address=(p.address or "").strip(),
            credit_code=(p.credit_code or "").strip().upper(),
            created_at=clock.now(),
        )
    ).returning(Party.id)
    return int(rows[0]["id"])


def check_parties(parties: list[PartyIn]) -> dict[str, str]:
    """Every case needs an applicant and a respondent (field errors keyed ``parties``)."""
    roles = {p.role for p in parties}
    errors = {}
    if "applicant" not in roles:
        errors["parties"] = "至少需要一名申请人"
    elif "respondent" not in roles:
        errors["parties"] = "至少需要一名被申请人"
    return errors


async def create_case(
    reg: Registry,
    *,
    room: Mapping[str, Any],
    form: IntakeForm,
    intake: CaseIntake,
    parties: list[PartyIn],
    fields: msgspec.Struct,
    actor: UserCtx | None,
    cipher: FieldCipher,
    actor_label: str = "",
    partner_id: str | None = None,
    external_id: str | None = None,
    registered_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Register a case in ``room`` through ``form``; validated input only.

    Raises:
        FormErrors: unknown dispute type or source, missing applicant/respondent.
    """
    errors = check_parties(parties)
    if not reg.codes.has("dispute_type", intake.dispute_type):
        errors["dispute_type"] = "未知的纠纷类型代码"
    source = intake.source or reg.channels[form.channel].case_source
    if not reg.codes.has("case_source", source):
        errors["source"] = "未知的案件来源代码"
    if errors:
        raise FormErrors(errors)
    protocol = reg.protocol(form.channel)
    initial = protocol.state(protocol.initial)
    now = registered_at or clock.now()
    rule = reg.deadline_rules.get(form.deadline_rule)
    started_on = now.astimezone(clock.TZ).date() if clock_starts(rule, initial.key, initial.status.value) else None
    deadline = recompute_deadline(reg, {"deadline_rule": form.deadline_rule, "clock_started_on": started_on}, [])
    async with write_transaction():
        seq = await _next_seq(room["number_prefix"], now.year)
        number = format_number(reg.settings.case_number_format, year=now.year, prefix=room["number_prefix"], seq=seq)
        rows = await Case.insert(
            Case(
                number=number,
                room=room["id"],
                channel=form.channel,
                kind=form.kind,
                status=initial.status.value,
                state=initial.key,
                dispute_type=intake.dispute_type,
                code_list_version=reg.codes.version,
                source=source,
                summary=intake.summary.strip(),
                claims=(intake.claims or "").strip(),
                amount=intake.amount,
                people_count=intake.people_count,
                risk_flags="[]",
                intake=msgspec.json.encode(fields).decode(),
                deadline=deadline,
                deadline_rule=form.deadline_rule,
                clock_started_on=started_on,
                created_by=actor.id if actor else None,
                mediator=actor.id if actor and actor.role == "mediator" else None,
                partner_id=partner_id,
                external_id=external_id,
                year=now.year,
                seq=seq,
                registered_at=now,
                updated_at=now,
            )
        ).returning(Case.id)
        case_id = int(rows[0]["id"])
        for p in parties:
            party_id = await _insert_party(p, cipher)
            await CaseParty.insert(CaseParty(case=case_id, party=party_id, role=p.role))
        registered = {
            "id": case_id, "number": number, "room": room["id"], "channel": form.channel, "kind": form.kind,
            "status": initial.status.value, "state": initial.key, "dispute_type": intake.dispute_type,
            "source": source, "amount": intake.amount, "people_count": intake.people_count,
            "registered_at": now, "partner_id": partner_id, "external_id": external_id,
        }
        await write_event(
            case_id,
            "case.registered",
            actor=actor,
            actor_label=actor_label,
            to_state=initial.key,
            data={"number": number, "channel": form.channel, "kind": form.kind},
        )
        await await_each(reg.pm.hook.fengqiao_case_registered(case=registered, registry=reg))
    return {"id": case_id, "number": number, "status": initial.status.value, "state": initial.key}


def case_read(case_id: int, user: UserCtx | None, *, for_update: bool = False) -> Read:
    """The statement of :func:`load_case`, to batch with reads that need only the case's id (the
    caller raises :class:`NotFound` when it finds no row, and shows none of the others)."""
    # plain SQL (core.sql): every page and action of a case starts here
    sql = ("SELECT c.*, r.name AS room_name, r.room_id AS room_key, m.display_name AS mediator_name "
           "FROM core_case c JOIN core_room r ON r.id = c.room LEFT JOIN core_user m ON m.id = c.mediator "
           "WHERE c.id = {}")
    args: list[Any] = [case_id]
    if user is not None:
        scope, scope_args = case_scope_sql(user, "c", "r")
        sql += f" AND {scope}"
        args += scope_args
    if for_update and not is_sqlite():
        sql += " FOR NO KEY UPDATE OF c"
    return Read(sql, tuple(args), json_columns(Case))


async def load_case(case_id: int, user: UserCtx | None, *, for_update: bool = False) -> dict[str, Any]:
    """The case row if ``user`` may see it (``None`` = system), else :class:`NotFound`; with the names of
    its room and mediator (``room_name``, ``room_key``, ``mediator_name``).

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite's ``BEGIN
    IMMEDIATE`` already serialises writers), so concurrent changes to one case queue up.
    """
    read = case_read(case_id, user, for_update=for_update)
    return found_case(await fetch_one(read.sql, *read.args, load_json=read.load_json))


def found_case(row: dict[str, Any] | None) -> dict[str, Any]:
    """``row`` (a result of :func:`case_read`), or :class:`NotFound` when there is none."""
    if row is None:
        raise NotFound("案件不存在或无权查看")
    return row


async def case_context(case: dict[str, Any]) -> CaseContext:
    agreement = await Agreement.select().where(Agreement.case == case["id"]).first()
    sessions = await MediationSession.count().where(MediationSession.case == case["id"])
    parties = await CaseParty.select(CaseParty.role, CaseParty.party.name.as_alias("name")).where(
        CaseParty.case == case["id"]
    )
    return CaseContext(case=case, agreement=agreement, sessions=sessions, parties=parties)


def _status_fields(target: CoreStatus, now: dt.datetime, data: dict[str, Any], ctx: CaseContext) -> dict[Any, Any]:
    """Columns a core lifecycle step sets, whatever the channel."""
    if target is CoreStatus.ACCEPTED:
        return {Case.accepted_at: now}
    if target is CoreStatus.DECLINED:
        return {Case.outcome: "declined", Case.outcome_reason: data.get("reason", "")}
    if target is CoreStatus.SETTLED:
        form = (ctx.agreement or {}).get("form", "written")
        return {Case.outcome: f"settled_{form}"}
    if target is CoreStatus.NOT_SETTLED:
        return {
            Case.outcome: "not_settled",
            Case.outcome_reason: data.get("reason", ""),
            Case.suggested_route: data.get("route", ""),
        }
    if target is CoreStatus.WITHDRAWN:
        return {Case.outcome: "withdrawn", Case.outcome_reason: data.get("reason", "")}
    if target is CoreStatus.CLOSED:
        return {Case.closed_at: now}
    if target is CoreStatus.ARCHIVED:
        return {Case.archived_at: now}
    return {}


async def available_transitions(reg: Registry, case: dict[str, Any], user: UserCtx) -> list[Any]:
    protocol = reg.protocol(case["channel"])
    return [t for t in protocol.available(case["state"]) if user.role in t.roles]


async def apply_transition(
    reg: Registry,
    case_id: int,
    key: str,
    user: UserCtx | None,
    form_data: Mapping[str, Any] | msgspec.Struct | None = None,
    *,
    actor_label: str = "",
) -> dict[str, Any]:
    """Take transition ``key`` on a case, checking it exists, starts from the current state, is
    allowed for the user's role and passes its guards; then write the change, the event and the
    hook's writes in one transaction.

    ``user`` ``None`` acts as the system (role ``system``, no room scope).

    Raises:
        NotFound: unknown case, or out of the user's scope.
        Refused: unknown transition, wrong state, role not allowed, guard refused.
        FormErrors: the transition's form did not validate.
    """
    role = user.role if user else "system"
    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        if case["channel"] not in reg.protocols:
            raise Refused("该案件所属的对接渠道未启用")
        protocol = reg.protocol(case["channel"])
        t = protocol.transition(key)
        if t is None:
            raise Refused(f"没有名为 {key} 的操作")
        if case["state"] not in t.sources:
            raise Refused(f"案件当前状态为“{protocol.state(case['state']).label}”，不能执行“{t.label}”")
        if role not in t.roles:
            raise Refused(f"您的角色不能执行“{t.label}”")
        data: dict[str, Any] = {}
        if t.form is not None:
            if isinstance(form_data, msgspec.Struct):
                data = msgspec.to_builtins(form_data)
            else:
                data = msgspec.to_builtins(validate_form(t.form, form_data or {}))
        ctx = await case_context(case)
        for guard in t.guards:
            problem = await await_me_maybe(guard(ctx))
            if problem:
                raise Refused(problem)
        source = protocol.state(case["state"])
        target = protocol.state(t.target)
        now = clock.now()
        values: dict[Any, Any] = {Case.state: target.key, Case.status: target.status.value, Case.updated_at: now}
        if source.status is not target.status:
            values.update(_status_fields(target.status, now, data, ctx))
        rule = reg.deadline_rules.get(case["deadline_rule"])
        if case["clock_started_on"] is None and clock_starts(rule, target.key, target.status.value):
            started = {**case, "clock_started_on": now.astimezone(clock.TZ).date()}
            due = recompute_deadline(reg, started, [])
            values.update({Case.clock_started_on: started["clock_started_on"], Case.deadline: due})
            data["deadline"] = due.isoformat() if due else None
        changed = await Case.update(values).where((Case.id == case_id) & (Case.state == case["state"])).returning(
            Case.id
        )
        if not changed:  # a concurrent transaction moved the case first (PostgreSQL READ COMMITTED)
            raise Refused("案件状态已被他人更新，请刷新页面后重试")
        if ctx.agreement and target.status is CoreStatus.SETTLED:
            data.setdefault("agreement", _agreement_summary(ctx.agreement))
        event_id = await write_event(
            case_id,
            t.event,
            actor=user,
            actor_label=actor_label,
            transition=t.key,
            from_state=source.key,
            to_state=target.key,
            data=data,
            partner_event=t.partner_event and bool(case.get("partner_id")),
        )
        event = {
            "event_id": event_id,
            "case_id": case_id,
            "case_number": case["number"],
            "channel": case["channel"],
            "transition": t.key,
            "type": t.event,
            "from_state": source.key,
            "to_state": target.key,
            "status": target.status.value,
            "partner_event": t.partner_event,
            "partner_id": case.get("partner_id"),
            "external_id": case.get("external_id"),
            "occurred_at": now,
            "data": data,
        }
        await await_each(reg.pm.hook.fengqiao_case_transitioned(event=event, registry=reg))
    return event


def _agreement_summary(a: dict[str, Any]) -> dict[str, Any]:
    deadline = a.get("performance_deadline")
    return {
        "number": a.get("number", ""),
        "date": a["signed_on"].isoformat() if a.get("signed_on") else None,
        "terms": (a.get("terms") or "")[:500],
        "amount": None if a.get("amount") is None else f"{a['amount']:.2f}",
        "performance_deadline": deadline.isoformat() if deadline else None,
    }


def _require_status(case: dict[str, Any], allowed: set[CoreStatus], what: str) -> None:
    if CoreStatus(case["status"]) not in allowed:
        raise Refused(f"案件当前状态为“{CoreStatus(case['status']).label}”，不能{what}")


async def record_session(reg: Registry, case_id: int, user: UserCtx, session: SessionIn) -> int:
    """Record a mediation session (调解笔录) on a case that is in mediation."""
    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        _require_status(case, {CoreStatus.IN_MEDIATION}, "记录调解")
        previous = await MediationSession.select().where(MediationSession.case == case_id).order_by(
            MediationSession.held_at)
        problems = [p for p in await await_each(reg.pm.hook.fengqiao_check_session(
            case=case, session=msgspec.structs.asdict(session), sessions=previous, registry=reg)) if p]
        field_errors = {k: v for p in problems if isinstance(p, dict) for k, v in p.items()}
        if field_errors:
            raise FormErrors(field_errors)
        if problems:
            raise Refused("；".join(str(p) for p in problems))
        rows = await MediationSession.insert(
            MediationSession(
                case=case_id,
                held_at=session.held_at,
                place=session.place,
                online=session.online,
                attendees=session.attendees,
                record=session.record,
                outcome=session.outcome,
                recorded_by=user.id,
                created_at=clock.now(),
            )
        ).returning(MediationSession.id)
        await Case.update({Case.updated_at: clock.now()}).where(Case.id == case_id)
        await write_event(
            case_id, "case.session_recorded", actor=user,
            data={"held_at": session.held_at.isoformat(), "place": session.place, "outcome": session.outcome},
        )
    return int(rows[0]["id"])


async def save_agreement(reg: Registry, case_id: int, user: UserCtx, agreement: AgreementIn) -> int:
    """Create or update the case's agreement while the case is in mediation."""
    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        _require_status(case, {CoreStatus.IN_MEDIATION}, "记录调解协议")
        if agreement.signed_by_parties or agreement.signed_by_mediator or agreement.sealed:
            from core.documents.validator import check_before_signing  # the agreement validator

            await check_before_signing(reg, case, agreement)  # FormErrors while content is incomplete
        now = clock.now()
        values = {
            k: ("" if v is None and not getattr(Agreement, k)._meta.null else v)
            for k, v in msgspec.structs.asdict(agreement).items()
        }
        existing = await Agreement.select(Agreement.id).where(Agreement.case == case_id).first()
        if existing:
            await Agreement.update({getattr(Agreement, k): v for k, v in values.items()} | {Agreement.updated_at: now}).where(
                Agreement.id == existing["id"]
            )
            agreement_id = existing["id"]
        else:
            number = case["number"].replace("字第", "协字第", 1) if "字第" in case["number"] else case["number"] + "-协"
            rows = await Agreement.insert(
                Agreement(case=case_id, number=number, created_at=now, updated_at=now, **values)
            ).returning(Agreement.id)
            agreement_id = rows[0]["id"]
        await Case.update({Case.updated_at: now}).where(Case.id == case_id)
        await write_event(
            case_id, "case.agreement_saved", actor=user,
            data={"form": agreement.form, "signed": agreement.signed_by_parties},
        )
    return int(agreement_id)


async def room_for_user(user: UserCtx) -> dict[str, Any] | None:
    if user.room is None:
        return None
    return await Room.select().where(Room.id == user.room).first()





REVEAL_ROLES_DEFAULT = ("mediator", "supervisor", "admin")


async def reveal_party(reg: Registry, case_id: int, case_party_id: int, user: UserCtx, cipher: FieldCipher,
                       *, ip: str = "") -> dict[str, str]:
    """Decrypt one party's ID number and phone for a user whose role may reveal them
    (setting ``reveal_roles``); every reveal is written to the audit log first.

    Raises:
        NotFound: the case or party is outside the user's scope.
        Refused: the user's role may not reveal personal data.
    """
    from core import audit
    from core.tables import CaseParty, Party

    case = await load_case(case_id, user)
    link = await CaseParty.select(CaseParty.party).where(CaseParty.id == case_party_id, CaseParty.case == case_id).first()
    if link is None:
        raise NotFound("当事人不存在")
    roles = reg.settings.raw.get("reveal_roles", REVEAL_ROLES_DEFAULT)
    if user.role not in roles:
        raise Refused("您的角色不能查看完整的身份证号和电话")
    party = await Party.select().where(Party.id == link["party"]).first()
    await audit.record("reveal", actor=user.username, target=f"case:{case['number']} party:{case_party_id}", ip=ip,
                       detail={"fields": ["id_number", "phone"]})
    return {
        "name": party["name"],
        "id_number": cipher.decrypt(party["id_number_enc"], "id_number"),
        "phone": cipher.decrypt(party["phone_enc"], "phone"),
    }
