"""What the host does to a committee's case: refuse dispute types the committee does not take, and
start the main clock from an intake date when the committee's rule runs from a fact (e.g. 治疗终结)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core import clock
from core.access import UserCtx
from core.cases import Refused, load_case, write_event
from core.db import write_transaction
from core.deadline_service import recompute_deadline
from core.forms import FormErrors
from core.lifecycle import OPEN_STATUSES
from core.tables import Case
from plugins.industry.model import Committee

__all__ = ["on_registered", "set_clock_start"]


async def on_registered(registry: Any, c: Committee, case: dict[str, Any]) -> None:
    """Inside the registration's transaction (raising rolls the case back)."""
    if not c.takes(case["dispute_type"]):
        labels = "、".join(registry.codes.label("dispute_type", d) for d in c.dispute_types)
        raise FormErrors({"dispute_type": f"{c.name}受理{labels}纠纷，不受理此类纠纷"})
    if c.clock_start_field:
        row = await Case.select(Case.intake, Case.deadline_rule).where(Case.id == case["id"]).output(
            load_json=True).first()
        start = c.clock_start(row["intake"] or {})
        if start is not None:
            await _start(registry, case["id"], row["deadline_rule"], start)


async def _start(registry: Any, case_id: int, rule: str, start: dt.date) -> dt.date | None:
    due = recompute_deadline(registry, {"deadline_rule": rule, "clock_started_on": start}, [])
    await Case.update({Case.clock_started_on: start, Case.deadline: due}).where(Case.id == case_id)
    return due


async def set_clock_start(registry: Any, c: Committee, case_id: int, user: UserCtx, start: dt.date) -> dt.date | None:
    """Record the start day later (e.g. treatment ended after registration); once only."""
    if not c.clock_start_field:
        raise Refused("该委员会的调解期限不按起算日计算")
    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        if case["channel"] != c.key:
            raise Refused("案件不属于该委员会")
        if case["clock_started_on"] is not None:
            raise Refused("调解期限已经起算")
        if case["status"] not in {s.value for s in OPEN_STATUSES}:
            raise Refused("案件已办结")
        if start > clock.today() or start < case["registered_at"].astimezone(clock.TZ).date() - dt.timedelta(days=365):
            raise FormErrors({"start_on": "起算日应在今天之前、登记前一年之内"})
        due = await _start(registry, case_id, case["deadline_rule"], start)
        await write_event(case_id, "case.clock_started", actor=user,
                          data={"rule": case["deadline_rule"], "start_on": start.isoformat(),
                                "deadline": due.isoformat() if due else None})
    return due
