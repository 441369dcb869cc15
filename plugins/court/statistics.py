"""Statistics of the court channel.

Two layers:

- counters registered with the core statistics engine (``STATISTICS``), kept in rollups and shown on
  the deployment's statistics pages beside the monthly report (per room, organisation, period);
- the court-referral report (:func:`court_report`): referrals received by kind, accepted, settled,
  success rate, average days to close, on-time rate, judicial confirmations applied and granted,
  returned to court — grouped per room, per court or per period (month of the signed receipt), in
  one ``GROUP BY`` over ``court_referral`` limited to the rooms the user may see; exportable as CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from core.access import UserCtx
from core.channels import StatisticDef
from core.tables import Room

from plugins.court.tables import CourtReferral

__all__ = ["STATISTICS", "COLUMNS", "GROUPS", "court_report", "report_csv"]

STATISTICS = (
    StatisticDef("court_pre_filing_cases", "委派调解收案（件）", channel="court", counts="registered",
                 when=(("kind", "=", "pre_filing"),), label_en="Pre-filing referrals received", order=10),
    StatisticDef("court_entrusted_cases", "委托调解收案（件）", channel="court", counts="registered",
                 when=(("kind", "=", "entrusted"),), label_en="Entrusted referrals received", order=11),
    StatisticDef("court_accepted_cases", "调解员接收（件）", channel="court", counts="status:accepted",
                 label_en="Accepted by the mediator", order=12),
    StatisticDef("court_returned_cases", "退回法院（件）", channel="court", counts="status:declined",
                 label_en="Returned to the court", order=13),
    StatisticDef("court_settled_cases", "诉调对接调解成功（件）", channel="court", counts="status:settled",
                 label_en="Settled", order=14),
    StatisticDef("court_terminated_cases", "诉调对接调解终止（件）", channel="court", counts="status:not_settled",
                 label_en="Terminated without agreement", order=15),
    StatisticDef("court_filed_cases", "委派调解协议送法院备案（件）", channel="court",
                 counts="event:court.agreement_filed", label_en="Agreements filed with the court", order=16),
    StatisticDef("court_document_requested_cases", "申请法院出具调解书（件）", channel="court",
                 counts="event:court.mediation_document_requested",
                 label_en="Court mediation documents requested", order=17),
)

COLUMNS: tuple[tuple[str, str], ...] = (
    ("received_pre_filing", "委派收案"),
    ("received_entrusted", "委托收案"),
    ("received", "收案合计"),
    ("accepted", "接收"),
    ("returned", "退回法院"),
    ("settled", "调解成功"),
    ("terminated", "调解终止"),
    ("success_rate", "调解成功率（%）"),
    ("avg_days", "平均办结天数"),
    ("on_time_rate", "按期办结率（%）"),
    ("confirmations_applied", "申请司法确认"),
    ("confirmations_granted", "司法确认裁定有效"),
)
"""Report columns in order: key and Chinese heading."""

GROUPS = {"room": "按调解室", "court": "按法院", "period": "按月份（签收）"}


@dataclass(frozen=True)
class Filters:
    period_from: int | None = None  # YYYYMM
    period_to: int | None = None
    room: int | None = None
    court: str = ""


_SUMS = (
    "COUNT(*) AS received, "
    "SUM(CASE WHEN r.kind = 'pre_filing' THEN 1 ELSE 0 END) AS received_pre_filing, "
    "SUM(CASE WHEN r.kind = 'entrusted' THEN 1 ELSE 0 END) AS received_entrusted, "
    "SUM(CASE WHEN r.accepted_on IS NOT NULL THEN 1 ELSE 0 END) AS accepted, "
    "SUM(CASE WHEN r.result = 'returned' THEN 1 ELSE 0 END) AS returned, "
    "SUM(CASE WHEN r.result = 'settled' THEN 1 ELSE 0 END) AS settled, "
    "SUM(CASE WHEN r.result = 'terminated' THEN 1 ELSE 0 END) AS terminated, "
    "SUM(CASE WHEN r.days_to_close IS NOT NULL THEN r.days_to_close ELSE 0 END) AS days_total, "
    "SUM(CASE WHEN r.days_to_close IS NOT NULL THEN 1 ELSE 0 END) AS closed, "
    "SUM(CASE WHEN r.on_time IS NOT NULL THEN 1 ELSE 0 END) AS timed, "
    "SUM(CASE WHEN r.on_time THEN 1 ELSE 0 END) AS on_time, "
    "SUM(CASE WHEN r.confirmation_applied_on IS NOT NULL THEN 1 ELSE 0 END) AS confirmations_applied, "
    "SUM(CASE WHEN r.confirmation_decision = 'confirmed' THEN 1 ELSE 0 END) AS confirmations_granted"
)

_GROUP_EXPR = {
    "room": ("m.name", "m.name"),
    "court": ("r.court_name", "r.court_name"),
    "period": ("r.period", "r.period"),
}


def _pct(num: int, den: int) -> float | None:
    return None if not den else round(100.0 * num / den, 1)


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: int(row.get(k) or 0) for k in ("received", "received_pre_filing", "received_entrusted", "accepted",
                                              "returned", "settled", "terminated", "confirmations_applied",
                                              "confirmations_granted")}
    closed, timed = int(row.get("closed") or 0), int(row.get("timed") or 0)
    out["success_rate"] = _pct(out["settled"], out["settled"] + out["terminated"])
    out["avg_days"] = None if not closed else round(int(row.get("days_total") or 0) / closed, 1)
    out["on_time_rate"] = _pct(int(row.get("on_time") or 0), timed)
    return out


async def court_report(user: UserCtx, group: str, filters: Filters | None = None) -> dict[str, Any]:
    """The report rows grouped by ``group`` (room | court | period) plus the total, for the rooms
    ``user`` may see (a mediator: their room; a supervisor: their organisation's; an admin: all)."""
    if group not in _GROUP_EXPR:
        raise ValueError(group)
    f = filters or Filters()
    where, args = ["1 = 1"], []
    if user.role == "supervisor" and user.organisation is not None:
        where.append("m.organisation = {}")
        args.append(user.organisation)
    elif user.role == "mediator" and user.room is not None:
        where.append("r.room = {}")
        args.append(user.room)
    elif user.role != "admin":
        where.append("1 = 0")
    if f.period_from:
        where.append("r.period >= {}")
        args.append(f.period_from)
    if f.period_to:
        where.append("r.period <= {}")
        args.append(f.period_to)
    if f.room:
        where.append("r.room = {}")
        args.append(f.room)
    if f.court:
        where.append("r.court_name = {}")
        args.append(f.court)
    base = f"FROM court_referral r JOIN core_room m ON m.id = r.room WHERE {' AND '.join(where)}"
    select, group_by = _GROUP_EXPR[group]
    rows = await CourtReferral.raw(f"SELECT {select} AS label, {_SUMS} {base} GROUP BY {group_by} ORDER BY {group_by}",
                                   *args)
    total = await CourtReferral.raw(f"SELECT {_SUMS} {base}", *args)
    out_rows = []
    for r in rows:
        label = r["label"]
        if group == "period":
            label = f"{int(label) // 100}年{int(label) % 100:02d}月"
        out_rows.append({"label": label, **_finish(r)})
    return {"group": group, "rows": out_rows, "total": _finish(total[0] if total else {})}


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese headings)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([GROUPS[report["group"]].removeprefix("按"), *[h for _, h in COLUMNS]])
    for r in [*report["rows"], {"label": "合计", **report["total"]}]:
        w.writerow([r["label"], *["" if r[k] is None else r[k] for k, _ in COLUMNS]])
    return "\ufeff" + buf.getvalue()


async def rooms_in_scope(user: UserCtx) -> list[dict[str, Any]]:
    from core.access import room_scope

    return await Room.select(Room.id, Room.name).where(room_scope(user)).order_by(Room.name)
