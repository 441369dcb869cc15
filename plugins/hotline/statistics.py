"""The hotline's counters for the statistics engine (rolled up with the monthly report).

The engine counts events and lifecycle steps by month, room and organisation; the hotline's rates
by dispatch category and grid (intake fields the engine does not break down by) are computed by
``plugins.hotline.report`` and shown on ``/channels/hotline/``.
"""

from core.channels import StatisticDef

STATISTICS = (
    StatisticDef("hotline_orders_cases", "12345 工单（件）", channel="hotline", counts="registered",
                 label_en="12345 work orders received", order=10),
    StatisticDef("hotline_signed_for_cases", "12345 工单已签收（件）", channel="hotline",
                 counts="event:hotline.signed_for", label_en="Work orders signed for", order=11),
    StatisticDef("hotline_response_percent", "12345 工单签收率", channel="hotline", unit="percent",
                 ratio=("hotline_signed_for_cases", "hotline_orders_cases"),
                 label_en="Share of work orders signed for", order=12),
    StatisticDef("hotline_resolved_cases", "12345 工单已解决（件）", channel="hotline", counts="event:case.settled",
                 label_en="Work orders resolved", order=13),
    StatisticDef("hotline_not_resolved_cases", "12345 工单未解决（件）", channel="hotline",
                 counts="event:case.not_settled", label_en="Work orders not resolved", order=14),
    StatisticDef("hotline_returned_cases", "12345 工单退回热线（件）", channel="hotline",
                 counts="event:hotline.returned", label_en="Work orders returned for re-dispatch", order=15),
    StatisticDef("hotline_callbacks_cases", "12345 工单已回访（件）", channel="hotline",
                 counts="event:hotline.callback_done", label_en="Callbacks done", order=16),
)
