"""Bridge between the case engine and the legal calendar (``core.deadlines``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from core import clock
from core.deadlines import Clock, compute_clock

if TYPE_CHECKING:
    from core.registry import Registry

__all__ = ["deadline_for", "case_clock"]


def deadline_for(reg: Registry, rule_key: str, started_on: dt.date) -> dt.date | None:
    """Due date of ``rule_key`` for a clock starting on ``started_on``, or ``None`` without a rule."""
    rule = reg.deadline_rules.get(rule_key) if rule_key else None
    if rule is None:
        return None
    return compute_clock(rule, reg.calendar, started_on, started_on).due


def case_clock(reg: Registry, case: dict[str, Any], today: dt.date | None = None) -> Clock | None:
    """The running clock of an accepted, still open case (``None`` when no clock runs)."""
    rule = reg.deadline_rules.get(case.get("deadline_rule") or "")
    accepted = case.get("accepted_at")
    if rule is None or accepted is None or case.get("closed_at") is not None:
        return None
    if case["status"] not in {"accepted", "in_mediation"}:
        return None
    started = accepted.astimezone(clock.TZ).date() if isinstance(accepted, dt.datetime) else accepted
    return compute_clock(rule, reg.calendar, started, today or clock.today())
