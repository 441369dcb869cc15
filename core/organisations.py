"""The organisation registry (名册): filing (备案), the standardisation checklist, screening rounds
(排查) and the supervisor's overview of rooms and mediators.

Counts are aggregated in SQL (``GROUP BY``), never by loading case rows into Python.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx, room_scope
from core.cases import NotFound, Refused
from core.db import is_sqlite
from core.lifecycle import OPEN_STATUSES
from core.mediators import FULL_TIME_TARGET
from core.tables import Case, FollowUp, MediatorProfile, Organisation, Room, ScreeningRound, User

__all__ = [
    "CHECKLIST",
    "SCREENING_INTERVALS",
    "FilingIn",
    "ScreeningIn",
    "org_in_scope",
    "organisations_in_scope",
    "save_filing",
    "record_screening",
    "screening_status",
    "overview",
    "mediator_performance",
]

# 四落实五有六统一七公开 (seeds/000: the county plan spells each group out)
CHECKLIST: dict[str, tuple[tuple[str, str], ...]] = {
    "四落实": (("org", "落实组织"), ("staff", "落实人员"), ("premises", "落实场所"), ("funds", "落实经费")),
    "五有": (("sign", "有牌子"), ("seal", "有印章"), ("rules", "有制度"), ("ledger", "有台账"),
             ("office", "有办公设施")),
    "六统一": (("u_sign", "统一牌子"), ("u_seal", "统一印章"), ("u_logo", "统一标识"), ("u_rules", "统一工作制度"),
             ("u_procedure", "统一工作程序"), ("u_documents", "统一台账文书")),
    "七公开": (("p_logo", "公开标识"), ("p_slogan", "公开口号"), ("p_members", "公开调委会人员名单"),
             ("p_principles", "公开调解原则"), ("p_procedure", "公开调解程序"), ("p_discipline", "公开工作纪律"),
             ("p_rights", "公开当事人权利义务")),
}
CHECKLIST_KEYS = tuple(k for items in CHECKLIST.values() for k, _ in items)

SCREENING_INTERVALS = {"village": 7, "township": 31, "county": 92}
"""Maximum days between screening rounds: villages weekly, townships monthly, the county quarterly."""
SCREENING_LABELS = {"village": "村（居）每周", "township": "乡镇（街道）每月", "county": "县（区）每季度"}


class FilingIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    filing_no: Annotated[str, Meta(title="备案号", max_length=64)] | None = None
    filed_on: Annotated[dt.date, Meta(title="备案日期")] | None = None
    checklist: Annotated[list[str], Meta(title="规范化建设（四落实五有六统一七公开）")] = []

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if bool(self.filing_no) != bool(self.filed_on):
            problems.append(("filed_on" if self.filing_no else "filing_no", "备案号和备案日期须同时填写"))
        if any(k not in CHECKLIST_KEYS for k in self.checklist):
            problems.append(("checklist", "未知的检查项"))
        return problems


class ScreeningIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    level: Annotated[Literal["village", "township", "county"], Meta(title="排查层级", extra={"labels": SCREENING_LABELS})]
    conducted_on: Annotated[dt.date, Meta(title="排查日期")]
    disputes_found: Annotated[int, Meta(title="排查出的纠纷数", ge=0, le=100000)] = 0
    risks_found: Annotated[int, Meta(title="其中有激化风险的", ge=0, le=100000)] = 0
    findings: Annotated[str, Meta(title="排查情况", min_length=2, max_length=5000, extra={"widget": "textarea"})]

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.risks_found > self.disputes_found:
            problems.append(("risks_found", "有风险的纠纷数不能多于排查出的纠纷数"))
        if self.conducted_on > clock.today():
            problems.append(("conducted_on", "排查日期不能晚于今天"))
        return problems


async def organisations_in_scope(actor: UserCtx) -> list[dict[str, Any]]:
    rooms = await Room.select(Room.organisation).where(room_scope(actor))
    ids = sorted({r["organisation"] for r in rooms if r["organisation"] is not None})
    if actor.role == "admin":
        return await Organisation.select().order_by(Organisation.name).output(load_json=True)
    return await Organisation.select().where(Organisation.id.is_in(ids or [-1])).order_by(Organisation.name
                                                                                          ).output(load_json=True)


async def org_in_scope(actor: UserCtx, org_id: int) -> dict[str, Any]:
    org = next((o for o in await organisations_in_scope(actor) if o["id"] == org_id), None)
    if org is None:
        raise NotFound("调解组织不存在或无权查看")
    return org


async def save_filing(actor: UserCtx, org_id: int, data: FilingIn) -> None:
    await org_in_scope(actor, org_id)  # out of scope → 404 before any role check (no existence leak)
    if actor.role not in {"supervisor", "admin"}:
        raise Refused("只有督导或管理员可以维护组织名册")
    await Organisation.update({
        Organisation.filing_no: data.filing_no or "", Organisation.filed_on: data.filed_on,
        Organisation.checklist: msgspec.json.encode({k: k in data.checklist for k in CHECKLIST_KEYS}).decode(),
    }).where(Organisation.id == org_id)


async def record_screening(actor: UserCtx, org_id: int, data: ScreeningIn, room_id: int | None = None) -> None:
    await org_in_scope(actor, org_id)
    await ScreeningRound.insert(ScreeningRound(
        organisation=org_id, room=room_id, level=data.level, conducted_on=data.conducted_on,
        disputes_found=data.disputes_found, risks_found=data.risks_found, findings=data.findings,
        recorded_by=actor.id, created_at=clock.now()))


async def screening_status(org_id: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per level: the last round, when the next is due, and whether it is overdue."""
    today = today or clock.today()
    out = []
    for level, days in SCREENING_INTERVALS.items():
        last = await ScreeningRound.select(ScreeningRound.conducted_on).where(
            ScreeningRound.organisation == org_id, ScreeningRound.level == level
        ).order_by(ScreeningRound.conducted_on, ascending=False).first()
        last_on = last["conducted_on"] if last else None
        due = last_on + dt.timedelta(days=days) if last_on else None
        out.append({"level": level, "label": SCREENING_LABELS[level], "last": last_on, "due": due,
                    "overdue": due is not None and due < today, "never": last_on is None})
    return out


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.001")) if whole else None


