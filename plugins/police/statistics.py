"""Police-channel statistics.

Per room and period: counters kept in the core rollups (``StatisticDef``), shown on the statistics pages
and in exports. Per station: :func:`station_table`, read from the cases of the period in the user's
scope (the station is an intake field of the transfer form), shown at ``/channels/police/stations``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from core import clock
from core.access import UserCtx, case_scope
from core.channels import StatisticDef
from core.tables import Agreement, Case, CaseEvent

__all__ = ["STATISTICS", "station_table"]

STATISTICS = (
    StatisticDef("police_transfers_cases", "接收派出所移交（件）", channel="police", counts="registered",
                 label_en="Transfers received", order=10),
    StatisticDef("police_public_order_cases", "其中治安调解案件（件）", channel="police", counts="registered",
                 when=(("kind", "=", "public_order"),), label_en="of which public-order cases", order=11),
    StatisticDef("police_accepted_cases", "受理（件）", channel="police", counts="status:accepted",
                 label_en="Accepted", order=15),
    StatisticDef("police_returned_at_intake_cases", "不予受理退回派出所（件）", channel="police",
                 counts="status:declined", label_en="Returned to the station at intake", order=20),
    StatisticDef("police_returned_unsettled_cases", "调解不成或终止退回派出所（件）", channel="police",
                 counts="status:not_settled", label_en="Returned to the station after mediation", order=21),
    StatisticDef("police_breach_returned_cases", "协议未履行退回派出所（件）", channel="police",
                 counts="event:police.agreement_breached", label_en="Returned after non-performance", order=22),
    StatisticDef("police_settled_cases", "调解成功（件）", channel="police", counts="status:settled",
                 label_en="Settled", order=30),
    StatisticDef("police_performed_cases", "协议已履行（件）", channel="police", counts="performed",
                 label_en="Agreements performed", order=31),
    StatisticDef("police_success_rate_percent", "调解成功率", channel="police", unit="percent",
                 ratio=("police_settled_cases", "police_accepted_cases"),
                 label_en="Success rate (settled ÷ accepted)", order=35),
    StatisticDef("police_in_station_percent", "矛盾不出所化解率", channel="police", unit="percent",
                 ratio=("police_settled_cases", "police_transfers_cases"),
                 label_en="Resolved without leaving the station (settled ÷ transfers)", order=36),
    StatisticDef("police_agreed_amount_yuan", "协议金额", channel="police", counts="status:settled", value="amount",
                 unit="yuan", label_en="Amounts agreed", order=40),
)


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}%" if den else "—"


async def station_table(user: UserCtx, date_from: dt.date, date_to: dt.date, room: int | None = None
                        ) -> list[dict[str, Any]]:
    """One row per station and room (cases registered in ``date_from .. date_to``, local dates), then
    one total row per station, in the user's scope."""
    start = dt.datetime.combine(date_from, dt.time(), clock.TZ)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), clock.TZ)
    query = Case.select(Case.id, Case.room, Case.room.name.as_alias("room_name"), Case.intake, Case.outcome,
                        Case.accepted_at, Case.status).where(
        case_scope(user), Case.channel == "police", Case.registered_at >= start, Case.registered_at < end)
    if room is not None:
        query = query.where(Case.room == room)
    cases = await query.output(load_json=True)
    ids = [c["id"] for c in cases]
    agreements = {a["case"]: a for a in await Agreement.select(Agreement.case, Agreement.amount,
                                                                 Agreement.fulfilment).where(Agreement.case.is_in(ids))
                  } if ids else {}
    breached = {e["case"] for e in await CaseEvent.select(CaseEvent.case).where(
        CaseEvent.case.is_in(ids), CaseEvent.type == "police.agreement_breached")} if ids else set()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for c in cases:
        station = ((c["intake"] or {}).get("station") or "（未填写）").strip()
        for key in ((station, c["room_name"]), (station, "")):
            g = groups.setdefault(key, {"station": station, "room": key[1], "received": 0, "accepted": 0,
                                        "settled": 0, "returned": 0, "performed": 0, "resolved": 0,
                                        "amount": decimal.Decimal(0)})
            g["received"] += 1
            g["accepted"] += c["accepted_at"] is not None
            settled = c["outcome"].startswith("settled")
            g["settled"] += settled
            returned = c["outcome"] in {"declined", "not_settled"} or c["id"] in breached
            g["returned"] += returned
            a = agreements.get(c["id"])
            g["performed"] += bool(settled and a and a["fulfilment"] == "performed")
            g["resolved"] += settled and c["id"] not in breached
            if settled and a and a["amount"] is not None:
                g["amount"] += a["amount"]
    rows = []
    for (station, room_name), g in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] == "", kv[0][1])):
        g["success_rate"] = _pct(g["settled"], g["accepted"])
        g["in_station_share"] = _pct(g["resolved"], g["received"])
        g["total"] = room_name == ""
        rows.append(g)
    return rows
