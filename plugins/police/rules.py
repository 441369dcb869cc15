"""The police channel's rules that need the database: session checks (guardian, second-session
window), the clocks shown on the case panel, the automatic appraisal pause, the guardian record and the
performance event to the station.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx
from core.cases import Refused, load_case, write_event
from core.db import write_transaction
from core.deadline_service import recompute_deadline
from core.deadlines import Clock, Pause, compute_clock
from core.lifecycle import CoreStatus
from core.registry import Registry
from core.queries import case_file
from core.sql import fetch, fetch_one
from core.tables import Agreement, Case, CaseClockEntry

from plugins.police.forms import EXCLUSION_LABELS
from plugins.police.protocol import ReturnForm, eligibility_problems, guardian_problem, intake_of

__all__ = ["GuardianIn", "check_session", "panel_clocks", "pause_for_appraisal", "record_guardian",
           "performance_event", "return_if_excluded"]

MAX_PUBLIC_ORDER_SESSIONS = 2


def _local_date(value: dt.datetime | str) -> dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(clock.TZ).date()


def second_session_clock(reg: Registry, first_held: dt.datetime, today: dt.date | None = None) -> Clock | None:
    rule = reg.deadline_rules.get("police_second_session")
    if rule is None:
        return None
    return compute_clock(rule, reg.calendar, _local_date(first_held), today or clock.today())


def check_session(reg: Registry, case: dict[str, Any], session: dict[str, Any],
                  sessions: list[dict[str, Any]]) -> str | dict[str, str] | None:
    """The police rules for recording a session (called through ``fengqiao_check_session``)."""
    if case.get("channel") != "police":
        return None
    problem = guardian_problem(case)
    if problem:
        return problem
    intake = intake_of(case)
    guardian = (intake.get("guardian_name") or "").strip()
    if intake.get("minor_involved") and guardian and guardian not in (session.get("attendees") or ""):
        return {"attendees": f"涉及未成年人的调解，其监护人（{guardian}）须到场：请在参加人员中写明"
                             "（公安机关办理行政案件程序规定 第一百八十一条）"}
    if case.get("kind") != "public_order" or not sessions:
        return None
    if len(sessions) >= MAX_PUBLIC_ORDER_SESSIONS:
        return "治安调解一般为一次，必要时可以增加一次，本案已调解两次，不能再次调解（公安机关办理行政案件程序规定 第一百八十三条）"
    first = min(s["held_at"] for s in sessions)
    held = session["held_at"]
    if _local_date(held) < _local_date(first):
        return {"held_at": "第二次调解的时间不能早于第一次调解"}
    window = second_session_clock(reg, first)
    if window is not None and _local_date(held) > window.due:
        return {"held_at": f"第二次调解应当在第一次调解后七个工作日内完成（最迟 {window.due.isoformat()}），"
                           "已超出期限（公安机关办理行政案件程序规定 第一百八十三条）"}
    return None


async def panel_clocks(reg: Registry, case: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """What the police panel shows about time: first session (met or due), the second-session window
    and the station's own case limit (context)."""
    today = today or clock.today()
    sessions = (await case_file(case["id"]))["sessions"]  # by held_at; on the case page: read already
    entries = await fetch('SELECT * FROM core_case_clock_entry WHERE "case" = {} AND kind = {}', case["id"], "pause")
    out: dict[str, Any] = {"sessions": len(sessions), "first": None, "second": None, "station": None}
    first_due = case.get("deadline") if case.get("clock_started_on") else None
    if sessions:
        held = _local_date(sessions[0]["held_at"])
        out["first"] = {"held_on": held, "due": first_due, "late": bool(first_due and held > first_due)}
        if case.get("kind") == "public_order":
            window = second_session_clock(reg, sessions[0]["held_at"], today)
            if window is not None:
                out["second"] = {"due": window.due, "used": len(sessions) >= 2,
                                 "open": len(sessions) < 2 and today <= window.due,
                                 "citation": window.citation_text}
    elif first_due:
        out["first"] = {"held_on": None, "due": first_due, "late": today > first_due}
    rule = reg.deadline_rules.get("police_station_case_limit")
    started = intake_of(case).get("station_accepted_on")
    restarted = await fetch_one(
        'SELECT created_at FROM core_case_event WHERE "case" = {} AND type IN ({}, {}) ORDER BY id DESC LIMIT 1',
        case["id"], "case.not_settled", "police.agreement_breached")
    if restarted is not None:  # 程序规定 第一百八十五条: the station's limit runs from the failure or breach
        started = restarted["created_at"].astimezone(clock.TZ).date()
    out["station_restarted"] = restarted is not None
    if rule is not None and started:
        started = dt.date.fromisoformat(started) if isinstance(started, str) else started
        pauses = [Pause(event="appraisal", start=e["start_on"], end=e["end_on"]) for e in entries
                  if e["event"] == "appraisal"]
        c = compute_clock(rule, reg.calendar, started, today, pauses)
        out["station"] = {"started_on": started, "due": c.due, "days_left": c.days_left, "state": c.state,
                          "extended_due": compute_clock(replace(rule, limit=rule.limit + (rule.extension_cap or 0)),
                                                        reg.calendar, started, today, pauses).due,
                          "citation": c.citation_text}
    return out


