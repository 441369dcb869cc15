"""The procuratorate channel's indicators (counters kept in rollups, one live average).

Criminal reconciliation: received (registered) → eligible (the checker found it admissible) →
reconciled (settled) → performed (the follow-up recorded the agreement performed; counted in the
month the case settled) → reported (the outcome went to the procuratorate). The success rate is
reconciled ÷ eligible; compensation sums the agreements' amounts. Days to close averages, over the
channel's cases registered in the period and closed, the calendar days from registration to closing.
"""

from __future__ import annotations

from typing import Any

from core.channels import StatisticDef

__all__ = ["statistics"]

CRIMINAL = (("kind", "=", "criminal_reconciliation"),)


def _days_to_close_sql(sqlite: bool) -> str:
    where = "c.channel = 'procuratorate' AND c.closed_at IS NOT NULL"
    if sqlite:
        return f"ROUND(AVG(CASE WHEN {where} THEN julianday(c.closed_at) - julianday(c.registered_at) END), 1)"
    return (f"ROUND(CAST(AVG(CASE WHEN {where} THEN EXTRACT(EPOCH FROM (c.closed_at - c.registered_at)) / 86400.0 "
            "END) AS NUMERIC), 1)")


def statistics(settings: Any) -> list[StatisticDef]:
    sqlite = bool(getattr(settings, "is_sqlite", True))
    return [
        StatisticDef("procuratorate_received_cases", "刑事和解：收案（件）", channel="procuratorate",
                     counts="registered", when=CRIMINAL, label_en="Criminal reconciliation: received", order=10),
        StatisticDef("procuratorate_eligible_cases", "刑事和解：符合适用条件（件）", channel="procuratorate",
                     counts="event:procuratorate.eligible", when=CRIMINAL,
                     label_en="Criminal reconciliation: eligible", order=11),
        StatisticDef("procuratorate_reconciled_cases", "刑事和解：达成和解（件）", channel="procuratorate",
                     counts="status:settled", when=CRIMINAL, label_en="Criminal reconciliation: reconciled", order=12),
        StatisticDef("procuratorate_performed_cases", "刑事和解：赔偿履行完毕（件）", channel="procuratorate",
                     counts="performed", when=CRIMINAL, label_en="Criminal reconciliation: performed", order=13),
        StatisticDef("procuratorate_reported_cases", "刑事和解：已报送检察机关（件）", channel="procuratorate",
                     counts="event:procuratorate.outcome_reported", when=CRIMINAL,
                     label_en="Criminal reconciliation: reported to the procuratorate", order=14),
        StatisticDef("procuratorate_success_rate_percent", "刑事和解成功率（和解÷符合条件）", channel="procuratorate",
                     unit="percent", ratio=("procuratorate_reconciled_cases", "procuratorate_eligible_cases"),
                     label_en="Criminal reconciliation success rate", order=15),
        StatisticDef("procuratorate_compensation_yuan", "刑事和解：赔偿金额（元）", channel="procuratorate",
                     counts="status:settled", value="amount", unit="yuan", when=CRIMINAL,
                     label_en="Criminal reconciliation: compensation agreed", order=16),
        StatisticDef("procuratorate_civil_settled_cases", "民事检察和解：调解成功（件）", channel="procuratorate",
                     counts="status:settled", when=(("kind", "=", "civil_supervision"),),
                     label_en="Civil supervision: settled", order=20),
        StatisticDef("procuratorate_complaint_settled_cases", "控告申诉：调解成功（件）", channel="procuratorate",
                     counts="status:settled", when=(("kind", "=", "complaint"),),
                     label_en="Complaints: settled", order=21),
        StatisticDef("procuratorate_close_days", "检调对接：平均结案天数", channel="procuratorate", unit="days",
                     sql=_days_to_close_sql(sqlite), label_en="Procuratorate channel: average days to close",
                     order=30),
    ]
