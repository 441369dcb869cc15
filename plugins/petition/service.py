"""The petition channel's domain operations: the petition file (grade, team, plan, number), the team's
working records, team-restricted access, and the reactions to protocol transitions.

Every change runs in one write transaction with its case-log event; every read goes through the core
case scope first (another room's user gets ``NotFound``), then the team rule: once a team is formed, its
working records are open to the team's members, its supervisor, the case's mediator, supervisors of the
organisation and admins — not to other members of the room.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core import clock
from core.access import UserCtx
from core.case_clocks import pause_clock, resume_clock
from core.cases import CaseError, NotFound, Refused, load_case, write_event
from core.db import write_transaction
from core.forms import FormErrors
from core.registry import Registry
from core.sql import rows_of
from core.tables import Case, MediatorProfile, User

from plugins.petition.forms import (
    MAJOR_CRITERIA,
    RECORD_FORMS,
    MemberForm,
    TeamForm,
)
from plugins.petition.tables import PetitionFile, TeamMember, WorkRecord

__all__ = [
    "Forbidden", "MAJOR_FLAG", "CHANNEL", "grade_of", "petition_case", "petition_file", "team_members",
    "can_open_team", "require_team_access", "save_team", "add_member", "remove_member", "add_record",
    "records_of", "on_transitioned",
]

CHANNEL = "petition"
MAJOR_FLAG = "petition_major"
"""Risk flag kept on major petitions so that the core subsidy engine grades them (``flags_any``)."""

TEAM_STATES = {"accepted", "entrusted", "handling", "proposed"}
RECORD_STATES = {
    "visit": {"entrusted", "handling", "proposed"},
    "investigation": {"entrusted", "handling", "proposed"},
    "evidence": {"entrusted", "handling", "proposed"},
    "appraisal_request": {"handling"},
    "appraisal_result": {"handling", "proposed"},
    "consultation": {"handling"},
    "review": {"guided", "aid", "concluded"},
    "note": {"accepted", "entrusted", "handling", "proposed", "resolved", "guided", "aid", "concluded"},
}


class Forbidden(CaseError):
    """The user may see the case but not the team's working records."""

    status = 403


def grade_of(criteria: list[str]) -> str:
    return "major" if criteria else "general"


async def petition_case(case_id: int, user: UserCtx | None, *, for_update: bool = False) -> dict[str, Any]:
    """The case if the user may see it (else ``NotFound``) and it is a petition (else ``Refused``)."""
    case = await load_case(case_id, user, for_update=for_update)
    if case["channel"] != CHANNEL:
        raise Refused("该案件不是访调对接（信访）案件")
    return case


async def petition_file(case_id: int) -> dict[str, Any] | None:
    rows = await rows_of(PetitionFile, "case", case_id, user_names=[("supervisor_name", "supervisor")],
                         order_by="", limit=1, load_json=True)  # plain SQL (core.sql): every petition case page
    return rows[0] if rows else None


async def team_members(file_id: int) -> list[dict[str, Any]]:
    return await TeamMember.select(
        TeamMember.all_columns(), TeamMember.user.username.as_alias("username")
    ).where(TeamMember.file == file_id).order_by(TeamMember.id)


async def can_open_team(case: dict[str, Any], user: UserCtx) -> bool:
    """Whether ``user`` (who may see ``case``) may open the team's working records."""
    if user.role in {"admin", "supervisor"}:
        return True
    f = await PetitionFile.select(PetitionFile.id, PetitionFile.supervisor, PetitionFile.number).where(
        PetitionFile.case == case["id"]).first()
    if f is None or not f["number"]:
        return user.room == case["room"]  # no team yet: the room forms it
    if user.id in {f["supervisor"], case["mediator"]}:
        return True
    return await TeamMember.exists().where(TeamMember.file == f["id"], TeamMember.user == user.id)


async def require_team_access(case_id: int, user: UserCtx, *, for_update: bool = False) -> dict[str, Any]:
    case = await petition_case(case_id, user, for_update=for_update)
    if not await can_open_team(case, user):
        raise Forbidden("专调小组的工作记录仅对小组成员、督办人和督导人员开放")
    return case


