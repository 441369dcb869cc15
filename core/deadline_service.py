"""Running clocks of cases: the bridge between the case engine and the legal calendar.

A case has a **main clock** — its intake form's ``deadline_rule`` — which starts on the rule's
``starts_on`` event (a protocol state key or core status such as ``accepted``; ``registered`` for
clocks that run from receipt). Until it starts, ``Case.deadline`` holds the due date projected from
the registration day, so a referring partner always gets a date. Once a written or oral agreement takes
effect, the core rule ``general_judicial_confirmation`` (人民调解法 第三十三条: joint application within
30 days) runs as a second clock.

Pauses (time that does not count, e.g. an appraisal 鉴定) and extensions are stored in
``core_case_clock_entry``; every change recomputes ``Case.deadline`` in the same transaction and is
written to the case's event log. :func:`sweep_overdue` writes one ``case.deadline_passed`` event per
passed due date (for reminders and supervision, 挂牌督办).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import clock
from core.deadlines import (
    Clock,
    DeadlineError,
    DeadlineRule,
    Extension,
    ExtensionMode,
    Pause,
    compute_clock,
    total_extension,
)
from core.lifecycle import OPEN_STATUSES

if TYPE_CHECKING:
    from core.registry import Registry

__all__ = [
    "CONFIRMATION_RULE",
    "CaseClock",
    "case_clocks",
    "clock_starts",
    "deadline_for",
    "main_clock",
    "recompute_deadline",
]

CONFIRMATION_RULE = "general_judicial_confirmation"
_OPEN = {s.value for s in OPEN_STATUSES}


@dataclass(frozen=True)
class CaseClock:
    """A clock as shown on a case page: the computed :class:`Clock` plus what may be done with it."""

    clock: Clock
    role: str  # "main" | "confirmation"
    entries: tuple[dict[str, Any], ...]
    can_pause: bool
    can_resume: bool
    can_extend: bool


def deadline_for(reg: Registry, rule_key: str, started_on: dt.date) -> dt.date | None:
    """Due date of ``rule_key`` for a clock starting on ``started_on``, or ``None`` without a rule."""
    rule = reg.deadline_rules.get(rule_key) if rule_key else None
    if rule is None:
        return None
    return compute_clock(rule, reg.calendar, started_on, started_on).due


def clock_starts(rule: DeadlineRule | None, state_key: str, status: str) -> bool:
    """Whether entering ``state_key`` (with core ``status``) starts ``rule``'s clock."""
    return rule is not None and rule.starts_on in {state_key, status}


def _pauses(entries: list[dict[str, Any]], rule: DeadlineRule) -> tuple[Pause, ...]:
    return tuple(
        Pause(event=e["event"], start=e["start_on"], end=e["end_on"])
        for e in entries
        if e["kind"] == "pause" and e["rule"] == rule.key
    )


def _extensions(entries: list[dict[str, Any]], rule: DeadlineRule) -> tuple[Extension, ...]:
    return tuple(
        Extension(days=e["days"], granted_on=e["start_on"], by=e["by"], reason=e["reason"],
                  mode=ExtensionMode(e["event"]))
        for e in entries
        if e["kind"] == "extension" and e["rule"] == rule.key
    )


def main_clock(
    reg: Registry, case: dict[str, Any], entries: list[dict[str, Any]], today: dt.date | None = None
) -> Clock | None:
    """The main clock of a case whose clock has started and which is still open."""
    rule = reg.deadline_rules.get(case.get("deadline_rule") or "")
    started = case.get("clock_started_on")
    if rule is None or started is None or case["status"] not in _OPEN:
        return None
    return compute_clock(rule, reg.calendar, started, today or clock.today(), _pauses(entries, rule),
                         _extensions(entries, rule))


def recompute_deadline(reg: Registry, case: dict[str, Any], entries: list[dict[str, Any]]) -> dt.date | None:
    """What ``Case.deadline`` should hold now (the main clock's due date, or the projection)."""
    rule = reg.deadline_rules.get(case.get("deadline_rule") or "")
    if rule is None:
        return None
    started = case.get("clock_started_on")
    if started is None:
        return deadline_for(reg, rule.key, clock.today())
    return compute_clock(rule, reg.calendar, started, clock.today(), _pauses(entries, rule),
                         _extensions(entries, rule)).due


def case_clocks(
    reg: Registry,
    case: dict[str, Any],
    entries: list[dict[str, Any]],
    agreement: dict[str, Any] | None,
    today: dt.date | None = None,
) -> list[CaseClock]:
    """Every clock running on a case, for its page."""
    today = today or clock.today()
    out: list[CaseClock] = []
    main = main_clock(reg, case, entries, today)
    if main is not None:
        rule = main.rule
        open_pause = any(p.end is None for p in main.pauses)
        out.append(
            CaseClock(
                clock=main,
                role="main",
                entries=tuple(e for e in entries if e["rule"] == rule.key),
                can_pause=bool(rule.tolling_events) and not open_pause,
                can_resume=open_pause,
                can_extend=rule.extension is not ExtensionMode.NONE,
            )
        )
    confirmation = reg.deadline_rules.get(CONFIRMATION_RULE)
    effective = (agreement or {}).get("signed_on")
    if (
        confirmation is not None
        and effective is not None
        and case["status"] in {"settled", "closed", "archived"}
        and (agreement or {}).get("form") == "written"
    ):
        c = compute_clock(confirmation, reg.calendar, effective, today)
        if c.days_left >= -30:  # keep showing it for a month after it ran out
            out.append(CaseClock(clock=c, role="confirmation", entries=(), can_pause=False, can_resume=False,
                                 can_extend=False))
    return out


def check_extension(rule: DeadlineRule, entries: list[dict[str, Any]], new: Extension) -> None:
    """Raise :class:`DeadlineError` if ``new`` may not be granted on top of what was granted."""
    total_extension(rule, [*_extensions(entries, rule), new])
