"""The petition channel's indicators (counters kept in rollups), reproducing the seeds' figures: Yibin's
petition drive reports received 503, mediated 460, settled 307 (66.7% = settled ÷ mediated) and 91 routed
into the legal track."""

from core.channels import StatisticDef

LEGAL_TRACK = ("litigation", "arbitration", "administrative_review")

STATISTICS = (
    StatisticDef("petition_received_cases", "接谈登记信访事项（件）", channel="petition", counts="registered",
                 label_en="Petitions received", order=10),
    StatisticDef("petition_declined_cases", "评析不予受理（件）", channel="petition", counts="status:declined",
                 label_en="Declined after assessment", order=15),
    StatisticDef("petition_mediated_cases", "调解化解（进入办理，件）", channel="petition",
                 counts="status:in_mediation", label_en="Mediated (handling started)", order=20),
    StatisticDef("petition_settled_cases", "调解成功、信访了结（件）", channel="petition", counts="status:settled",
                 label_en="Settled", order=30),
    StatisticDef("petition_success_rate_percent", "化解成功率", channel="petition", unit="percent",
                 ratio=("petition_settled_cases", "petition_mediated_cases"),
                 label_en="Success rate (settled / mediated)", order=35),
    StatisticDef("petition_legal_track_cases", "导入法治轨道（件）", channel="petition", counts="status:not_settled",
                 when=(("suggested_route", "in", LEGAL_TRACK),),
                 label_en="Routed to litigation, arbitration or administrative review", order=40),
    StatisticDef("petition_aid_cases", "协调申请救助（件）", channel="petition", counts="event:petition.aid_requested",
                 label_en="Aid applications", order=50),
    StatisticDef("petition_group_cases", "10人以上群众性信访（件）", channel="petition", counts="registered",
                 when=(("people_count", ">=", 10),), label_en="Group petitions (10+ people)", order=60),
)