async def overview(actor: UserCtx, today: dt.date | None = None) -> dict[str, Any]:
    """Rooms with open/overdue/settled counts and success rates; mediators and the full-time share
    per organisation against the 20% target; filing and checklist completion."""
    today = today or clock.today()
    rooms = await Room.select(Room.id, Room.name, Room.channel, Room.organisation,
                              Room.organisation.name.as_alias("org_name")).where(room_scope(actor)).order_by(Room.name)
    ids = [r["id"] for r in rooms] or [-1]
    open_values = [s.value for s in OPEN_STATUSES]
    marks = ", ".join("{}" for _ in ids)
    status_marks = ", ".join("{}" for _ in open_values)
    counts = await Case.raw(
        "SELECT room, "
        f"SUM(CASE WHEN status IN ({status_marks}) THEN 1 ELSE 0 END) AS open, "
        f"SUM(CASE WHEN status IN ({status_marks}) AND deadline < {{}} THEN 1 ELSE 0 END) AS overdue, "
        "SUM(CASE WHEN outcome LIKE 'settled%' THEN 1 ELSE 0 END) AS settled, "
        "SUM(CASE WHEN outcome = 'not_settled' THEN 1 ELSE 0 END) AS not_settled, "
        "COUNT(*) AS total "
        f"FROM core_case WHERE room IN ({marks}) GROUP BY room",
        *open_values, *open_values, today, *ids)
    by_room = {c["room"]: c for c in counts}
    for r in rooms:
        c = by_room.get(r["id"], {})
        r.update({k: int(c.get(k) or 0) for k in ("open", "overdue", "settled", "not_settled", "total")})
        r["success_rate"] = _rate(r["settled"], r["settled"] + r["not_settled"])
    orgs = await organisations_in_scope(actor)
    mediators = await User.select(User.id, User.room, User.organisation).where(User.role == "mediator",
                                                                             User.active == True)  # noqa: E712
    profiles = {p["user"]: p for p in await MediatorProfile.select(MediatorProfile.user, MediatorProfile.employment)}
    room_org = {r["id"]: r["organisation"] for r in await Room.select(Room.id, Room.organisation)}
    for o in orgs:
        members = [m for m in mediators if room_org.get(m["room"]) == o["id"]]
        full = sum(1 for m in members if (profiles.get(m["id"]) or {}).get("employment") == "full_time")
        o["mediators"] = len(members)
        o["full_time"] = full
        o["full_time_share"] = _rate(full, len(members))
        o["full_time_ok"] = bool(members) and Decimal(full) / len(members) >= FULL_TIME_TARGET
        checklist = o.get("checklist") or {}
        o["checklist_done"] = sum(1 for k in CHECKLIST_KEYS if checklist.get(k))
        o["checklist_total"] = len(CHECKLIST_KEYS)
        o["screening"] = await screening_status(o["id"], today)
    return {"rooms": rooms, "organisations": orgs, "target": FULL_TIME_TARGET, "today": today}


