"""Channels as data: the frozen value objects that channel plugins register.

A channel is mostly data — intake forms (one ``msgspec.Struct`` each), a handoff protocol (states and
transitions, each mapped to a core lifecycle step), statistic definitions — executed by one core
engine each (``core.forms``, ``core.handoff``). Nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from core.lifecycle import CoreStatus

__all__ = [
    "Channel",
    "IntakeForm",
    "HandoffProtocol",
    "ProtocolState",
    "Transition",
    "StatisticDef",
    "RegistrationError",
    "Guard",
]

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class RegistrationError(ValueError):
    """A plugin registered something malformed or duplicated; raised at start-up."""


def _check_key(kind: str, key: str) -> None:
    if not _KEY.match(key):
        raise RegistrationError(
            f"{kind} key {key!r} must be 2-41 lowercase letters, digits or '_' starting with a letter"
        )


@dataclass(frozen=True)
class Channel:
    """A linkage channel (诉调对接, 警调对接 …) or the general walk-in channel.

    Attributes:
        key: namespace of everything the channel owns (``court``, ``police`` …).
        label: Chinese name shown in the UI.
        case_source: code from the ``case_source`` code list that cases of this channel get by
            default (``referral.court`` …); walk-in forms may let the mediator choose.
        partner_kind: the kind of partner agency (``court``, ``police`` …), empty for none.
        self_application: parties may apply themselves (walk-in / online).
    """

    key: str
    label: str
    label_en: str
    case_source: str
    description: str = ""
    partner_kind: str = ""
    self_application: bool = False
    settings_schema: type[msgspec.Struct] | None = None

    def __post_init__(self) -> None:
        _check_key("channel", self.key)


@dataclass(frozen=True)
class IntakeForm:
    """The intake form of one referral kind of a channel.

    ``schema`` declares the channel-specific fields once; it is rendered as the HTML form,
    validated on submit (``core.forms``), exported as JSON Schema for the partner API and stored in
    ``Case.intake``. Field titles come from ``msgspec.Meta(title=…)``.
    """

    channel: str
    kind: str
    label: str
    label_en: str
    schema: type[msgspec.Struct]
    deadline_rule: str = ""
    """Key of the deadline rule that runs from acceptance (``core.deadlines``)."""
    default_dispute_type: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        _check_key("intake kind", self.kind)
        if not (isinstance(self.schema, type) and issubclass(self.schema, msgspec.Struct)):
            raise RegistrationError(f"intake form {self.channel}/{self.kind}: schema must be a msgspec.Struct")


Guard = Callable[[Any], "str | None | Awaitable[str | None]"]
"""A transition precondition: given the case context, return ``None`` when allowed, else a message."""


@dataclass(frozen=True)
class ProtocolState:
    """A state of a channel protocol and the core lifecycle step it corresponds to."""

    key: str
    label: str
    status: CoreStatus
    terminal: bool = False


@dataclass(frozen=True)
class Transition:
    """One allowed step of a protocol.

    Attributes:
        key: action name, unique within the protocol (``accept``, ``decline`` …).
        sources: states it may start from.
        target: state it leads to.
        label: button text.
        roles: roles allowed to take it (``mediator``, ``supervisor``, ``admin``, ``system``).
        form: optional ``msgspec.Struct`` of inputs (e.g. a reason), validated like intake forms.
        event: event type written to the case log (``case.accepted`` …); partner events are those
            the referring partner must hear about.
        partner_event: deliver the event to the referring partner (outbox).
        guards: preconditions; each returns ``None`` or a user-facing refusal message.
        style: ``primary`` | ``danger`` | ``default`` (presentation only).
    """

    key: str
    sources: tuple[str, ...]
    target: str
    label: str
    event: str
    roles: tuple[str, ...] = ("mediator", "supervisor", "admin")
    form: type[msgspec.Struct] | None = None
    partner_event: bool = False
    guards: tuple[Guard, ...] = ()
    style: str = "default"
    label_en: str = ""


@dataclass(frozen=True)
class HandoffProtocol:
    """A channel's state machine. Validated against the core lifecycle at start-up."""

    channel: str
    initial: str
    states: tuple[ProtocolState, ...]
    transitions: tuple[Transition, ...]
    _states: dict[str, ProtocolState] = field(init=False, repr=False, compare=False)
    _transitions: dict[str, Transition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        states = {s.key: s for s in self.states}
        if len(states) != len(self.states):
            raise RegistrationError(f"protocol {self.channel}: duplicate state keys")
        trans = {t.key: t for t in self.transitions}
        if len(trans) != len(self.transitions):
            raise RegistrationError(f"protocol {self.channel}: duplicate transition keys")
        if self.initial not in states:
            raise RegistrationError(f"protocol {self.channel}: initial state {self.initial!r} is not a state")
        for t in self.transitions:
            for s in (*t.sources, t.target):
                if s not in states:
                    raise RegistrationError(
                        f"protocol {self.channel}: transition {t.key!r} names unknown state {s!r}"
                    )
            for src in t.sources:
                a, b = states[src].status, states[t.target].status
                if a != b and not a.can_move_to(b):
                    raise RegistrationError(
                        f"protocol {self.channel}: transition {t.key!r} maps to the core step "
                        f"{a.value} → {b.value}, which the case lifecycle does not allow"
                    )
        # every state reachable from the initial state
        seen, todo = {self.initial}, [self.initial]
        while todo:
            cur = todo.pop()
            for t in self.transitions:
                if cur in t.sources and t.target not in seen:
                    seen.add(t.target)
                    todo.append(t.target)
        unreachable = set(states) - seen
        if unreachable:
            raise RegistrationError(
                f"protocol {self.channel}: states not reachable from {self.initial!r}: {sorted(unreachable)}"
            )
        object.__setattr__(self, "_states", states)
        object.__setattr__(self, "_transitions", trans)

    def state(self, key: str) -> ProtocolState:
        return self._states[key]

    def transition(self, key: str) -> Transition | None:
        return self._transitions.get(key)

    def available(self, state: str) -> list[Transition]:
        """Transitions that start from ``state``, in declaration order."""
        return [t for t in self.transitions if state in t.sources]


@dataclass(frozen=True)
class StatisticDef:
    """A statistic, named ``<channel>_<name>_<unit>`` (``core_settled_cases``, ``court_confirmed_cases`` …).

    Exactly one of three kinds, all aggregated in SQL (``core.statistics``):

    - a **counter** (``counts``): kept in rollups, in the same transaction as the case change. It
      adds ``value`` (``"cases"`` 1, ``"people"`` the case's ``people_count``, ``"amount"`` the
      agreement amount in fen) to the month of the event, when the case meets every ``when``
      condition. ``counts`` is ``"registered"``, ``"status:<core status>"`` (the case enters that
      lifecycle step: ``status:accepted``, ``status:settled`` …), ``"event:<event type>"`` (a
      transition writing that event) or ``"performed"`` (the agreement is marked performed; counted
      in the month the case settled).
      ``when`` holds ``(field, op, value)`` triples; fields: ``channel``, ``kind``,
      ``dispute_type``, ``source``, ``outcome``, ``suggested_route``, ``people_count``,
      ``risk_flags``, ``referred`` (came from a partner system); ops: ``=``, ``!=``, ``in``,
      ``>=``, ``<=``, ``under`` (a code or its sub-codes), ``has`` / ``has_any`` (risk flags).
    - a **ratio** (``ratio=(numerator, denominator)``) of two other statistics, in percent.
    - a **live SQL** aggregate (``sql``) over the ``core_case`` table aliased ``c`` (e.g.
      ``SUM(CASE WHEN c.status = 'settled' THEN 1 ELSE 0 END)``), filtered by period of
      registration and scope; not rolled up, so slow at scale — prefer a counter.

    A channel's counters count only that channel's cases. ``measure`` (core only) stores a counter in a fixed column of the monthly-report rollup instead
    of the per-statistic indicator rollup. ``order`` sorts statistics on pages and exports.
    """

    name: str
    label: str
    sql: str = ""
    unit: str = "cases"
    channel: str = "core"
    label_en: str = ""
    counts: str = ""
    value: str = "cases"
    when: tuple[tuple[str, str, Any], ...] = ()
    ratio: tuple[str, str] | None = None
    measure: str = ""
    order: int = 100
    description: str = ""

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z][a-z0-9]*_[a-z0-9_]+_[a-z]+$", self.name):
            raise RegistrationError(f"statistic name {self.name!r} must look like <channel>_<name>_<unit>")
        kinds = [k for k in ("sql", "counts", "ratio") if getattr(self, k)]
        if len(kinds) != 1:
            raise RegistrationError(f"statistic {self.name!r} needs exactly one of sql, counts or ratio (got {kinds})")
        if self.counts and not re.match(r"^(registered|performed|status:[a-z_]+|event:[a-z0-9_.]+)$", self.counts):
            raise RegistrationError(
                f"statistic {self.name!r}: counts must be 'registered', 'performed', 'status:<core status>' "
                "or 'event:<type>'"
            )
        if self.counts.startswith("status:") and self.counts[7:] not in {s.value for s in CoreStatus} - {"registered"}:
            raise RegistrationError(f"statistic {self.name!r}: unknown core status {self.counts[7:]!r}")
        if self.value not in {"cases", "people", "amount"}:
            raise RegistrationError(f"statistic {self.name!r}: value must be cases, people or amount")
        if self.value == "amount" and self.counts != "status:settled":
            raise RegistrationError(f"statistic {self.name!r}: an amount is known only when a case settles")
        if self.ratio is not None and len(self.ratio) != 2:
            raise RegistrationError(f"statistic {self.name!r}: ratio is (numerator, denominator)")
        for cond in self.when:
            if len(cond) != 3 or cond[0] not in STAT_FIELDS or cond[1] not in STAT_OPS:
                raise RegistrationError(
                    f"statistic {self.name!r}: condition {cond!r} must be (field, op, value) with a field of "
                    f"{sorted(STAT_FIELDS)} and an op of {sorted(STAT_OPS)}"
                )
        if self.measure and self.channel != "core":
            raise RegistrationError(f"statistic {self.name!r}: only core statistics may name a rollup measure")


STAT_FIELDS = frozenset(
    {"channel", "kind", "dispute_type", "source", "outcome", "suggested_route", "people_count", "risk_flags", "referred"}
)
"""Case fields a counter's ``when`` conditions may test."""
STAT_OPS = frozenset({"=", "!=", "in", ">=", "<=", "under", "has", "has_any"})
