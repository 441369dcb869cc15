"""The general channel's own indicators, shown beside the monthly report (counters, kept in rollups)."""

from core.channels import StatisticDef

LEGAL_TRACK = ("litigation", "arbitration", "administrative_review")

STATISTICS = (
    StatisticDef("general_group_disputes_cases", "群体性纠纷登记（件）", channel="general", counts="registered",
                 when=(("people_count", ">=", 10),), label_en="Group disputes registered (10+ people)", order=10),
    StatisticDef("general_group_disputes_people", "群体性纠纷涉及人数", channel="general", counts="registered",
                 value="people", unit="people", when=(("people_count", ">=", 10),),
                 label_en="People in group disputes registered", order=11),
    StatisticDef("general_not_settled_cases", "调解不成（件）", channel="general", counts="status:not_settled",
                 label_en="Not settled", order=20),
    StatisticDef("general_legal_track_cases", "导入法治轨道（件）", channel="general", counts="status:not_settled",
                 when=(("suggested_route", "in", LEGAL_TRACK),),
                 label_en="Routed to litigation, arbitration or administrative review", order=21),
    StatisticDef("general_legal_track_percent", "调解不成导入法治轨道比例", channel="general", unit="percent",
                 ratio=("general_legal_track_cases", "general_not_settled_cases"),
                 label_en="Share of unsettled cases routed into the legal track", order=22),
)
