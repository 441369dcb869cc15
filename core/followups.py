"""Follow-up visits (回访): scheduled from each agreement's performance deadline, then recorded.

When a case settles, a follow-up is due ``followup_days`` (setting ``[followup] days_after_deadline``,
default 7) after the agreement's performance deadline — or 30 days after signing when the agreement
sets no deadline. The record captures performance, satisfaction, a later lawsuit or judgment, signs
of escalation and measures taken; a follow-up recorded as performed marks the agreement performed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx, case_scope
from core.cases import Refused, load_case, write_event
from core.db import write_transaction
from core.sql import Read, fetch_many, rows_read
from core.plugins import await_each
from core.registry import Registry
from core.tables import Agreement, Case, FollowUp

__all__ = ["FollowUpIn", "schedule_followup", "record_followup", "overdue_followups", "followups_of_case"]

PERFORMANCE_LABELS = {"performed": "已履行", "partial": "部分履行", "not_performed": "未履行"}
SATISFACTION_LABELS = {"satisfied": "满意", "neutral": "基本满意", "dissatisfied": "不满意"}


class FollowUpIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    done_on: Annotated[dt.date, Meta(title="回访日期")]
    performance: Annotated[Literal["performed", "partial", "not_performed"],
                           Meta(title="协议履行情况", extra={"labels": PERFORMANCE_LABELS})]
    satisfaction: Annotated[Literal["satisfied", "neutral", "dissatisfied"],
                            Meta(title="当事人满意度", extra={"labels": SATISFACTION_LABELS})]
    later_litigation: Annotated[str, Meta(title="是否另行起诉或已有判决", max_length=500)] | None = None
    escalation_signs: Annotated[str, Meta(title="有无激化迹象", max_length=500)] | None = None
    measures: Annotated[str, Meta(title="采取的措施", max_length=1000, extra={"widget": "textarea"})] | None = None
    notes: Annotated[str, Meta(title="回访记录", max_length=2000, extra={"widget": "textarea"})] | None = None


def followup_due(reg: Registry, agreement: dict[str, Any]) -> dt.date:
    days = int(reg.settings.raw.get("followup", {}).get("days_after_deadline", 7))
    deadline = agreement.get("performance_deadline")
    if isinstance(deadline, str):
        deadline = dt.date.fromisoformat(deadline)
    if deadline:
        return deadline + dt.timedelta(days=days)
    signed = agreement.get("signed_on") or agreement.get("date")
    if isinstance(signed, str):
        signed = dt.date.fromisoformat(signed)
    return (signed or clock.today()) + dt.timedelta(days=30)


async def schedule_followup(reg: Registry, case_id: int) -> dt.date | None:
    """Schedule the follow-up of a settled case (inside the caller's transaction); idempotent."""
    if await FollowUp.exists().where(FollowUp.case == case_id, FollowUp.done_on.is_null()):
        return None
    agreement = await Agreement.select().where(Agreement.case == case_id).first()
    if agreement is None:
        return None
    due = followup_due(reg, agreement)
    await FollowUp.insert(FollowUp(case=case_id, due_on=due, created_at=clock.now()))
    return due


async def record_followup(reg: Registry, case_id: int, actor: UserCtx | None, data: FollowUpIn, *,
                          actor_label: str = "") -> None:
    """Record the pending follow-up of a case. ``actor`` is the visiting mediator, or ``None`` when
    the party answered the questionnaire online (``actor_label`` then says so)."""
    async with write_transaction():
        await load_case(case_id, actor, for_update=True)
        pending = await FollowUp.select().where(FollowUp.case == case_id, FollowUp.done_on.is_null()).first()
        if pending is None:
            raise Refused("本案没有待办的回访")
        await FollowUp.update({
            FollowUp.done_on: data.done_on, FollowUp.performance: data.performance,
            FollowUp.satisfaction: data.satisfaction, FollowUp.later_litigation: data.later_litigation or "",
            FollowUp.escalation_signs: data.escalation_signs or "", FollowUp.measures: data.measures or "",
            FollowUp.notes: data.notes or "", FollowUp.visitor: actor.id if actor else None,
        }).where(FollowUp.id == pending["id"])
        fulfilment = {"performed": "performed", "partial": "partial", "not_performed": "breached"}[data.performance]
        await Agreement.update({Agreement.fulfilment: fulfilment, Agreement.updated_at: clock.now()}).where(
            Agreement.case == case_id)
        if data.performance != "performed":  # keep following up until it is performed
            await FollowUp.insert(FollowUp(case=case_id, due_on=data.done_on + dt.timedelta(days=30),
                                           created_at=clock.now()))
        await write_event(case_id, "case.followup_recorded", actor=actor, actor_label=actor_label,
                          data={"performance": data.performance, "satisfaction": data.satisfaction,
                                "online": actor is None})
        await await_each(reg.pm.hook.fengqiao_agreement_fulfilment_changed(case_id=case_id, registry=reg))


def followups_read(case_id: int) -> Read:
    return rows_read(FollowUp, "case", case_id, user_names=[("visitor_name", "visitor")])


async def followups_of_case(case_id: int) -> list[dict[str, Any]]:
    return (await fetch_many(followups_read(case_id)))[0]


async def overdue_followups(user: UserCtx, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Pending follow-ups due on or before today in the user's scope, oldest first."""
    today = today or clock.today()
    visible = Case.select(Case.id).where(case_scope(user))
    return await FollowUp.select(FollowUp.id, FollowUp.due_on, FollowUp.case, FollowUp.case.number.as_alias("number"),
                                 FollowUp.case.summary.as_alias("summary")).where(
        FollowUp.done_on.is_null(), FollowUp.due_on <= today, FollowUp.case.is_in(visible)).order_by(FollowUp.due_on)
