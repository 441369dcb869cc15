"""Expert pools (专家库) and consultations (专家咨询), as rules over the industry tables.

- A committee's pool has categories; a category is **active** with at least :data:`MIN_POOL` active
  experts (DOMAIN.md: "per category at least 5 experts"; 医疗纠纷预防和处理条例 第三十五条).
- A case of a committee may request a consultation in an active category; it is **completed** once
  :data:`MIN_OPINIONS` experts of that same category have given written opinions.
- An expert with a conflict of interest (回避, 条例 第三十七条) is recorded as recused and may not give
  an opinion in that consultation; an expert gives at most one opinion per consultation.
- Every step is written to the case's event log in the same transaction; opinions are part of the
  case file (the ``industry_expert_opinions`` document, 卷宗 item 证据材料).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx
from core.cases import NotFound, Refused, load_case, write_event
from core.db import write_transaction
from core.forms import FormErrors
from core.lifecycle import OPEN_STATUSES
from core.sql import Read, fetch, rows_read
from plugins.industry.tables import Consultation, Expert, Opinion, Recusal

if TYPE_CHECKING:
    from plugins.industry.model import Committee

__all__ = ["MIN_POOL", "MIN_OPINIONS", "ExpertIn", "ConsultationIn", "OpinionIn", "RecusalIn", "add_expert",
           "set_expert_active", "pool_status", "experts_of", "request_consultation", "record_opinion",
           "record_recusal", "consultations_for_case"]

MIN_POOL = 5
MIN_OPINIONS = 2
STAFF = {"supervisor", "admin"}
_OPEN = {s.value for s in OPEN_STATUSES}


class ExpertIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category: Annotated[str, Meta(title="专业类别", min_length=1, max_length=64)]
    name: Annotated[str, Meta(title="姓名", min_length=1, max_length=100)]
    employer: Annotated[str, Meta(title="工作单位", max_length=200)] | None = None
    title: Annotated[str, Meta(title="职称/职务", max_length=100)] | None = None


class ConsultationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    category: Annotated[str, Meta(title="咨询专业类别", min_length=1, max_length=64)]
    question: Annotated[str, Meta(title="咨询事项", min_length=4, max_length=2000, extra={"widget": "textarea"})]


class OpinionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    consultation: Annotated[int, Meta(title="咨询", ge=1)]
    expert: Annotated[int, Meta(title="专家", ge=1)]
    opinion: Annotated[str, Meta(title="书面意见", min_length=10, max_length=10000, extra={"widget": "textarea"})]
    given_on: Annotated[dt.date, Meta(title="出具日期")]


class RecusalIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    consultation: Annotated[int, Meta(title="咨询", ge=1)]
    expert: Annotated[int, Meta(title="专家", ge=1)]
    reason: Annotated[str, Meta(title="回避事由", min_length=2, max_length=1000, extra={"widget": "textarea"})]


# ----------------------------------------------------------------------------- the pool


async def add_expert(c: Committee, actor: UserCtx, data: ExpertIn) -> int:
    if actor.role not in STAFF:
        raise Refused("只有督导或管理员可以维护专家库")
    if c.category(data.category) is None:
        raise FormErrors({"category": "该委员会没有此专业类别"})
    async with write_transaction():
        rows = await Expert.insert(Expert(
            committee=c.key, category=data.category, name=data.name.strip(), employer=(data.employer or "").strip(),
            title=(data.title or "").strip(), active=True, added_by=actor.id, created_at=clock.now(),
        )).returning(Expert.id)
    return int(rows[0]["id"])


async def set_expert_active(c: Committee, actor: UserCtx, expert_id: int, active: bool) -> None:
    if actor.role not in STAFF:
        raise Refused("只有督导或管理员可以维护专家库")
    async with write_transaction():
        changed = await Expert.update({Expert.active: active}).where(
            (Expert.id == expert_id) & (Expert.committee == c.key)).returning(Expert.id)
    if not changed:
        raise NotFound("专家不存在")


async def experts_of(c: Committee) -> list[dict[str, Any]]:
    return await Expert.select().where(Expert.committee == c.key).order_by(Expert.category).order_by(Expert.id)


def pool_read(c: Committee) -> Read:
    """The statement of :func:`pool_status` (to batch; :func:`pool_from` reads its rows)."""
    return Read("SELECT category, COUNT(*) AS n FROM industry_expert WHERE committee = {} AND active = {} "
                "GROUP BY category", (c.key, True))


def case_pool_read(case_id: int) -> Read:
    """The statement of :func:`pool_status` for the committee of a case's channel, by the case's id —
    what the case page can read in its batch before it knows the channel (no rows for a case of no
    committee)."""
    return Read("SELECT category, COUNT(*) AS n FROM industry_expert WHERE committee = "
                "(SELECT channel FROM core_case WHERE id = {}) AND active = {} GROUP BY category", (case_id, True))


async def pool_status(c: Committee) -> list[dict[str, Any]]:
    """Per category: label, number of active experts, whether the pool is active."""
    read = pool_read(c)
    return pool_from(c, await fetch(read.sql, *read.args))


def pool_from(c: Committee, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[str, int] = {r["category"]: int(r["n"]) for r in rows}
    return [{"key": cat.key, "label": cat.label, "count": counts.get(cat.key, 0),
             "active": counts.get(cat.key, 0) >= MIN_POOL} for cat in c.expert_categories]


# ----------------------------------------------------------------------------- consultations


async def _committee_case(committees: dict[str, Committee], case_id: int, user: UserCtx) -> tuple[dict, Committee]:
    case = await load_case(case_id, user, for_update=True)  # out of scope → NotFound first
    c = committees.get(case["channel"])
    if c is None:
        raise Refused("本案件不属于行业性专业性人民调解委员会，不能申请专家咨询")
    if user.role not in {"mediator", "supervisor", "admin"}:
        raise Refused("无权操作")
    return case, c


async def request_consultation(committees: dict[str, Committee], case_id: int, user: UserCtx,
                               data: ConsultationIn) -> int:
    async with write_transaction():
        case, c = await _committee_case(committees, case_id, user)
        if case["status"] not in _OPEN:
            raise Refused("案件已办结，不能再申请专家咨询")
        cat = c.category(data.category)
        if cat is None:
            raise FormErrors({"category": "该委员会没有此专业类别"})
        active = await Expert.count().where(
            (Expert.committee == c.key) & (Expert.category == cat.key) & (Expert.active == True))  # noqa: E712
        if active < MIN_POOL:
            raise FormErrors({"category": f"“{cat.label}”类专家仅 {active} 名，不足 {MIN_POOL} 名，专家库尚未启用"})
        if await Consultation.exists().where((Consultation.case == case_id) & (Consultation.category == cat.key)
                                             & (Consultation.status == "open")):
            raise Refused(f"本案已有进行中的“{cat.label}”专家咨询")
        rows = await Consultation.insert(Consultation(
            case=case_id, committee=c.key, category=cat.key, question=data.question.strip(), status="open",
            requested_by=user.id, requested_at=clock.now())).returning(Consultation.id)
        cid = int(rows[0]["id"])
        await write_event(case_id, "industry.consultation_requested", actor=user,
                          data={"consultation": cid, "category": cat.key, "category_label": cat.label})
    return cid


async def _consultation(case_id: int, cid: int) -> dict[str, Any]:
    row = await Consultation.select().where((Consultation.id == cid) & (Consultation.case == case_id)).first()
    if row is None:
        raise FormErrors({"consultation": "本案没有该专家咨询"})
    return row


async def _expert_for(cons: dict[str, Any], expert_id: int) -> dict[str, Any]:
    expert = await Expert.select().where(Expert.id == expert_id).first()
    if expert is None or expert["committee"] != cons["committee"]:
        raise FormErrors({"expert": "专家不在本委员会专家库中"})
    if expert["category"] != cons["category"]:
        raise FormErrors({"expert": "出具意见的专家须属于本次咨询的同一专业类别"})
    return expert


async def record_recusal(committees: dict[str, Committee], case_id: int, user: UserCtx, data: RecusalIn) -> None:
    async with write_transaction():
        await _committee_case(committees, case_id, user)
        cons = await _consultation(case_id, data.consultation)
        expert = await _expert_for(cons, data.expert)
        if await Opinion.exists().where((Opinion.consultation == cons["id"]) & (Opinion.expert == expert["id"])):
            raise Refused("该专家已出具意见；如存在应回避情形，请重新申请咨询")
        if await Recusal.exists().where((Recusal.consultation == cons["id"]) & (Recusal.expert == expert["id"])):
            raise Refused("已记录该专家回避")
        await Recusal.insert(Recusal(consultation=cons["id"], expert=expert["id"], reason=data.reason.strip(),
                                     recorded_by=user.id, created_at=clock.now()))
        await write_event(case_id, "industry.expert_recused", actor=user,
                          data={"consultation": cons["id"], "expert": expert["name"], "reason": data.reason.strip()})


async def record_opinion(committees: dict[str, Committee], case_id: int, user: UserCtx, data: OpinionIn) -> bool:
    """Record an expert's written opinion; returns whether the consultation is now completed."""
    async with write_transaction():
        await _committee_case(committees, case_id, user)
        cons = await _consultation(case_id, data.consultation)
        if cons["status"] != "open":
            raise Refused("该专家咨询已完成")
        expert = await _expert_for(cons, data.expert)
        if not expert["active"]:
            raise FormErrors({"expert": "该专家已停用"})
        if await Recusal.exists().where((Recusal.consultation == cons["id"]) & (Recusal.expert == expert["id"])):
            raise FormErrors({"expert": "该专家在本次咨询中已回避，不能出具意见"})
        if await Opinion.exists().where((Opinion.consultation == cons["id"]) & (Opinion.expert == expert["id"])):
            raise FormErrors({"expert": "该专家已出具意见"})
        if data.given_on > clock.today() or data.given_on < cons["requested_at"].astimezone(clock.TZ).date():
            raise FormErrors({"given_on": "出具日期应在申请咨询之日与今天之间"})
        await Opinion.insert(Opinion(consultation=cons["id"], expert=expert["id"], opinion=data.opinion.strip(),
                                     given_on=data.given_on, recorded_by=user.id, created_at=clock.now()))
        await write_event(case_id, "industry.opinion_recorded", actor=user,
                          data={"consultation": cons["id"], "expert": expert["name"]})
        done = await Opinion.count().where(Opinion.consultation == cons["id"]) >= MIN_OPINIONS
        if done:
            await Consultation.update({Consultation.status: "completed", Consultation.completed_at: clock.now()}).where(
                Consultation.id == cons["id"])
            await write_event(case_id, "industry.consultation_completed", actor=user,
                              data={"consultation": cons["id"], "category": cons["category"]})
    return done