async def _in_case_scope(user_id: int, case: dict[str, Any]) -> dict[str, Any] | None:
    """The user if they could see the case (the room's mediators; the organisation's supervisors)."""
    row = await User.select(User.id, User.username, User.display_name, User.role, User.room,
                            User.organisation, User.active).where(User.id == user_id).first()
    if row is None or not row["active"]:
        return None
    if row["role"] == "mediator" and row["room"] == case["room"]:
        return row
    if row["role"] == "supervisor":
        org = await Case.select(Case.room.organisation.as_alias("o")).where(Case.id == case["id"]).first()
        return row if org and row["organisation"] is not None and row["organisation"] == org["o"] else None
    return None


async def save_team(reg: Registry, case_id: int, user: UserCtx, form: TeamForm) -> str:
    """Form (or revise) the dedicated team's plan, supervisor and deadline; returns the team number."""
    async with write_transaction():
        case = await require_team_access(case_id, user, for_update=True)
        if case["state"] not in TEAM_STATES:
            raise Refused("只有已受理、尚未提出处理结果的信访案件可以组建或调整专调小组")
        f = await PetitionFile.select().where(PetitionFile.case == case_id).first()
        if f is None:
            raise Refused("该信访案件尚未评析受理")
        errors = {}
        sup = await _in_case_scope(form.supervisor, case)
        if sup is None:
            errors["supervisor"] = "督办人须为本室调解员或本组织的督导人员"
        if form.team_deadline < clock.today():
            errors["team_deadline"] = "限时销号日期不能早于今天"
        elif case["deadline"] and case["clock_started_on"] and form.team_deadline > case["deadline"]:
            errors["team_deadline"] = f"限时销号日期不能晚于法定办理期限（{case['deadline'].isoformat()}）"
        if errors:
            raise FormErrors(errors)
        number = f["number"] or f"专调{case['number']}"
        now = clock.now()
        await PetitionFile.update({
            PetitionFile.number: number, PetitionFile.plan: form.plan.strip(), PetitionFile.supervisor: form.supervisor,
            PetitionFile.team_deadline: form.team_deadline, PetitionFile.updated_at: now,
        }).where(PetitionFile.id == f["id"])
        if not f["number"] and user.role == "mediator":  # whoever forms the team leads it
            profile = await MediatorProfile.select(MediatorProfile.public_employee).where(
                MediatorProfile.user == user.id).first()
            await TeamMember.insert(TeamMember(
                file=f["id"], user=user.id, name=user.display_name, profession="mediator",
                public_employee=bool(profile and profile["public_employee"]), lead=True, created_at=now))
        await write_event(case_id, "petition.team_saved", actor=user, data={
            "number": number, "supervisor": form.supervisor, "team_deadline": form.team_deadline.isoformat()})
    return number


async def add_member(reg: Registry, case_id: int, user: UserCtx, form: MemberForm) -> int:
    """Add a member: a user of the case's room (who then sees the team's records) or an outside
    professional by name."""
    async with write_transaction():
        case = await require_team_access(case_id, user, for_update=True)
        if case["state"] not in TEAM_STATES:
            raise Refused("只有已受理、尚未提出处理结果的信访案件可以调整专调小组")
        f = await PetitionFile.select().where(PetitionFile.case == case_id).first()
        if f is None or not f["number"]:
            raise Refused("请先保存化解方案和督办人，再添加小组成员")
        name = form.name.strip()
        public = form.public_employee
        if form.user is not None:
            member = await _in_case_scope(form.user, case)
            if member is None or member["role"] != "mediator":
                raise FormErrors({"user": "只能选择本调解室的人员"})
            if await TeamMember.exists().where(TeamMember.file == f["id"], TeamMember.user == form.user):
                raise FormErrors({"user": "该人员已在专调小组中"})
            name = member["display_name"] or member["username"]
            profile = await MediatorProfile.select(MediatorProfile.public_employee).where(
                MediatorProfile.user == form.user).first()
            public = public or bool(profile and profile["public_employee"])
        elif not name:
            raise FormErrors({"name": "请选择本室人员或填写室外人员姓名"})
        rows = await TeamMember.insert(TeamMember(
            file=f["id"], user=form.user, name=name, profession=form.profession, public_employee=public,
            lead=form.lead, created_at=clock.now())).returning(TeamMember.id)
        await write_event(case_id, "petition.member_added", actor=user,
                          data={"name": name, "profession": form.profession, "public_employee": public})
    return int(rows[0]["id"])


