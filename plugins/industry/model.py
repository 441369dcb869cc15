"""How an industry committee is described: one frozen value object, turned into core registrations.

A :class:`Committee` is data — its key (also its channel key), names, sector body (发起设立单位), one
intake schema, the dispute types it takes, expert categories, deadline rules with citations,
documents and statistics. The host (``plugins.industry``) turns it into a core
:class:`~core.channels.Channel`, :class:`~core.channels.IntakeForm` and
:class:`~core.channels.HandoffProtocol` (the standard people's-mediation steps plus the committee's
own acceptance guards and transitions), so a new committee never writes a state machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from core.channels import (
    Channel,
    Guard,
    HandoffProtocol,
    IntakeForm,
    ProtocolState,
    RegistrationError,
    StatisticDef,
    Transition,
)
from core.deadlines import DeadlineRule
from core.documents.guards import require_case_file
from core.lifecycle import CoreStatus as S
from core.protocol_kit import (
    DeclineForm,
    NotSettledForm,
    WithdrawForm,
    require_session,
    require_signed_agreement,
)

__all__ = ["Committee", "ExpertCategory", "RESERVED_KEYS", "standard_protocol", "standard_statistics"]

RESERVED_KEYS = frozenset({"industry", "general", "core"})
"""Keys a committee may not take (the host's own route namespace and core names)."""


@dataclass(frozen=True)
class ExpertCategory:
    """A category of the committee's expert pool (专家库), e.g. ``clinical`` 临床医学."""

    key: str
    label: str


@dataclass(frozen=True)
class Committee:
    """An industry or professional people's-mediation committee, as data.

    Attributes:
        key: channel key and namespace (``medical``); rules are ``<key>_…``, statistics ``<key>_…_<unit>``.
        name: full Chinese name (医疗纠纷人民调解委员会); ``short_name`` is shown in lists (医调委).
        sector_body: the sector body that set it up with the justice bureau (发起设立单位).
        intake: the one ``msgspec.Struct`` of committee-specific intake fields (rendered, validated,
            exported as JSON Schema, stored in ``Case.intake``); a ``check()`` method may add
            cross-field checks (``core.forms.validate_data``).
        dispute_types: codes of the ``dispute_type`` code list it takes (a sub-code of one counts);
            a case of another type is refused at registration.
        deadline_rule: key of the main deadline rule (one of ``rules`` or a core rule such as
            ``general_mediation``).
        rules: the committee's own deadline rules, each citing its source.
        expert_categories: categories of its expert pool.
        documents: extra documents (``core.documents.model.DocumentDef``) for its cases.
        agreement_requirements: what its agreements must contain before they are marked signed
            (``core.documents.model.must_mention`` …, with ``channels=(key,)``).
        statistics: extra statistics; the host adds registered / accepted / settled / success rate.
        accept_guards: extra preconditions of acceptance (``CaseContext`` → message or ``None``).
        transitions: extra protocol transitions (e.g. recording an insurer's payment).
        notices: ``case dict → list of str``: advice shown on the case (e.g. 支付令).
        clock_start_field: an intake date field from which the main clock runs (when the rule's start
            is a fact, not a step — e.g. the end of treatment); set at registration or later.
        confidential: mediation is not public (医疗纠纷预防和处理条例 第四十二条).
        panel_template: a Jinja template of the committee's own, shown in its case panel.
        kind / kind_label: the intake kind (default ``application``, 申请调解).
    """

    key: str
    name: str
    short_name: str
    name_en: str
    sector_body: str
    intake: type[msgspec.Struct]
    dispute_types: tuple[str, ...]
    deadline_rule: str
    rules: tuple[DeadlineRule, ...] = ()
    expert_categories: tuple[ExpertCategory, ...] = ()
    documents: tuple[Any, ...] = ()
    agreement_requirements: tuple[Any, ...] = ()
    statistics: tuple[StatisticDef, ...] = ()
    accept_guards: tuple[Guard, ...] = ()
    transitions: tuple[Transition, ...] = ()
    notices: Callable[[Mapping[str, Any]], list[str]] | None = None
    clock_start_field: str = ""
    confidential: bool = False
    panel_template: Path | None = None
    description: str = ""
    kind: str = "application"
    kind_label: str = "申请调解"
    case_source: str = "application"
    _protocol: HandoffProtocol | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.key in RESERVED_KEYS:
            raise RegistrationError(f"committee key {self.key!r} is reserved")
        Channel(key=self.key, label=self.name, label_en=self.name_en, case_source=self.case_source)  # key check
        if not (isinstance(self.intake, type) and issubclass(self.intake, msgspec.Struct)):
            raise RegistrationError(f"committee {self.key!r}: intake must be a msgspec.Struct")
        if not self.dispute_types:
            raise RegistrationError(f"committee {self.key!r}: name the dispute types it takes")
        for r in self.rules:
            if not r.key.startswith(self.key + "_"):
                raise RegistrationError(f"committee {self.key!r}: deadline rule {r.key!r} must start with {self.key}_")
        for req in self.agreement_requirements:
            if tuple(req.channels) != (self.key,):
                raise RegistrationError(f"committee {self.key!r}: agreement requirement {req.key!r} must have "
                                        f"channels=({self.key!r},)")
        for s in self.statistics:
            if s.channel != self.key:
                raise RegistrationError(f"committee {self.key!r}: statistic {s.name!r} must have channel={self.key!r}")
        cats = [c.key for c in self.expert_categories]
        if len(cats) != len(set(cats)):
            raise RegistrationError(f"committee {self.key!r}: duplicate expert categories")
        if self.clock_start_field and self.clock_start_field not in self.intake.__struct_fields__:
            raise RegistrationError(f"committee {self.key!r}: clock_start_field {self.clock_start_field!r} "
                                    "is not an intake field")
        if self.panel_template is not None and not Path(self.panel_template).is_file():
            raise RegistrationError(f"committee {self.key!r}: panel template {self.panel_template} does not exist")
        object.__setattr__(self, "_protocol", standard_protocol(self))

    # ----------------------------------------------------------------- what the core registers
    def channel(self) -> Channel:
        return Channel(key=self.key, label=self.name, label_en=self.name_en, case_source=self.case_source,
                       description=self.description or f"{self.sector_body}发起设立的{self.name}",
                       self_application=True)

    def intake_form(self) -> IntakeForm:
        return IntakeForm(channel=self.key, kind=self.kind, label=self.kind_label, label_en="Application",
                          schema=self.intake, deadline_rule=self.deadline_rule,
                          default_dispute_type=self.dispute_types[0], description=self.description)

    @property
    def protocol(self) -> HandoffProtocol:
        assert self._protocol is not None
        return self._protocol

    def all_statistics(self) -> list[StatisticDef]:
        return [*standard_statistics(self.key, self.short_name), *self.statistics]

    def takes(self, dispute_type: str) -> bool:
        """Whether the committee takes ``dispute_type`` (a listed code or a sub-code of one)."""
        return any(dispute_type == d or dispute_type.startswith(d + ".") for d in self.dispute_types)

    def category(self, key: str) -> ExpertCategory | None:
        return next((c for c in self.expert_categories if c.key == key), None)

    def clock_start(self, intake: Mapping[str, Any]) -> dt.date | None:
        if not self.clock_start_field:
            return None
        value = intake.get(self.clock_start_field)
        if isinstance(value, str) and value:
            return dt.date.fromisoformat(value)
        return value if isinstance(value, dt.date) else None


STATES = tuple(ProtocolState(key=s.value, label=s.label, status=s, terminal=s is S.ARCHIVED) for s in S)


def standard_protocol(c: Committee) -> HandoffProtocol:
    """The people's-mediation steps every committee shares, with the committee's guards and steps."""
    transitions = (
        Transition("accept", ("registered",), "accepted", "受理", "case.accepted", style="primary",
                   partner_event=True, guards=tuple(c.accept_guards)),
        Transition("decline", ("registered",), "declined", "不予受理", "case.declined", form=DeclineForm,
                   style="danger", partner_event=True),
        Transition("start_mediation", ("accepted",), "in_mediation", "开始调解", "case.mediation_started",
                   style="primary"),
        Transition("settle", ("in_mediation",), "settled", "调解成功", "case.settled",
                   guards=(require_session, require_signed_agreement), style="primary", partner_event=True),
        Transition("not_settle", ("accepted", "in_mediation"), "not_settled", "调解不成（终止调解）",
                   "case.not_settled", form=NotSettledForm, style="danger", partner_event=True),
        Transition("withdraw", ("registered", "accepted", "in_mediation"), "withdrawn", "当事人撤回",
                   "case.withdrawn", form=WithdrawForm, partner_event=True),
        Transition("close", ("settled", "not_settled", "withdrawn", "declined"), "closed", "结案", "case.closed",
                   style="primary", partner_event=True),
        Transition("archive", ("closed",), "archived", "归档", "case.archived",
                   guards=(require_case_file(extra=tuple(d for d in c.documents
                                                         if getattr(d, "required_for_archive", False))),),
                   style="primary"),
        *c.transitions,
    )
    return HandoffProtocol(channel=c.key, initial="registered", states=STATES, transitions=transitions)


def standard_statistics(key: str, short: str) -> list[StatisticDef]:
    """Per-committee counters every committee gets (kept in rollups, grouped by channel)."""
    return [
        StatisticDef(f"{key}_registered_cases", f"{short}登记（件）", channel=key, counts="registered",
                     label_en="Registered", order=1),
        StatisticDef(f"{key}_accepted_cases", f"{short}受理（件）", channel=key, counts="status:accepted",
                     label_en="Accepted", order=2),
        StatisticDef(f"{key}_settled_cases", f"{short}调解成功（件）", channel=key, counts="status:settled",
                     label_en="Settled", order=3),
        StatisticDef(f"{key}_success_percent", f"{short}调解成功率", channel=key, unit="percent",
                     ratio=(f"{key}_settled_cases", f"{key}_accepted_cases"), label_en="Success rate", order=4),
    ]