async def pause_for_appraisal(reg: Registry, event: dict[str, Any]) -> None:
    """On acceptance of a transfer whose injury or value appraisal is pending, stop the first-session
    clock from the day of acceptance (it runs again when the mediator records the appraisal result)."""
    if event["channel"] != "police" or event["transition"] != "accept":
        return
    case = await Case.select().where(Case.id == event["case_id"]).output(load_json=True).first()
    if intake_of(case).get("appraisal_pending", "none") == "none" or case["clock_started_on"] is None:
        return
    rule = reg.deadline_rules.get(case["deadline_rule"])
    if rule is None or "appraisal" not in rule.tolling_events:
        return
    start = case["clock_started_on"]
    await CaseClockEntry.insert(CaseClockEntry(
        case=case["id"], rule=rule.key, kind="pause", event="appraisal", start_on=start,
        reason="移交时伤情或价值鉴定尚待结果，首次调解期限自鉴定结论作出之日起计算", created_at=clock.now()))
    entries = await CaseClockEntry.select().where(CaseClockEntry.case == case["id"])
    due = recompute_deadline(reg, case, entries)
    await Case.update({Case.deadline: due}).where(Case.id == case["id"])
    await write_event(case["id"], "case.clock_paused", actor=None, actor_label="系统",
                      data={"rule": rule.key, "event": "appraisal", "start_on": start.isoformat(),
                            "reason": "移交时鉴定待出结果"})


async def performance_event(reg: Registry, case_id: int) -> None:
    """Tell the station at once when a follow-up records the agreement performed (in the same
    transaction, through the signed outbox)."""
    case = await Case.select().where(Case.id == case_id).first()
    if case is None or case["channel"] != "police" or case["status"] != CoreStatus.SETTLED.value:
        return
    agreement = await Agreement.select().where(Agreement.case == case_id).first()
    if agreement is None or agreement["fulfilment"] != "performed":
        return
    data = {"agreement_number": agreement["number"],
            "performed_on": clock.today().isoformat(),
            "amount": None if agreement["amount"] is None else f"{agreement['amount']:.2f}"}
    partner = bool(case["partner_id"])
    event_id = await write_event(case_id, "police.agreement_performed", actor=None, actor_label="系统", data=data,
                                 partner_event=partner)
    if partner:
        from core.handoff.outbox import enqueue

        await enqueue({"event_id": event_id, "case_id": case_id, "case_number": case["number"],
                       "type": "police.agreement_performed", "partner_event": True,
                       "partner_id": case["partner_id"], "external_id": case["external_id"],
                       "occurred_at": clock.now(), "data": data})


class GuardianIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    guardian_name: Annotated[str, Meta(title="监护人姓名", min_length=1, max_length=50)]
    relation: Annotated[str, Meta(title="与未成年人的关系", min_length=1, max_length=20)]
    notified_on: Annotated[dt.date, Meta(title="通知到场日期")]


async def record_guardian(case_id: int, user: UserCtx, data: GuardianIn) -> None:
    """Record the guardian of the minor involved (so sessions may be scheduled)."""
    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        if case["channel"] != "police":
            raise Refused("只有警调对接案件需要登记监护人")
        if case["status"] not in {"registered", "accepted", "in_mediation"}:
            raise Refused("案件已办结，不能再登记监护人")
        intake = intake_of(case)
        intake.update(minor_involved=True, guardian_name=data.guardian_name.strip())
        await Case.update({Case.intake: msgspec.json.encode(intake).decode(), Case.updated_at: clock.now()}).where(
            Case.id == case_id)
        await write_event(case_id, "police.guardian_recorded", actor=user,
                          data={"guardian_name": data.guardian_name.strip(), "relation": data.relation,
                                "notified_on": data.notified_on.isoformat()})


async def return_if_excluded(reg: Registry, registered: dict[str, Any]) -> None:
    """The eligibility check at intake: a public-order transfer that names an exclusion of 程序规定
    第一百七十九条 is returned to the station at once, inside the registration's transaction (the
    station's system hears ``case.declined`` with the grounds)."""
    if registered["channel"] != "police" or registered["kind"] != "public_order":
        return
    case = await Case.select(Case.kind, Case.intake).where(Case.id == registered["id"]).output(load_json=True).first()
    found = eligibility_problems(case)
    if not found:
        return
    intake = intake_of(case)
    ground = next(k for k in EXCLUSION_LABELS if intake.get(f"excluded_{k}"))
    from core.cases import apply_transition

    reason = ("移交函载明" + "、".join(found) + "，依照《公安机关办理行政案件程序规定》第一百七十九条不适用调解，"
              "退回派出所依法处理")
    await apply_transition(reg, registered["id"], "return_to_station", None,
                           ReturnForm(ground=ground, reason=reason), actor_label="系统（受理审查）")