def consultations_read(case_id: int) -> Read:
    """The case's consultations (plain SQL, core.sql: every committee case page reads them)."""
    return rows_read(Consultation, "case", case_id)


async def consultations_for_case(c: Committee | None, case_id: int,
                                 rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The case's consultations with their opinions and recusals (for the panel and the case file);
    ``rows``: those of :func:`consultations_read`, if already read."""
    if rows is None:
        read = consultations_read(case_id)
        rows = await fetch(read.sql, *read.args)
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    opinions = await Opinion.select(Opinion.all_columns(), Opinion.expert.name.as_alias("expert_name"),
                                    Opinion.expert.employer.as_alias("expert_employer"),
                                    Opinion.expert.title.as_alias("expert_title")).where(
        Opinion.consultation.is_in(ids)).order_by(Opinion.id)
    recusals = await Recusal.select(Recusal.all_columns(), Recusal.expert.name.as_alias("expert_name")).where(
        Recusal.consultation.is_in(ids)).order_by(Recusal.id)
    for r in rows:
        cat = c.category(r["category"]) if c else None
        r["category_label"] = cat.label if cat else r["category"]
        r["opinions"] = [o for o in opinions if o["consultation"] == r["id"]]
        r["recusals"] = [x for x in recusals if x["consultation"] == r["id"]]
    return rows
