"""The core statistics: the monthly people's-mediation report (RULES.md §3.10), as data.

Counting rules (the same for the page, the exports and the rollups):

- every counter counts in the **month the event happened** (China time): a case registered in
  March and settled in May adds to March's 登记数 and to May's 调解成功数. A filed monthly report
  therefore never changes afterwards — except 履行数, which counts agreements that were performed by
  the month their case settled (no performance date is recorded);
- 受理数 counts cases entering 已受理; 调解成功率 = 调解成功数 ÷ 受理数 (Yibin reports "460 mediated,
  307 settled (66.7%)", DOMAIN.md);
- 协议涉及金额 sums the agreement amounts of the cases settled in the month;
- 防止民间纠纷转化为刑事案件 counts settled cases flagged ``may_turn_criminal`` (cases and the
  people involved); 防止群体性上访 counts settled cases flagged ``group_dispute`` (the case engine
  flags every registration with 10 or more people).
"""

from __future__ import annotations

from core.channels import StatisticDef

__all__ = ["CORE_STATISTICS", "CONCLUDED", "REPORT_SOURCE_GROUPS"]

CONCLUDED = ("settled", "not_settled", "withdrawn", "declined")
"""Core statuses that conclude a case (after them only closing and archiving follow)."""

REPORT_SOURCE_GROUPS = ("主动调解", "申请调解", "接受委托移送调解")
"""The case-source columns of the monthly report; each ``case_source`` code names its group in
``report`` (``core/codes/code_lists.toml``)."""

CORE_STATISTICS: tuple[StatisticDef, ...] = (
    StatisticDef("core_registered_cases", "登记数", counts="registered", measure="registered",
                 label_en="Registered", order=10),
    StatisticDef("core_accepted_cases", "受理数", counts="status:accepted", measure="accepted",
                 label_en="Accepted", order=20),
    StatisticDef("core_settled_cases", "调解成功数", counts="status:settled", measure="settled",
                 label_en="Settled", order=30),
    StatisticDef("core_oral_settled_cases", "其中口头协议", counts="status:settled", measure="settled_oral",
                 when=(("outcome", "=", "settled_oral"),), label_en="Settled by oral agreement", order=31),
    StatisticDef("core_not_settled_cases", "调解不成数", counts="status:not_settled", measure="not_settled",
                 label_en="Not settled", order=40),
    StatisticDef("core_success_rate_percent", "调解成功率", ratio=("core_settled_cases", "core_accepted_cases"),
                 unit="percent", label_en="Success rate", order=45),
    StatisticDef("core_withdrawn_cases", "撤回数", counts="status:withdrawn", measure="withdrawn",
                 label_en="Withdrawn", order=50),
    StatisticDef("core_declined_cases", "不予受理数", counts="status:declined", measure="declined",
                 label_en="Declined", order=55),
    StatisticDef("core_agreement_amount_yuan", "协议涉及金额", counts="status:settled", value="amount",
                 measure="amount_fen", unit="yuan", label_en="Agreement amounts", order=60),
    StatisticDef("core_criminal_prevented_cases", "防止民转刑（件）", counts="status:settled",
                 when=(("risk_flags", "has", "may_turn_criminal"),), measure="criminal_cases",
                 label_en="Disputes prevented from turning criminal (cases)", order=70),
    StatisticDef("core_criminal_prevented_people", "防止民转刑（人）", counts="status:settled", value="people",
                 when=(("risk_flags", "has", "may_turn_criminal"),), measure="criminal_people", unit="people",
                 label_en="Disputes prevented from turning criminal (people)", order=71),
    StatisticDef("core_petition_prevented_cases", "防止群体性上访（件）", counts="status:settled",
                 when=(("risk_flags", "has", "group_dispute"),), measure="petition_cases",
                 label_en="Group petitions prevented (cases)", order=80),
    StatisticDef("core_petition_prevented_people", "防止群体性上访（人）", counts="status:settled", value="people",
                 when=(("risk_flags", "has", "group_dispute"),), measure="petition_people", unit="people",
                 label_en="Group petitions prevented (people)", order=81),
    StatisticDef("core_performed_cases", "协议履行数", counts="performed", measure="performed",
                 label_en="Agreements performed", order=90),
)
