"""Mediators: profiles (持证上岗, 等级评定, 专长), training records, recusals (回避) and assignment.

A mediator may be assigned to a case only with a certificate that is valid on the day, only within
the case's organisation, and never when recused from that case. Suggestions rank eligible mediators
by speciality (the case's dispute type), then by open caseload.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx, room_scope
from core.cases import NotFound, Refused, load_case, write_event
from core.db import write_transaction
from core.lifecycle import OPEN_STATUSES
from core.sql import fetch, json_columns
from core.tables import Case, MediatorProfile, Recusal, Room, Training, User

__all__ = [
    "ProfileIn",
    "TrainingIn",
    "RecusalIn",
    "Suggestion",
    "certificate_problem",
    "save_profile",
    "add_training",
    "recuse",
    "assign_mediator",
    "suggest_mediators",
    "mediators_in_scope",
    "mediator_in_scope",
]

FULL_TIME_TARGET = Decimal("0.20")
"""Target share of full-time mediators per organisation (专职人民调解员比重 ≥ 20%)."""


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    employment: Annotated[
        Literal["full_time", "part_time"],
        Meta(title="专兼职", extra={"labels": {"full_time": "专职", "part_time": "兼职"}}),
    ] = "part_time"
    certificate_no: Annotated[str, Meta(title="调解员证书编号", max_length=64)] | None = None
    certificate_valid_until: Annotated[dt.date, Meta(title="证书有效期至")] | None = None
    star_grade: Annotated[int, Meta(title="星级（0 为未评定）", ge=0, le=5)] = 0
    specialities: Annotated[list[str], Meta(title="擅长的纠纷类型", extra={"codes": "dispute_type"})] = []
    public_employee: Annotated[bool, Meta(title="公职人员（不领取个案补贴）")] = False
    phone: Annotated[str, Meta(title="联系电话", max_length=20)] | None = None

    def check(self) -> list[tuple[str, str]]:
        if self.certificate_no and self.certificate_valid_until is None:
            return [("certificate_valid_until", "请填写证书有效期")]
        return []


class TrainingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    held_on: Annotated[dt.date, Meta(title="培训日期")]
    course: Annotated[str, Meta(title="培训内容", min_length=2, max_length=200)]
    hours: Annotated[Decimal, Meta(title="学时")]
    organiser: Annotated[str, Meta(title="举办单位", max_length=200)] | None = None

    def check(self) -> list[tuple[str, str]]:
        if not self.hours.is_finite() or self.hours <= 0 or self.hours > 200:
            return [("hours", "学时应在 0 到 200 之间")]
        return []


class RecusalIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    user_id: Annotated[int, Meta(title="回避的调解员")]
    reason: Annotated[str, Meta(title="回避事由", min_length=2, max_length=500, extra={"widget": "textarea"})]


def certificate_problem(profile: dict[str, Any] | None, on: dt.date | None = None) -> str | None:
    """Why a mediator may not work a case (持证上岗), or ``None``."""
    on = on or clock.today()
    if profile is None or not profile.get("certificate_no"):
        return "未取得调解员证书，不能承办案件（持证上岗）"
    until = profile.get("certificate_valid_until")
    if until is None or until < on:
        return "调解员证书已过期，不能承办案件（持证上岗）"
    return None


async def mediator_in_scope(actor: UserCtx, user_id: int) -> dict[str, Any]:
    """A mediator user inside the actor's scope, else :class:`NotFound`."""
    rooms = [r["id"] for r in await Room.select(Room.id).where(room_scope(actor))]
    row = await User.select().where(User.id == user_id, User.role == "mediator").first()
    if row is None or row["room"] not in rooms:
        raise NotFound("调解员不存在或无权管理")
    return row


async def save_profile(actor: UserCtx, user_id: int, data: ProfileIn, codes: Any) -> None:
    """Create or update a mediator's registry entry (supervisors of the organisation, admins)."""
    await mediator_in_scope(actor, user_id)  # out of scope → 404 before any role check
    if actor.role not in {"supervisor", "admin"}:
        raise Refused("只有督导或管理员可以维护调解员名册")
    unknown = [c for c in data.specialities if not codes.has("dispute_type", c)]
    if unknown:
        from core.forms import FormErrors

        raise FormErrors({"specialities": "未知的纠纷类型代码：" + "、".join(unknown)})
    values = {
        MediatorProfile.employment: data.employment,
        MediatorProfile.certificate_no: (data.certificate_no or "").strip(),
        MediatorProfile.certificate_valid_until: data.certificate_valid_until,
        MediatorProfile.star_grade: data.star_grade,
        MediatorProfile.specialities: msgspec.json.encode(data.specialities).decode(),
        MediatorProfile.public_employee: data.public_employee,
        MediatorProfile.phone: (data.phone or "").strip(),
        MediatorProfile.updated_at: clock.now(),
    }
    async with write_transaction():
        if await MediatorProfile.exists().where(MediatorProfile.user == user_id):
            await MediatorProfile.update(values).where(MediatorProfile.user == user_id)
        else:
            await MediatorProfile.insert(MediatorProfile(user=user_id, **{c._meta.name: v for c, v in values.items()}))


async def add_training(actor: UserCtx, user_id: int, data: TrainingIn) -> None:
    await mediator_in_scope(actor, user_id)
    if actor.role not in {"supervisor", "admin"}:
        raise Refused("只有督导或管理员可以登记培训")
    await Training.insert(Training(user=user_id, held_on=data.held_on, course=data.course, hours=data.hours,
                                   organiser=data.organiser or "", created_at=clock.now()))


