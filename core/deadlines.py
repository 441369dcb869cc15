"""Deadline rules as data, and the running clock of one case under one rule.

A :class:`DeadlineRule` says how long a step may take, in which unit, from which event, what
pauses it and how it may be extended, with the legal citations. :func:`compute_clock` is a pure
function of a rule, a :class:`~core.calendar.WorkCalendar` and the clock facts of a case.

Semantics of :func:`compute_clock` (``started_on`` is the day of the clock-start event):

* **Start day not counted.** Counting begins the day after ``started_on``
  (期间开始的日不计算在内, 民事诉讼法 art. 85 ¶2).
* **Counted days.** For a calendar-day rule every calendar day counts; for a working-day rule
  only working days of the calendar count. A day covered by a *tolling pause* never counts.
* **Budget.** ``rule.limit`` plus the sum of all extension days, in the rule's unit.
* **Due date.** The day on which the budget's last counted day falls: for a working-day rule
  with no pauses that is ``calendar.add_workdays(started_on, budget)``, for a calendar-day rule
  ``started_on + budget`` days. A calendar-day due date that is not a working day (a statutory
  holiday or a weekend rest day) then rolls forward to the next working day (期间届满的最后一日
  是法定休假日的，以法定休假日后的第一日为期间届满的日期, art. 85 ¶3). A make-up working
  Saturday is a working day and does not roll.
* **Tolling pauses.** Only pauses whose ``event`` is in ``rule.tolling_events`` count; others
  are ignored (but still accepted). A pause covers the days ``start .. end - 1``: it stops the
  clock on its start day and the clock runs again on its end day. An open pause (``end is
  None``) is treated as ending *today*, so it covers ``start .. today - 1`` and the due date
  shown is the earliest possible one; it moves later each day the pause stays open. Pauses are
  merged as sets of days, so overlaps never count twice. Only days after ``started_on`` and up
  to the due date matter: a pause that begins after the (pre-roll-over) due date changes
  nothing, because the period had already run out. Hence a pause beginning on or before the
  due date that covers N counted days moves the due date by exactly N counted days (for a
  calendar-day rule: the date before roll-over moves by N days).
* **Extensions.** Allowed only when ``rule.extension`` is not ``NONE`` and each extension's
  mode equals it; their total may not exceed ``rule.extension_cap``. They add to the budget, so
  extending by a then b equals extending by a + b. The grant date is recorded, not checked.
* **days_left.** From today to the due date in the rule's unit: calendar days
  (``(due - today).days``) or ``calendar.workdays_between(today, due)``; negative when overdue.
* **state.** ``"overdue"`` if today is after the due date; else ``"paused"`` if a tolling pause
  is in force today (it has begun, and is open or ends after today); else ``"due_soon"`` if
  ``0 <= days_left <= due_soon_days``; else ``"running"``. A paused clock cannot be overdue.
* **provisional.** True when any working-day answer the result depends on came from the
  calendar's Monday–Friday fallback (a year without an official schedule): for calendar-day
  rules the dates checked for roll-over, for working-day rules every date from the earlier of
  ``started_on``/today to the later of due/today.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Literal, TypeVar

from core.calendar import WorkCalendar

__all__ = [
    "CORE_RULES", "GENERAL_JUDICIAL_CONFIRMATION", "GENERAL_MEDIATION", "Citation", "Clock",
    "ClockState", "DayUnit", "DeadlineError", "DeadlineRule", "Extension", "ExtensionMode",
    "Pause", "apply_overrides", "citation_text", "compute_clock", "rule_table", "total_extension",
]

_ONE_DAY = timedelta(days=1)
_SLUG = re.compile(r"[a-z0-9_]+")
_OVERRIDABLE_FIELDS = ("limit", "unit", "extension_cap", "extension")

ClockState = Literal["running", "paused", "due_soon", "overdue"]
_E = TypeVar("_E", bound=StrEnum)


class DeadlineError(ValueError):
    """A clock fact breaks its rule (e.g. an extension the rule does not allow)."""


class DayUnit(StrEnum):
    """How a rule counts days."""

    CALENDAR = "calendar"
    WORKING = "working"


class ExtensionMode(StrEnum):
    """How a rule's deadline may be extended."""

    NONE = "none"
    CONSENT = "consent"
    """By the parties' consent; unlimited unless the rule sets a cap."""
    APPROVAL = "approval"
    """By an approver's decision (e.g. the court president); the approver must be named."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coerce_enum(enum: type[_E], value: Any, where: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValueError(f"{where}: {value!r} is not a valid {enum.__name__} "
                         f"(allowed: {allowed})") from None


@dataclass(frozen=True)
class Citation:
    """A legal source: ``str()`` gives e.g. ``《人民调解法》第三十三条``.

    Raises:
        ValueError: ``law`` or ``article`` is empty.
    """

    law: str
    article: str
    note: str = ""

    def __post_init__(self) -> None:
        if not self.law.strip() or not self.article.strip():
            raise ValueError("a citation needs both a law and an article")

    def __str__(self) -> str:
        return f"《{self.law}》{self.article}"


@dataclass(frozen=True)
class DeadlineRule:
    """One deadline of one channel, as data (see the module docstring for the clock).

    Attributes:
        key: Namespaced ``<channel>_<name>`` slug, e.g. ``general_mediation``.
        label: Chinese label shown to users, e.g. ``调解期限``.
        limit: Length of the period, > 0, in ``unit``.
        unit: Calendar days or working days.
        starts_on: Name of the clock-start event, e.g. ``accepted``.
        citations: At least one legal source.
        tolling_events: Events whose pauses stop the clock, e.g. ``("appraisal",)``.
        extension: How the period may be extended.
        extension_cap: Maximum total extension in ``unit``; ``None`` means unlimited.
        overridable: Whether a deployment may override limit/unit/extension/extension_cap.
        label_en: Optional English label.

    Raises:
        ValueError: on any invalid field; strings are accepted for ``unit`` and
            ``extension`` and converted to the enums.
    """

    key: str
    label: str
    limit: int
    unit: DayUnit
    starts_on: str
    citations: tuple[Citation, ...]
    tolling_events: tuple[str, ...] = ()
    extension: ExtensionMode = ExtensionMode.NONE
    extension_cap: int | None = None
    overridable: bool = True
    label_en: str = ""

    def __post_init__(self) -> None:
        where = f"deadline rule {self.key!r}"
        if not isinstance(self.key, str) or not _SLUG.fullmatch(self.key):
            raise ValueError(f"{where}: key must be a slug of lowercase letters, digits and _")
        if not self.label.strip():
            raise ValueError(f"{where}: label must not be empty")
        if not _is_int(self.limit) or self.limit <= 0:
            raise ValueError(f"{where}: limit must be a positive integer, got {self.limit!r}")
        object.__setattr__(self, "unit", _coerce_enum(DayUnit, self.unit, f"{where} unit"))
        object.__setattr__(self, "extension",
                           _coerce_enum(ExtensionMode, self.extension, f"{where} extension"))
        if not isinstance(self.starts_on, str) or not _SLUG.fullmatch(self.starts_on):
            raise ValueError(f"{where}: starts_on must be an event name slug")
        citations = tuple(self.citations)
        if not citations or not all(isinstance(c, Citation) for c in citations):
            raise ValueError(f"{where}: at least one Citation is required")
        object.__setattr__(self, "citations", citations)
        events = tuple(self.tolling_events)
        if not all(isinstance(e, str) and e for e in events):
            raise ValueError(f"{where}: tolling_events must be non-empty event names")
        object.__setattr__(self, "tolling_events", events)
        if self.extension_cap is not None:
            if not _is_int(self.extension_cap) or self.extension_cap < 0:
                raise ValueError(f"{where}: extension_cap must be an integer >= 0 or None")
            if self.extension is ExtensionMode.NONE:
                raise ValueError(f"{where}: extension_cap needs an extension mode other than "
                                 f"'none'")


@dataclass(frozen=True)
class Pause:
    """A period during which a tolling event (e.g. ``appraisal``/鉴定) stops the clock.

    Covers the days ``start .. end - 1``; ``end is None`` means still running.

    Raises:
        ValueError: empty event, or ``end`` before ``start``.
    """

    event: str
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if not self.event:
            raise ValueError("a pause needs an event name")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"pause {self.event!r}: end {self.end} is before start {self.start}")


@dataclass(frozen=True)
class Extension:
    """An extension of ``days`` (in the rule's unit) granted on ``granted_on``.

    Raises:
        ValueError: ``days`` not positive, mode ``NONE``, or an approval without approver.
    """

    days: int
    granted_on: date
    by: str
    reason: str
    mode: ExtensionMode

    def __post_init__(self) -> None:
        if not _is_int(self.days) or self.days <= 0:
            raise ValueError(f"extension days must be a positive integer, got {self.days!r}")
        mode = _coerce_enum(ExtensionMode, self.mode, "extension mode")
        if mode is ExtensionMode.NONE:
            raise ValueError("an extension cannot have mode 'none'")
        if mode is ExtensionMode.APPROVAL and not self.by.strip():
            raise ValueError("an extension by approval must name the approver (by)")
        object.__setattr__(self, "mode", mode)


@dataclass(frozen=True)
class Clock:
    """The state of one rule's deadline for one case on one day (see module docstring)."""

    rule: DeadlineRule
    started_on: date
    due: date
    days_left: int
    paused: bool
    pauses: tuple[Pause, ...]
    """The pauses that are tolling events of the rule, sorted by start."""
    extensions: tuple[Extension, ...]
    provisional: bool
    state: ClockState
    citation_text: str


def total_extension(rule: DeadlineRule, extensions: Iterable[Extension]) -> int:
    """Total extension days after checking them against the rule.

    Use it to refuse a new grant: ``total_extension(rule, [*granted, new])``.

    Raises:
        DeadlineError: the rule allows no extension, a mode differs from the rule's, or the
            total exceeds ``rule.extension_cap``.
    """
    extensions = tuple(extensions)
    if not extensions:
        return 0
    if rule.extension is ExtensionMode.NONE:
        raise DeadlineError(f"该期限不得延长 / deadline {rule.key!r} cannot be extended")
    for ext in extensions:
        if ext.mode is not rule.extension:
            raise DeadlineError(
                f"延长方式不符：应为 {rule.extension.value} / deadline {rule.key!r} is extended "
                f"by {rule.extension.value!r}, not {ext.mode.value!r}")
    total = sum(ext.days for ext in extensions)
    if rule.extension_cap is not None and total > rule.extension_cap:
        raise DeadlineError(
            f"延长合计{total}日，超过上限{rule.extension_cap}日 / total extension of {total} "
            f"exceeds the cap of {rule.extension_cap} for deadline {rule.key!r}")
    return total


def _paused_days(pauses: Iterable[Pause], today: date) -> set[date]:
    days: set[date] = set()
    for p in pauses:
        d, end = p.start, p.end if p.end is not None else today
        while d < end:
            days.add(d)
            d += _ONE_DAY
    return days


def _count_forward(calendar: WorkCalendar, unit: DayUnit, started_on: date, budget: int,
                   paused: set[date]) -> date:
    """The day on which the ``budget``-th counted day after ``started_on`` falls."""
    d, counted = started_on, 0
    while counted < budget:
        d += _ONE_DAY
        if d in paused:
            continue
        if unit is DayUnit.CALENDAR or calendar.is_workday(d):
            counted += 1
    return d


def compute_clock(rule: DeadlineRule, calendar: WorkCalendar, started_on: date, today: date,
                  pauses: Iterable[Pause] = (), extensions: Iterable[Extension] = (),
                  due_soon_days: int = 3) -> Clock:
    """The clock of one case under ``rule`` as of ``today`` (semantics: module docstring).

    Raises:
        DeadlineError: the extensions break the rule (see :func:`total_extension`).
        ValueError: ``due_soon_days`` is negative.
    """
    if due_soon_days < 0:
        raise ValueError("due_soon_days must be >= 0")
    extensions = tuple(extensions)
    budget = rule.limit + total_extension(rule, extensions)
    tolling = tuple(sorted((p for p in pauses if p.event in rule.tolling_events),
                           key=lambda p: (p.start, p.end or date.max)))
    end = _count_forward(calendar, rule.unit, started_on, budget, _paused_days(tolling, today))

    if rule.unit is DayUnit.CALENDAR:
        due = end if calendar.is_workday(end) else calendar.next_workday(end)
        days_left = (due - today).days
        provisional = calendar.any_provisional(end, due)
    else:
        due = end
        days_left = calendar.workdays_between(today, due)
        provisional = calendar.any_provisional(min(started_on, today), max(due, today))

    paused = any(p.start <= today and p.start <= end and (p.end is None or p.end > today)
                 for p in tolling)
    state: ClockState
    if today > due:
        state = "overdue"
    elif paused:
        state = "paused"
    elif 0 <= days_left <= due_soon_days:
        state = "due_soon"
    else:
        state = "running"
    return Clock(rule=rule, started_on=started_on, due=due, days_left=days_left, paused=paused,
                 pauses=tolling, extensions=extensions, provisional=provisional, state=state,
                 citation_text=citation_text(rule))


def citation_text(rule: DeadlineRule) -> str:
    """``依据：`` followed by the rule's citations, e.g. ``依据：《人民调解法》第三十三条``."""
    return "依据：" + "；".join(str(c) for c in rule.citations)


def apply_overrides(rules: Iterable[DeadlineRule],
                    overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, DeadlineRule]:
    """Apply a deployment's ``[deadlines.<key>]`` settings to the rules.

    Example: ``{"court_pre_filing": {"limit": 30, "extension_cap": 30}}``. Only ``limit``,
    ``unit``, ``extension`` and ``extension_cap`` may be overridden; the result is validated
    like any rule.

    Returns:
        Every rule by key, overridden where the settings say so.

    Raises:
        ValueError: duplicate rule keys, an unknown rule key or field, an override of a rule
            with ``overridable=False``, or an invalid resulting rule.
    """
    by_key: dict[str, DeadlineRule] = {}
    for rule in rules:
        if rule.key in by_key:
            raise ValueError(f"duplicate deadline rule key {rule.key!r}")
        by_key[rule.key] = rule
    for key, changes in overrides.items():
        where = f"deadlines.{key}"
        if key not in by_key:
            raise ValueError(f"{where}: unknown deadline rule {key!r}; "
                             f"known: {', '.join(sorted(by_key))}")
        if not by_key[key].overridable:
            raise ValueError(f"{where}: deadline rule {key!r} is fixed by statute and cannot "
                             f"be overridden")
        if not isinstance(changes, Mapping):
            raise ValueError(f"{where} must be a table of field overrides")
        unknown = set(changes) - set(_OVERRIDABLE_FIELDS)
        if unknown:
            raise ValueError(f"{where}: cannot override {sorted(unknown)}; "
                             f"allowed: {', '.join(_OVERRIDABLE_FIELDS)}")
        try:
            by_key[key] = replace(by_key[key], **changes)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
    return by_key


def rule_table(rules: Iterable[DeadlineRule]) -> list[dict[str, Any]]:
    """The rules as plain JSON-ready data, citations rendered (``text``) with their notes."""
    table: list[dict[str, Any]] = []
    for rule in rules:
        row: dict[str, Any] = {}
        for f in fields(rule):
            value = getattr(rule, f.name)
            if f.name == "citations":
                value = [{"text": str(c), "law": c.law, "article": c.article, "note": c.note}
                         for c in value]
            elif isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, tuple):
                value = list(value)
            row[f.name] = value
        row["citation_text"] = citation_text(rule)
        table.append(row)
    return table


GENERAL_MEDIATION = DeadlineRule(
    key="general_mediation",
    label="调解期限",
    label_en="Mediation period",
    limit=30,
    unit=DayUnit.CALENDAR,
    starts_on="accepted",
    citations=(Citation("人民调解工作若干规定", "第三十三条", "一般在一个月内调结"),),
    extension=ExtensionMode.CONSENT,
)

GENERAL_JUDICIAL_CONFIRMATION = DeadlineRule(
    key="general_judicial_confirmation",
    label="申请司法确认期限",
    label_en="Time limit to apply for judicial confirmation",
    limit=30,
    unit=DayUnit.CALENDAR,
    starts_on="agreement_effective",
    citations=(
        Citation("人民调解法", "第三十三条", "自调解协议生效之日起三十日内共同向人民法院申请司法确认"),
        Citation("民事诉讼法", "第二百零五条", "自调解协议生效之日起三十日内"),
    ),
    overridable=False,
)

CORE_RULES: tuple[DeadlineRule, ...] = (GENERAL_MEDIATION, GENERAL_JUDICIAL_CONFIRMATION)
