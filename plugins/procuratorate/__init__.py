"""The procuratorate channel (检调对接): criminal reconciliation (刑事和解) and more.

Only hookimpls live here; the data is in ``rules/reconciliation.toml`` (offences, thresholds,
citations, what may not be negotiated — a deployment may replace it), ``forms.py``, ``protocol.py``,
``agreement.py`` and ``statistics.py``; ``service.py`` records eligibility checks.
"""

from typing import Any

from core import hookimpl
from core.channels import Channel

from plugins.procuratorate.rules import ChannelSettings, rules_for

NAME = "procuratorate"
__version__ = "0.1.0"

CHANNEL = Channel(
    key="procuratorate",
    label="检调对接",
    label_en="Procuratorate linkage",
    case_source="referral.procuratorate",
    description="检察机关委托调解的轻微刑事案件刑事和解、民事检察和控告申诉（检察信访）矛盾纠纷",
    partner_kind="procuratorate",
    settings_schema=ChannelSettings,
)


@hookimpl
def fengqiao_register_channels(settings):
    return [CHANNEL]


@hookimpl
def fengqiao_register_intake_forms(settings):
    from plugins.procuratorate.forms import intake_forms

    return list(intake_forms(rules_for(settings)))


@hookimpl
def fengqiao_register_handoff_protocols(settings):
    from plugins.procuratorate.protocol import PROTOCOL

    return [PROTOCOL]


@hookimpl
def fengqiao_register_deadline_rules(settings):
    from plugins.procuratorate.protocol import RECONCILIATION_RULE

    return [RECONCILIATION_RULE]


@hookimpl
def fengqiao_register_statistics(settings):
    from plugins.procuratorate.statistics import statistics

    return statistics(settings)


@hookimpl
def fengqiao_register_documents(settings):
    from plugins.procuratorate.agreement import DOCUMENTS

    return list(DOCUMENTS)


@hookimpl
def fengqiao_register_agreement_requirements(settings):
    from plugins.procuratorate.agreement import agreement_requirements

    return agreement_requirements(rules_for(settings))


@hookimpl
def fengqiao_register_event_labels(settings):
    return {
        "procuratorate.eligibility_checked": "刑事和解条件审查",
        "procuratorate.report_details": "报送检察机关的和解及履行情况",
    }


@hookimpl
def fengqiao_register_routes(settings):
    from plugins.procuratorate.routes import ROUTES

    return list(ROUTES)


@hookimpl
def fengqiao_case_registered(case: dict[str, Any], registry: Any) -> Any:
    """Check a new criminal reconciliation's eligibility from its intake, in the registration's
    transaction, and record the result and its citation on the case."""
    if case.get("channel") != "procuratorate" or case.get("kind") != "criminal_reconciliation":
        return None

    async def check() -> None:
        from core.cases import load_case
        from plugins.procuratorate.service import facts_from_intake, record_check

        row = await load_case(case["id"], None)
        await record_check(registry, row, facts_from_intake(row.get("intake") or {}), actor=None,
                           actor_label="系统（登记时自动审查）")

    return check()


@hookimpl(tryfirst=True)
def fengqiao_case_transitioned(event: dict[str, Any], registry: Any) -> Any:
    """Complete the outcome report to the procuratorate before the outbox copies it."""
    if event.get("channel") != "procuratorate" or event.get("type") != "procuratorate.outcome_reported":
        return None
    from plugins.procuratorate.service import enrich_report

    return enrich_report(event)


@hookimpl
def fengqiao_case_panels(case: dict[str, Any], user: dict[str, Any], registry: Any) -> Any:
    if case.get("channel") != "procuratorate":
        return None
    from plugins.procuratorate.panel import case_panel

    return case_panel(case, registry)