async def mediator_performance(actor: UserCtx) -> list[dict[str, Any]]:
    """Per mediator in scope: cases handled, settled, success rate, average days to close, and the
    follow-up outcomes of their settled cases (performed, satisfied, later litigation)."""
    rooms = Room.select(Room.id).where(room_scope(actor))
    mediators = await User.select(User.id, User.display_name, User.room.name.as_alias("room_name")).where(
        User.role == "mediator", User.room.is_in(rooms)).order_by(User.display_name)
    ids = [m["id"] for m in mediators] or [-1]
    marks = ", ".join("{}" for _ in ids)
    days = ("julianday(closed_at) - julianday(registered_at)" if is_sqlite()
            else "EXTRACT(EPOCH FROM (closed_at - registered_at)) / 86400.0")
    cases = {r["mediator"]: r for r in await Case.raw(
        "SELECT mediator, COUNT(*) AS handled, "
        "SUM(CASE WHEN outcome LIKE 'settled%' THEN 1 ELSE 0 END) AS settled, "
        "SUM(CASE WHEN outcome = 'not_settled' THEN 1 ELSE 0 END) AS not_settled, "
        f"AVG(CASE WHEN closed_at IS NOT NULL THEN {days} END) AS avg_days "
        f"FROM core_case WHERE mediator IN ({marks}) GROUP BY mediator", *ids)}
    follow = {r["mediator"]: r for r in await FollowUp.raw(
        "SELECT c.mediator AS mediator, COUNT(*) AS done, "
        "SUM(CASE WHEN f.performance = 'performed' THEN 1 ELSE 0 END) AS performed, "
        "SUM(CASE WHEN f.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied, "
        "SUM(CASE WHEN f.later_litigation <> '' THEN 1 ELSE 0 END) AS litigated "
        "FROM core_followup f JOIN core_case c ON c.id = f.\"case\" "
        f"WHERE f.done_on IS NOT NULL AND c.mediator IN ({marks}) GROUP BY c.mediator", *ids)}
    out = []
    for m in mediators:
        c = cases.get(m["id"], {})
        f = follow.get(m["id"], {})
        settled, not_settled = int(c.get("settled") or 0), int(c.get("not_settled") or 0)
        done = int(f.get("done") or 0)
        out.append({
            **m, "handled": int(c.get("handled") or 0), "settled": settled,
            "success_rate": _rate(settled, settled + not_settled),
            "avg_days": round(float(c["avg_days"]), 1) if c.get("avg_days") is not None else None,
            "followups": done, "performed_rate": _rate(int(f.get("performed") or 0), done),
            "satisfied_rate": _rate(int(f.get("satisfied") or 0), done), "litigated": int(f.get("litigated") or 0),
        })
    return out
