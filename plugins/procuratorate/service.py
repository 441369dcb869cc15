"""Recording eligibility checks and enriching the outcome report (the channel's only writes).

An eligibility check is recorded on the case as an append-only event
``procuratorate.eligibility_checked`` whose data holds the result, the reasons, the citations and the
rules' version (the case log shows it; nothing is overwritten when the rules change). When the result
moves the case into or out of the ``eligible`` state the system takes the matching protocol transition
in the same transaction, so the eligible counter and the case state never disagree with the record.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx
from core.cases import Refused, apply_transition, load_case, write_event
from core.db import write_transaction
from core.registry import Registry
from core.sql import fetch_one
from core.tables import Agreement
from plugins.procuratorate.rules import (
    Eligibility,
    EligibilityFacts,
    ReconciliationRules,
    check_eligibility,
    rules_for,
)

__all__ = [
    "CHECK_EVENT",
    "facts_from_intake",
    "get_rules",
    "latest_check",
    "recheck_schema",
    "record_check",
    "recheck",
    "enrich_report",
]

CHECK_EVENT = "procuratorate.eligibility_checked"
CRIMINAL = "criminal_reconciliation"


def get_rules(reg: Registry) -> ReconciliationRules:
    """The deployment's rules, loaded once per registry."""
    rules = reg.extra.get("procuratorate.rules")
    if rules is None:
        rules = reg.extra["procuratorate.rules"] = rules_for(reg.settings)
    return rules


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value)
    return None


def facts_from_intake(intake: Mapping[str, Any]) -> EligibilityFacts:
    return EligibilityFacts(
        offence=str(intake.get("offence") or ""),
        likely_sentence_years=decimal.Decimal(str(intake.get("likely_sentence_years") or 0)),
        from_civil_dispute=bool(intake.get("from_civil_dispute")),
        offence_on=_date(intake.get("offence_on")),
        prior_intentional_crime_on=_date(intake.get("prior_intentional_crime_on")),
    )


def recheck_schema(reg: Registry) -> type[msgspec.Struct]:
    """The mediator's re-check form (the checker's inputs, prefilled from the intake)."""
    schema = reg.extra.get("procuratorate.recheck_schema")
    if schema is not None:
        return schema
    rules = get_rules(reg)
    offence_type = Literal.__getitem__(rules.offence_names)  # type: ignore[attr-defined]

    def check(self: Any) -> list[tuple[str, str]]:
        y = self.likely_sentence_years
        if not y.is_finite() or y < 0 or y > 25:
            return [("likely_sentence_years", "刑期应在 0 至 25 年之间")]
        if self.prior_intentional_crime_on and self.offence_on and self.prior_intentional_crime_on > self.offence_on:
            return [("prior_intentional_crime_on", "前次故意犯罪日期不能晚于本案案发日期")]
        return []

    schema = msgspec.defstruct(
        "EligibilityRecheck",
        [
            ("offence", Annotated[offence_type, Meta(title="罪名（涉嫌）")]),
            ("from_civil_dispute", Annotated[bool, Meta(title="因民间纠纷引起")], False),
            ("likely_sentence_years", Annotated[decimal.Decimal, Meta(title="可能判处的有期徒刑（年）")]),
            ("offence_on", Annotated[dt.date, Meta(title="案发日期")] | None, None),
            ("prior_intentional_crime_on", Annotated[dt.date, Meta(title="犯罪嫌疑人前次故意犯罪日期")] | None, None),
            ("note", Annotated[str, Meta(title="复查说明", min_length=2, max_length=1000,
                                         extra={"widget": "textarea"})]),
        ],
        kw_only=True,
        forbid_unknown_fields=True,
        namespace={"check": check},
        module=__name__,
    )
    reg.extra["procuratorate.recheck_schema"] = schema
    return schema


async def record_check(reg: Registry, case: Mapping[str, Any], facts: EligibilityFacts, *,
                       actor: UserCtx | None, actor_label: str = "", note: str = "") -> Eligibility:
    """Run the checker and record its result on ``case`` (inside the caller's write transaction)."""
    result = check_eligibility(get_rules(reg), facts, today=clock.today())
    data = result.as_dict() | ({"note": note} if note else {})
    await write_event(case["id"], CHECK_EVENT, actor=actor, actor_label=actor_label or ("" if actor else "系统"),
                      data=data)
    if result.eligible and case["state"] == "registered":
        await apply_transition(reg, case["id"], "confirm_eligible", None, actor_label="刑事和解适用条件审查")
    elif not result.eligible and case["state"] == "eligible":
        await apply_transition(reg, case["id"], "revoke_eligible", None, actor_label="刑事和解适用条件审查")
    return result


async def recheck(reg: Registry, case_id: int, user: UserCtx, form: Any) -> Eligibility:
    """A mediator re-runs the check (corrected facts or updated rules) before acceptance."""
    async with write_transaction():
        case = await load_case(case_id, user, for_update=True)
        if case["channel"] != "procuratorate" or case["kind"] != CRIMINAL:
            raise Refused("只有刑事和解案件需要审查适用条件")
        if case["state"] not in ("registered", "eligible"):
            raise Refused("案件已受理或已办结，不能再审查刑事和解适用条件")
        facts = EligibilityFacts(
            offence=form.offence,
            likely_sentence_years=form.likely_sentence_years,
            from_civil_dispute=form.from_civil_dispute,
            offence_on=form.offence_on,
            prior_intentional_crime_on=form.prior_intentional_crime_on,
        )
        return await record_check(reg, case, facts, actor=user, note=form.note)


async def latest_check(case_id: int) -> dict[str, Any] | None:
    return await fetch_one('SELECT id, data, created_at, actor_label FROM core_case_event WHERE "case" = {} '
                           "AND type = {} ORDER BY id DESC LIMIT 1", case_id, CHECK_EVENT, load_json=("data",))


async def enrich_report(event: dict[str, Any]) -> None:
    """Add what the procuratorate decides on to the ``procuratorate.outcome_reported`` event (before the
    outbox copies it): the case's references, the agreement's performance and the eligibility result.
    The additions are logged as a ``procuratorate.report_details`` event (the log is append-only)."""
    case = await load_case(event["case_id"], None)
    intake = case.get("intake") or {}
    agreement = await Agreement.select(Agreement.amount, Agreement.fulfilment, Agreement.terms,
                                       Agreement.performance_method).where(
        Agreement.case == event["case_id"]).first()
    check = await latest_check(event["case_id"])
    from plugins.procuratorate.protocol import is_instalment

    data = event.setdefault("data", {})
    data["procuratorate"] = {
        "kind": case["kind"],
        "procuratorate": intake.get("procuratorate"),
        "procuratorate_case_number": intake.get("procuratorate_case_number"),
        "offence": intake.get("offence"),
        "stage": intake.get("stage"),
        "suspect_detained": intake.get("suspect_detained"),
    }
    if agreement is not None:
        data["performance"] = {
            "fulfilment": agreement["fulfilment"],
            "instalments": is_instalment(agreement),
            "amount": None if agreement["amount"] is None else f"{agreement['amount']:.2f}",
        }
    if check is not None:
        d = check["data"]
        data["eligibility"] = {k: d.get(k) for k in ("eligible", "clause", "citation", "rules_version", "checked_on")}
    # the case log is append-only: what was added to the partner's event is logged beside it
    await write_event(event["case_id"], "procuratorate.report_details", actor=None, actor_label="系统",
                      data={k: data[k] for k in ("procuratorate", "performance", "eligibility") if k in data}
                      | {"event_id": event["event_id"]})
