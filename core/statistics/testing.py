"""Helpers for tests (ours and plugin authors'): drive cases through the real engine at chosen
instants, and compare the incremental rollups with a from-scratch rebuild."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from core import clock
from core.access import UserCtx
from core.cases import apply_transition, create_case, record_session, save_agreement
from core.intake import CaseIntake, PartyIn
from core.records import AgreementIn, SessionIn
from core.registry import Registry
from core.statistics.tables import Rollup

__all__ = ["at", "register", "step", "settle", "rollup_snapshot", "rebuilt_snapshot"]


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """An instant in China time."""
    return dt.datetime(year, month, day, hour, tzinfo=clock.TZ)


async def register(reg: Registry, room: dict[str, Any], user: UserCtx, cipher: Any, *, when: dt.datetime,
                   dispute_type: str = "neighbour", source: str | None = None, amount: str | None = None,
                   people_count: int = 2, channel: str = "general", kind: str = "walk_in") -> int:
    """Register a case at ``when`` through the case engine; returns its id."""
    form = reg.form(channel, kind)
    clock.freeze(when)
    try:
        created = await create_case(
            reg, room=room, form=form,
            intake=CaseIntake(summary="统计测试案件", dispute_type=dispute_type, source=source,
                              amount=Decimal(amount) if amount else None, people_count=people_count),
            parties=[PartyIn(role="applicant", name="张三"), PartyIn(role="respondent", name="李四")],
            fields=form.schema(), actor=user, cipher=cipher)
    finally:
        clock.freeze(None)
    return int(created["id"])


async def step(reg: Registry, case_id: int, key: str, user: UserCtx | None, when: dt.datetime,
               data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Take transition ``key`` at ``when``."""
    clock.freeze(when)
    try:
        return await apply_transition(reg, case_id, key, user, data or {})
    finally:
        clock.freeze(None)


async def settle(reg: Registry, case_id: int, user: UserCtx, when: dt.datetime, *, amount: str | None = None,
                 oral: bool = False) -> None:
    """Record a session and an agreement (written and signed, or oral), then settle at ``when``."""
    clock.freeze(when)
    try:
        await record_session(reg, case_id, user, SessionIn(held_at=when, place="调解室", attendees="双方当事人",
                                                           record="双方陈述意见"))
        if oral:
            agreement = AgreementIn(form="oral", terms="当面赔礼道歉", amount=Decimal(amount) if amount else None)
        else:
            day = when.astimezone(clock.TZ).date()
            agreement = AgreementIn(form="written", facts="双方确认纠纷事实和各自责任", terms="被申请人向申请人支付款项",
                                    amount=Decimal(amount) if amount else None, performance_method="一次性现金支付",
                                    performance_deadline=day + dt.timedelta(days=10), signed_by_parties=True,
                                    signed_by_mediator=True, sealed=True, signed_on=day)
        await save_agreement(reg, case_id, user, agreement)
        await apply_transition(reg, case_id, "settle", user)
    finally:
        clock.freeze(None)


async def rollup_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row with a non-zero count, in a stable order (ids left out)."""
    from core.statistics.tables import MEASURES

    measures = ", ".join(MEASURES)
    rows = await Rollup.raw(f"SELECT dim, room, organisation, period, channel, v1, v2, {measures} FROM stats_rollup")
    rollup = sorted(tuple(r.values()) for r in rows if any(r[m] for m in MEASURES))
    rows = await Rollup.raw("SELECT statistic, room, organisation, period, channel, value FROM stats_indicator")
    indicator = sorted(tuple(r.values()) for r in rows if r["value"])
    rows = await Rollup.raw('SELECT "case", period, organisation, room, channel, kind, dispute_type, source, mediator, '
                            "status, outcome, amount_fen, people_count, risk_flags, performed FROM stats_conclusion")
    conclusion = sorted(tuple(bool(v) if k == "performed" else v for k, v in r.items()) for r in rows)
    return {"rollup": rollup, "indicator": indicator, "conclusion": conclusion}


async def rebuilt_snapshot(reg: Registry) -> dict[str, list[tuple[Any, ...]]]:
    """Rebuild the rollups from scratch and snapshot them."""
    from core.statistics.rollups import rebuild_rollups

    await rebuild_rollups(reg)
    return await rollup_snapshot()
