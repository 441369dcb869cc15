"""Risk flags and early warnings (预警).

Flagging a case (may escalate, may turn criminal, group dispute of 10+ people, petition risk) raises
a warning and notifies — in the application — the supervisors of the case's organisation and the
agencies the deployment names for that flag (``[warnings.agencies]`` in settings), recording who was
told and when (``core_warning_notice``). A registration with 10 or more people raises the group
flag by itself. Settled cases that carried the criminal or petition flag count as prevented
escalations in the statistics.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core import clock
from core.access import UserCtx
from core.cases import Refused, load_case, write_event
from core.lifecycle import OPEN_STATUSES
from core.db import write_transaction
from core.sql import Read, fetch, rows_read
from core.forms import FormErrors
from core.registry import Registry
from core.tables import Case, RiskWarning, Room, User, WarningNotice

__all__ = ["GROUP_SIZE", "set_flags", "raise_warning", "unread_warnings", "mark_read", "warnings_of_case"]

GROUP_SIZE = 10


async def raise_warning(reg: Registry, case: dict[str, Any], flag: str, note: str, actor: UserCtx | None) -> int:
    """Insert a warning and its notices (inside the caller's transaction); return the warning id."""
    now = clock.now()
    rows = await RiskWarning.insert(RiskWarning(case=case["id"], flag=flag, note=note,
                                                raised_by=actor.id if actor else None, raised_at=now)
                                    ).returning(RiskWarning.id)
    warning_id = int(rows[0]["id"])
    room = await Room.select(Room.organisation).where(Room.id == case["room"]).first()
    supervisors = await User.select(User.id, User.username).where(
        User.role == "supervisor", User.active == True, User.organisation == room["organisation"])  # noqa: E712
    for s in supervisors:
        await WarningNotice.insert(WarningNotice(warning=warning_id, recipient_kind="user", recipient=s["username"],
                                                 user=s["id"], sent_at=now))
    agencies = reg.settings.raw.get("warnings", {}).get("agencies", {}).get(flag, [])
    for agency in agencies:
        await WarningNotice.insert(WarningNotice(warning=warning_id, recipient_kind="agency", recipient=str(agency),
                                                 sent_at=now))
    await write_event(case["id"], "case.warning_raised", actor=actor, actor_label="" if actor else "系统",
                      data={"flag": flag, "note": note,
                            "notified": [s["username"] for s in supervisors] + [str(a) for a in agencies]})
    return warning_id


async def set_flags(reg: Registry, case_id: int, actor: UserCtx, flags: list[str], note: str) -> list[str]:
    """Set the case's risk flags to exactly ``flags``: new ones raise warnings, removed ones clear them."""
    unknown = [f for f in flags if not reg.codes.has("risk_flag", f)]
    if unknown:
        raise FormErrors({"flags": "未知的风险标记"})
    async with write_transaction():
        case = await load_case(case_id, actor, for_update=True)
        if case["status"] not in {s.value for s in OPEN_STATUSES}:
            raise Refused("案件已办结，风险标记不能再更改")
        before = set(case["risk_flags"] or [])
        after = set(flags)
        for flag in sorted(after - before):
            await raise_warning(reg, case, flag, note, actor)
        if before - after:
            await RiskWarning.update({RiskWarning.cleared_at: clock.now()}).where(
                RiskWarning.case == case_id, RiskWarning.flag.is_in(sorted(before - after)),
                RiskWarning.cleared_at.is_null())
            await write_event(case_id, "case.warning_cleared", actor=actor, data={"flags": sorted(before - after)})
        await Case.update({Case.risk_flags: msgspec.json.encode(sorted(after)).decode(),
                           Case.updated_at: clock.now()}).where(Case.id == case_id)
    return sorted(after - before)


def warnings_reads(case_id: int) -> tuple[Read, Read]:
    """The statements of :func:`warnings_of_case` (the warnings, their notices), to batch with others;
    :func:`with_notices` puts their rows together."""
    return (rows_read(RiskWarning, "case", case_id, user_names=[("raiser", "raised_by")]),
            Read('SELECT n.* FROM core_warning_notice n JOIN core_risk_warning w ON w.id = n.warning '
                 'WHERE w."case" = {} ORDER BY n.id', (case_id,)))


def with_notices(warnings: list[dict[str, Any]], notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for w in warnings:
        w["notices"] = [n for n in notices if n["warning"] == w["id"]]
    return warnings


async def warnings_of_case(case_id: int) -> list[dict[str, Any]]:
    warnings, notices = warnings_reads(case_id)
    rows = await fetch(warnings.sql, *warnings.args)
    return with_notices(rows, await fetch(notices.sql, *notices.args) if rows else [])


async def unread_warnings(user: UserCtx) -> list[dict[str, Any]]:
    """Warnings sent to ``user`` and not yet read, newest first."""
    return await WarningNotice.select(
        WarningNotice.id, WarningNotice.sent_at, WarningNotice.warning.flag.as_alias("flag"),
        WarningNotice.warning.case.as_alias("case_id"), WarningNotice.warning.case.number.as_alias("number"),
        WarningNotice.warning.note.as_alias("note"),
    ).where(WarningNotice.user == user.id, WarningNotice.read_at.is_null()).order_by(WarningNotice.id, ascending=False)


async def mark_read(user: UserCtx, notice_id: int) -> bool:
    rows = await WarningNotice.update({WarningNotice.read_at: clock.now()}).where(
        WarningNotice.id == notice_id, WarningNotice.user == user.id, WarningNotice.read_at.is_null()
    ).returning(WarningNotice.id)
    return bool(rows)