async def recuse(case_id: int, actor: UserCtx, data: RecusalIn) -> None:
    """Record that a mediator must not handle the case; unassign them if they were assigned."""
    async with write_transaction():
        case = await load_case(case_id, actor, for_update=True)
        mediator = await User.select(User.id, User.display_name, User.room).where(
            User.id == data.user_id, User.role == "mediator").first()
        room = await Room.select(Room.organisation).where(Room.id == case["room"]).first()
        same_org = mediator and (await Room.select(Room.organisation).where(Room.id == mediator["room"]).first() or {}
                                 ).get("organisation") == room["organisation"]
        if not mediator or not same_org:
            raise NotFound("调解员不存在")
        await Recusal.insert(Recusal(case=case_id, user=data.user_id, reason=data.reason, recorded_by=actor.id,
                                     created_at=clock.now()))
        if case["mediator"] == data.user_id:
            await Case.update({Case.mediator: None, Case.updated_at: clock.now()}).where(Case.id == case_id)
        await write_event(case_id, "case.recusal_recorded", actor=actor,
                          data={"mediator": mediator["display_name"], "reason": data.reason})


@dataclass(frozen=True)
class Suggestion:
    user_id: int
    name: str
    room: str
    eligible: bool
    problem: str
    speciality_match: bool
    open_cases: int
    star_grade: int
    employment: str


async def suggest_mediators(case: dict[str, Any]) -> list[Suggestion]:
    """Mediators of the case's organisation, eligible first, then speciality match, then lighter load."""
    # plain SQL (core.sql): the case page asks for this on every view of an open case
    # the case's room and the other rooms of its organisation (a room without one: itself only)
    mediators = await fetch(
        "SELECT u.id, u.display_name, r.name AS room_name FROM core_user u JOIN core_room r ON r.id = u.room "
        "WHERE u.role = 'mediator' AND u.active = {} AND (r.id = {} OR r.organisation = "
        "(SELECT organisation FROM core_room WHERE id = {}))", True, case["room"], case["room"])
    ids = [m["id"] for m in mediators]
    profiles = {p["user"]: p for p in await fetch(
        'SELECT * FROM core_mediator_profile WHERE "user" IN (' + ", ".join("{}" for _ in ids or [-1]) + ")",
        *(ids or [-1]), load_json=json_columns(MediatorProfile))}
    recused = {r["user"] for r in await fetch('SELECT "user" FROM core_recusal WHERE "case" = {}', case["id"])}
    loads: dict[int, int] = {}
    open_values = [s.value for s in OPEN_STATUSES]
    for row in await Case.raw(  # the open caseload of these mediators only
        "SELECT mediator, COUNT(*) AS n FROM core_case WHERE status IN ("
        + ", ".join("{}" for _ in open_values) + ") AND mediator IN ("
        + ", ".join("{}" for _ in ids or [-1]) + ") GROUP BY mediator", *open_values, *(ids or [-1])):
        loads[row["mediator"]] = row["n"]
    dispute = case["dispute_type"].split(".", 1)[0]
    out = []
    for m in mediators:
        profile = profiles.get(m["id"])
        problem = "已回避本案" if m["id"] in recused else certificate_problem(profile) or ""
        specs = [s.split(".", 1)[0] for s in (profile or {}).get("specialities", [])]
        out.append(Suggestion(
            user_id=m["id"], name=m["display_name"], room=m["room_name"], eligible=not problem, problem=problem,
            speciality_match=dispute in specs, open_cases=loads.get(m["id"], 0),
            star_grade=(profile or {}).get("star_grade", 0), employment=(profile or {}).get("employment", "")))
    out.sort(key=lambda s: (not s.eligible, not s.speciality_match, s.open_cases, -s.star_grade, s.user_id))
    return out


async def assign_mediator(case_id: int, actor: UserCtx, user_id: int) -> str:
    """Make ``user_id`` the case's mediator; refused for the uncertified, expired or recused."""
    async with write_transaction():
        case = await load_case(case_id, actor, for_update=True)
        if case["status"] not in {s.value for s in OPEN_STATUSES}:
            raise Refused("案件已办结，不能再指派调解员")
        choice = next((s for s in await suggest_mediators(case) if s.user_id == user_id), None)
        if choice is None:
            raise NotFound("调解员不存在")
        if not choice.eligible:
            raise Refused(f"{choice.name}：{choice.problem}")
        await Case.update({Case.mediator: user_id, Case.updated_at: clock.now()}).where(Case.id == case_id)
        await write_event(case_id, "case.mediator_assigned", actor=actor, data={"mediator": choice.name})
    return choice.name


async def mediators_in_scope(actor: UserCtx) -> list[dict[str, Any]]:
    """Mediators of the rooms the actor may see, with their profile and training hours."""
    rooms = Room.select(Room.id).where(room_scope(actor))
    users = await User.select(User.id, User.username, User.display_name, User.room,
                              User.room.name.as_alias("room_name"), User.organisation).where(
        User.role == "mediator", User.room.is_in(rooms)).order_by(User.display_name)
    ids = [u["id"] for u in users] or [-1]
    profiles = {p["user"]: p for p in await MediatorProfile.select().where(MediatorProfile.user.is_in(ids))
                .output(load_json=True)}
    hours: dict[int, Decimal] = {}
    for t in await Training.select(Training.user, Training.hours).where(Training.user.is_in(ids)):
        hours[t["user"]] = hours.get(t["user"], Decimal(0)) + Decimal(t["hours"])
    return [{**u, "profile": profiles.get(u["id"]),
             "training_hours": hours.get(u["id"], Decimal(0)).quantize(Decimal("0.1")),
             "certificate_problem": certificate_problem(profiles.get(u["id"]))} for u in users]