async def remove_member(reg: Registry, case_id: int, user: UserCtx, member_id: int) -> None:
    async with write_transaction():
        case = await require_team_access(case_id, user, for_update=True)
        if case["state"] not in TEAM_STATES:
            raise Refused("案件已提出处理结果，专调小组不能再调整")
        f = await PetitionFile.select(PetitionFile.id).where(PetitionFile.case == case_id).first()
        row = await TeamMember.select().where(TeamMember.id == member_id, TeamMember.file == (f or {}).get("id", -1)).first()
        if row is None:
            raise NotFound("小组成员不存在")
        await TeamMember.delete().where(TeamMember.id == member_id)
        await write_event(case_id, "petition.member_removed", actor=user, data={"name": row["name"]})


async def add_record(reg: Registry, case_id: int, user: UserCtx, kind: str, form: msgspec.Struct) -> int:
    """Add a working record of ``kind``; an appraisal request pauses the handling clock (its days do not
    count, 信访工作条例 第三十四条 as configured), an appraisal result resumes it."""
    if kind not in RECORD_FORMS:
        raise NotFound("没有这种工作记录")
    async with write_transaction():
        case = await require_team_access(case_id, user, for_update=True)
        if case["state"] not in RECORD_STATES[kind]:
            raise Refused("案件当前所处步骤不能添加该工作记录")
        data = msgspec.to_builtins(form)
        if kind == "appraisal_request":
            due = await pause_clock(reg, case_id, user, event="appraisal", start_on=form.requested_on,
                                    reason=f"司法鉴定：{form.matter}"[:500])
            data["deadline_while_paused"] = due.isoformat() if due else None
        elif kind == "review":
            _check_review(reg, form, data)
        elif kind == "appraisal_result":
            try:
                due = await resume_clock(reg, case_id, user, end_on=form.received_on)
            except FormErrors as exc:
                raise FormErrors({"received_on" if k == "end_on" else k: v for k, v in exc.errors.items()}) from None
            data["deadline"] = due.isoformat() if due else None
        rows = await WorkRecord.insert(WorkRecord(case=case_id, kind=kind, data=msgspec.json.encode(data).decode(),
                                                  recorded_by=user.id, created_at=clock.now())).returning(WorkRecord.id)
        await write_event(case_id, f"petition.record.{kind}", actor=user, data={"record": int(rows[0]["id"])})
    return int(rows[0]["id"])


def _check_review(reg: Registry, form: Any, data: dict[str, Any]) -> None:
    """复查 / 复核: requested within 30 days of the written reply; the decision is due 30 days after."""
    from core.deadline_service import deadline_for

    prefix = "petition_review" if form.level == "review" else "petition_re_review"
    last_day = deadline_for(reg, f"{prefix}_application", form.reply_received_on)
    errors = {}
    if form.requested_on < form.reply_received_on:
        errors["requested_on"] = "请求日期不能早于收到书面答复的日期"
    elif last_day and form.requested_on > last_day:
        errors["requested_on"] = f"已超过请求期限（收到书面答复之日起30日内，至 {last_day.isoformat()}）"
    if form.requested_on > clock.today():
        errors["requested_on"] = "请求日期不能晚于今天"
    if errors:
        raise FormErrors(errors)
    due = deadline_for(reg, f"{prefix}_decision", form.requested_on)
    data["decision_due"] = due.isoformat() if due else None


def labelled(record: dict[str, Any]) -> list[tuple[str, str]]:
    """A working record's fields as (Chinese title, displayed value) pairs."""
    from core.forms import describe

    from plugins.petition.forms import DISPLAY_FORMS

    schema = DISPLAY_FORMS.get(record["kind"])
    specs = {s.name: s for s in describe(schema)} if schema else {}
    extra_titles = {"decision_due": "复查/复核意见期限", "deadline": "恢复后的办理期限",
                    "deadline_while_paused": "暂停期间显示的期限"}
    out = []
    for key, value in (record["data"] or {}).items():
        if value in (None, "", False):
            continue
        spec = specs.get(key)
        if spec is not None and spec.choices:
            value = dict(spec.choices).get(value, value)
        if value is True:
            value = "是"
        out.append((spec.title if spec else extra_titles.get(key, key), str(value)))
    return out


