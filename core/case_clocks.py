"""Operations on a case's clocks: pause (time not counted), resume, extend, and the overdue sweep.

Each runs in one write transaction with the case row locked, recomputes ``Case.deadline`` and writes
its event to the case log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import clock
from core.access import UserCtx
from core.cases import Refused, write_event, load_case
from core.db import write_transaction
from core.sql import Read, fetch_many, rows_read
from core.deadline_service import check_extension, recompute_deadline
from core.deadlines import DeadlineError, Extension, ExtensionMode
from core.forms import FormErrors
from core.lifecycle import OPEN_STATUSES, CoreStatus
from core.registry import Registry
from core.tables import Case, CaseClockEntry, CaseEvent

__all__ = [
    "TOLLING_LABELS", "clock_entries", "pause_clock", "resume_clock", "extend_clock", "sweep_overdue",
    "sweep_forever", "run_sweep_hooks",
]


TOLLING_LABELS = {
    "appraisal": "鉴定",
    "hearing": "听证",
    "investigation": "调查取证",
    "consultation": "专家咨询",
}
"""Chinese labels of common tolling events (rules may use others; the key is shown then)."""


def entries_read(case_id: int) -> Read:
    """The clock entries of a case (pauses, resumptions, extensions), with the recorder's name."""
    return rows_read(CaseClockEntry, "case", case_id, user_names=[("recorder", "recorded_by")])


async def clock_entries(case_id: int) -> list[dict[str, Any]]:
    return (await fetch_many(entries_read(case_id)))[0]


async def _main_rule(reg: Registry, case_id: int, user: UserCtx):
    case = await load_case(case_id, user, for_update=True)
    rule = reg.deadline_rules.get(case["deadline_rule"])
    if rule is None or case["clock_started_on"] is None:
        raise Refused("该案件没有正在计算的期限")
    if CoreStatus(case["status"]) not in OPEN_STATUSES:
        raise Refused("案件已办结，期限不再计算")
    return case, rule


async def _store_deadline(reg: Registry, case: dict[str, Any]) -> dt.date | None:
    due = recompute_deadline(reg, case, await clock_entries(case["id"]))
    await Case.update({Case.deadline: due, Case.updated_at: clock.now()}).where(Case.id == case["id"])
    return due


async def pause_clock(reg: Registry, case_id: int, user: UserCtx, *, event: str, start_on: dt.date,
                      reason: str) -> dt.date | None:
    """Stop the main clock for a tolling event of its rule (e.g. an appraisal); returns the new due date."""
    async with write_transaction():
        case, rule = await _main_rule(reg, case_id, user)
        if event not in rule.tolling_events:
            raise FormErrors({"event": "该期限规则不因此事项暂停计算"})
        if start_on < case["clock_started_on"] or start_on > clock.today():
            raise FormErrors({"start_on": "暂停日期应在期限起算日与今天之间"})
        entries = await clock_entries(case_id)
        if any(e["kind"] == "pause" and e["end_on"] is None and e["rule"] == rule.key for e in entries):
            raise Refused("期限已在暂停中")
        await CaseClockEntry.insert(CaseClockEntry(
            case=case_id, rule=rule.key, kind="pause", event=event, start_on=start_on, reason=reason,
            recorded_by=user.id, created_at=clock.now()))
        due = await _store_deadline(reg, case)
        await write_event(case_id, "case.clock_paused", actor=user,
                           data={"rule": rule.key, "event": event, "start_on": start_on.isoformat(), "reason": reason})
    return due


async def resume_clock(reg: Registry, case_id: int, user: UserCtx, *, end_on: dt.date) -> dt.date | None:
    """Let the main clock run again from ``end_on``; returns the new due date."""
    async with write_transaction():
        case, rule = await _main_rule(reg, case_id, user)
        entries = await clock_entries(case_id)
        open_pause = next((e for e in entries if e["kind"] == "pause" and e["end_on"] is None
                           and e["rule"] == rule.key), None)
        if open_pause is None:
            raise Refused("期限没有暂停")
        if end_on < open_pause["start_on"] or end_on > clock.today():
            raise FormErrors({"end_on": "恢复日期应在暂停日期与今天之间"})
        await CaseClockEntry.update({CaseClockEntry.end_on: end_on}).where(CaseClockEntry.id == open_pause["id"])
        due = await _store_deadline(reg, case)
        await write_event(case_id, "case.clock_resumed", actor=user,
                           data={"rule": rule.key, "end_on": end_on.isoformat(), "deadline": due.isoformat() if due else None})
    return due


