"""Core features registered as a plugin, like any other (datasette's default plugins).

- the core deadline rules (general mediation period, judicial-confirmation window);
- a registration with 10 or more people raises the group-dispute warning;
- a settlement schedules the agreement's follow-up visit (回访).
"""

from core.deadlines import CORE_RULES
from core.hookspecs import hookimpl

NAME = "builtin"


@hookimpl
def fengqiao_register_deadline_rules(settings):
    return list(CORE_RULES)


@hookimpl
async def fengqiao_case_registered(case, registry):
    from core.warnings import GROUP_SIZE, raise_warning

    if case["people_count"] >= GROUP_SIZE:
        await raise_warning(registry, case, "group_dispute", f"涉及 {case['people_count']} 人", None)
        await _add_flag(case["id"], "group_dispute")


@hookimpl
async def fengqiao_case_transitioned(event, registry):
    if event["status"] == "settled":
        from core.followups import schedule_followup

        await schedule_followup(registry, event["case_id"])


async def _add_flag(case_id, flag):
    import msgspec

    from core.tables import Case

    row = await Case.select(Case.risk_flags).where(Case.id == case_id).output(load_json=True).first()
    flags = sorted(set(row["risk_flags"] or []) | {flag})
    await Case.update({Case.risk_flags: msgspec.json.encode(flags).decode()}).where(Case.id == case_id)