async def records_of(case_id: int) -> list[dict[str, Any]]:
    rows = await WorkRecord.select(
        WorkRecord.all_columns(), WorkRecord.recorded_by.display_name.as_alias("recorder")
    ).where(WorkRecord.case == case_id).order_by(WorkRecord.id).output(load_json=True)
    for r in rows:
        r["items"] = labelled(r)
    return rows


# ------------------------------------------------------------------------------------ transition reactions


async def _set_major_flag(case_id: int, major: bool) -> None:
    row = await Case.select(Case.risk_flags).where(Case.id == case_id).output(load_json=True).first()
    flags = set(row["risk_flags"] or [])
    wanted = flags | {MAJOR_FLAG} if major else flags - {MAJOR_FLAG}
    if wanted != flags:
        await Case.update({Case.risk_flags: msgspec.json.encode(sorted(wanted)).decode()}).where(Case.id == case_id)


async def _check_actor_on_team(event: dict[str, Any]) -> None:
    """Once the team is formed, the case's steps are taken by the team (a mediator of the room outside
    the team is refused; supervisors, admins and the system are not restricted)."""
    from core.access import UserCtx
    from core.tables import CaseEvent

    row = await CaseEvent.select(CaseEvent.actor).where(CaseEvent.id == event["event_id"]).first()
    actor = await User.select(User.id, User.username, User.display_name, User.role, User.room, User.organisation
                              ).where(User.id == (row or {}).get("actor") or -1).first()
    if actor is None or actor["role"] != "mediator":
        return
    case = await Case.select(Case.id, Case.room, Case.mediator).where(Case.id == event["case_id"]).first()
    if not await can_open_team(case, UserCtx.from_row(actor)):
        raise Refused("本案已组建专调小组，案件办理步骤由专调小组成员执行")


async def on_transitioned(event: dict[str, Any], registry: Registry) -> None:
    """Inside the transition's transaction (before the statistics plugin records a conclusion)."""
    if event["channel"] != CHANNEL:
        return
    case_id, key, data = event["case_id"], event["transition"], event.get("data") or {}
    now = clock.now()
    await _check_actor_on_team(event)
    if key == "accept":
        case = await Case.select(Case.people_count, Case.intake).where(Case.id == case_id).output(
            load_json=True).first()
        intake = case["intake"] or {}
        criteria = [c for c in MAJOR_CRITERIA if c != "group" and (data.get(c) or intake.get(c))]
        if case["people_count"] >= 10:
            criteria.insert(1 if "to_capital" in criteria else 0, "group")
        await PetitionFile.insert(PetitionFile(
            case=case_id, grade=grade_of(criteria), criteria=msgspec.json.encode(criteria).decode(),
            assessment=data.get("assessment", ""), created_at=now, updated_at=now))
    elif key == "decline":
        await WorkRecord.insert(WorkRecord(case=case_id, kind="decline_warning", data=msgspec.json.encode({
            "advice": data["advice"], "warned_agencies": data["warned_agencies"], "warning": data["warning"],
        }).decode(), recorded_by=None, created_at=now))
    elif key == "entrust":
        unit = (data.get("entrusted_unit") or "").strip()
        if not unit and not data.get("bureau_handles"):
            raise FormErrors({"entrusted_unit": "请填写委托单位；责任主体不明确的，勾选由信访部门委托"})
        if data["entrusted_on"] > clock.today().isoformat():
            raise FormErrors({"entrusted_on": "委托日期不能晚于今天"})
        payer = unit if unit and data.get("unit_pays") and not data.get("bureau_handles") else ""
        await PetitionFile.update({
            PetitionFile.entrusted_unit: unit, PetitionFile.bureau_handles: bool(data.get("bureau_handles")),
            PetitionFile.payer: payer, PetitionFile.updated_at: now,
        }).where(PetitionFile.case == case_id)
    elif key == "request_aid":
        await WorkRecord.insert(WorkRecord(case=case_id, kind="aid", data=msgspec.json.encode(data).decode(),
                                           recorded_by=None, created_at=now))
    f = await PetitionFile.select(PetitionFile.grade).where(PetitionFile.case == case_id).first()
    if f is not None and event["status"] not in {"closed", "archived"}:
        await _set_major_flag(case_id, f["grade"] == "major")