async def extend_clock(reg: Registry, case_id: int, user: UserCtx, *, days: int, by: str, reason: str) -> dt.date | None:
    """Extend the main clock (by the parties' consent or with approval, within the rule's cap)."""
    async with write_transaction():
        case, rule = await _main_rule(reg, case_id, user)
        if rule.extension is ExtensionMode.NONE:
            raise Refused(f"“{rule.label}”不能延长")
        new = Extension(days=days, granted_on=clock.today(), by=by, reason=reason, mode=rule.extension)
        try:
            check_extension(rule, await clock_entries(case_id), new)
        except DeadlineError as exc:
            raise FormErrors({"days": str(exc)}) from None
        await CaseClockEntry.insert(CaseClockEntry(
            case=case_id, rule=rule.key, kind="extension", event=rule.extension.value, start_on=clock.today(),
            days=days, by=by, reason=reason, recorded_by=user.id, created_at=clock.now()))
        due = await _store_deadline(reg, case)
        await write_event(case_id, "case.clock_extended", actor=user,
                           data={"rule": rule.key, "days": days, "by": by, "reason": reason,
                                 "deadline": due.isoformat() if due else None})
    return due


async def sweep_overdue(reg: Registry, today: dt.date | None = None) -> int:
    """Write one ``case.deadline_passed`` event for each open case whose due date has passed
    (and has no such event for that due date yet); refresh due dates of paused clocks first.
    Returns the number of events written. Safe to run repeatedly and from several processes."""
    today = today or clock.today()
    open_values = [s.value for s in OPEN_STATUSES]
    paused = await CaseClockEntry.select(CaseClockEntry.case).where(CaseClockEntry.end_on.is_null(),
                                                                     CaseClockEntry.kind == "pause")
    for row in paused:
        async with write_transaction():
            case = await load_case(row["case"], None, for_update=True)
            if case["status"] in open_values:
                await _store_deadline(reg, case)
    written = 0
    due_rows = await Case.select(Case.id, Case.deadline).where(
        Case.status.is_in(open_values), Case.deadline < today, Case.clock_started_on.is_not_null())
    for row in due_rows:
        async with write_transaction():
            case = await load_case(row["id"], None, for_update=True)
            if case["status"] not in open_values or case["deadline"] is None or case["deadline"] >= today:
                continue
            seen = await CaseEvent.select(CaseEvent.data).where(
                CaseEvent.case == case["id"], CaseEvent.type == "case.deadline_passed").output(load_json=True)
            if any(e["data"].get("deadline") == case["deadline"].isoformat() for e in seen):
                continue
            await write_event(case["id"], "case.deadline_passed", actor=None, actor_label="系统",
                               data={"deadline": case["deadline"].isoformat(), "rule": case["deadline_rule"]})
            written += 1
    return written


async def run_sweep_hooks(reg: Registry) -> None:
    """Run every plugin's ``fengqiao_sweep`` once; a failing one is logged and the others still run."""
    import logging

    from core.plugins import await_me_maybe

    log = logging.getLogger("fengqiao.sweep")
    for impl in reversed(reg.pm.hook.fengqiao_sweep.get_hookimpls()):
        try:
            await await_me_maybe(impl.function(**{k: reg for k in impl.argnames}))
        except Exception:
            log.exception("periodic work of plugin %s failed", impl.plugin_name)


async def sweep_forever(reg: Registry, interval: float, stop: Any) -> None:
    """Run :func:`sweep_overdue` now and then every ``interval`` seconds until ``stop`` (an
    ``asyncio.Event``) is set. A failing sweep is logged and retried at the next interval."""
    import asyncio
    import logging

    log = logging.getLogger("fengqiao.deadlines")
    while not stop.is_set():
        try:
            written = await sweep_overdue(reg)
            if written:
                log.info("deadline sweep: %d case(s) passed their deadline", written)
        except Exception:  # keep the loop alive; the next run retries
            log.exception("deadline sweep failed")
        await run_sweep_hooks(reg)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
