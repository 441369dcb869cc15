"""The hotline's report: response, resolution, satisfaction and on-time rates, overall and by
dispatch category and grid.

One SQL statement aggregates over the case table, one scan: each order's JSON fields are extracted
once (a materialised CTE) and summed per (category, grid); cases are never loaded into Python, only
the group sums, from which the totals, the per-category and per-grid rows and the rates are computed. Scope follows :mod:`core.access`: a mediator sees their room, a supervisor their
organisation's rooms, an admin everything.

Definitions (all over the orders dispatched in the period, by month of registration):

- 响应率 response rate = orders answered (signed for, or returned before signing) / orders;
- 按时响应率 on-time response = answered by the response time / answered;
- 解决率 resolution rate = resolved / (resolved + not resolved);
- 按时办结率 on-time completion = results (resolved or not) on or before the completion day / results;
- 满意率 satisfaction rate = callbacks with 满意 / callbacks done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import clock
from core.access import UserCtx
from core.db import read_transaction
from core.lifecycle import OPEN_STATUSES
from core.statistics.dialect import current
from core.tables import Case

from plugins.hotline.forms import CATEGORIES

__all__ = ["Row", "HotlineReport", "hotline_report"]

COUNTS = ("orders", "responded", "responded_on_time", "resolved", "not_resolved", "returned", "completed_on_time",
          "callbacks", "satisfied", "overdue_open")


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    orders: int = 0
    responded: int = 0
    responded_on_time: int = 0
    resolved: int = 0
    not_resolved: int = 0
    returned: int = 0
    completed_on_time: int = 0
    callbacks: int = 0
    satisfied: int = 0
    overdue_open: int = 0

    @staticmethod
    def _pct(num: int, den: int) -> float | None:
        return None if den == 0 else round(100.0 * num / den, 1)

    @property
    def response_rate(self) -> float | None:
        return self._pct(self.responded, self.orders)

    @property
    def on_time_response_rate(self) -> float | None:
        return self._pct(self.responded_on_time, self.responded)

    @property
    def resolution_rate(self) -> float | None:
        return self._pct(self.resolved, self.resolved + self.not_resolved)

    @property
    def on_time_completion_rate(self) -> float | None:
        return self._pct(self.completed_on_time, self.resolved + self.not_resolved)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._pct(self.satisfied, self.callbacks)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label}
        out.update({k: getattr(self, k) for k in COUNTS})
        for rate in ("response_rate", "on_time_response_rate", "resolution_rate", "on_time_completion_rate",
                     "satisfaction_rate"):
            out[rate] = getattr(self, rate)
        return out


@dataclass(frozen=True)
class HotlineReport:
    period_from: int
    period_to: int
    total: Row
    by_category: list[Row] = field(default_factory=list)
    by_grid: list[Row] = field(default_factory=list)


def _exprs(sqlite: bool) -> dict[str, str]:
    def text(*path: str) -> str:
        if sqlite:
            return f"json_extract(c.intake, '$.{'.'.join(path)}')"
        return "(c.intake" + "".join(f" -> '{p}'" for p in path[:-1]) + f" ->> '{path[-1]}')"

    def true(*path: str) -> str:
        return f"{text(*path)} = 1" if sqlite else f"{text(*path)} = 'true'"

    return {
        "category": f"COALESCE({text('category')}, '')",
        "grid": f"COALESCE({text('grid')}, '')",
        "responded": f"{text('_track', 'responded_at')} IS NOT NULL",
        "responded_on_time": true("_track", "response_on_time"),
        "result": text("_track", "result"),
        "completed_on_time": true("_track", "completed_on_time"),
        "satisfaction": text("_track", "satisfaction"),
    }


def _scope(user: UserCtx) -> tuple[str, list[Any]]:
    if user.role == "admin":
        return "1 = 1", []
    if user.role == "supervisor" and user.organisation is not None:
        return "r.organisation = {}", [user.organisation]
    if user.role == "mediator" and user.room is not None:
        return "c.room = {}", [user.room]
    return "1 = 0", []


async def hotline_report(user: UserCtx, period_from: int, period_to: int) -> HotlineReport:
    """The report for the months ``period_from``..``period_to`` (``YYYYMM``) within ``user``'s scope.

    One scan: a materialised CTE extracts each order's JSON fields once, then the orders are summed per
    (category, grid) in SQL; totals and the per-category and per-grid rows add up those group sums.
    """
    d = current()
    e = _exprs(d.sqlite)
    open_values = [s.value for s in OPEN_STATUSES]
    scope_sql, scope_args = _scope(user)
    period = d.period("c.registered_at")
    sql = (
        "WITH o AS MATERIALIZED (SELECT "
        f"{e['category']} AS cat, {e['grid']} AS grid, "
        f"CASE WHEN {e['responded']} THEN 1 ELSE 0 END AS responded, "
        f"CASE WHEN {e['responded_on_time']} THEN 1 ELSE 0 END AS responded_on_time, "
        f"COALESCE({e['result']}, '') AS result, "
        f"CASE WHEN {e['completed_on_time']} THEN 1 ELSE 0 END AS completed_on_time, "
        f"COALESCE({e['satisfaction']}, '') AS satisfaction, "
        f"CASE WHEN c.status IN ({', '.join('{}' for _ in open_values)}) AND c.deadline < {{}} "
        "THEN 1 ELSE 0 END AS overdue_open "
        f"FROM core_case c JOIN core_room r ON r.id = c.room WHERE c.channel = 'hotline' AND {scope_sql} "
        f"AND {period} >= {{}} AND {period} <= {{}}) "
        "SELECT cat, grid, COUNT(*) AS orders, SUM(responded) AS responded, "
        "SUM(responded_on_time * responded) AS responded_on_time, "
        "SUM(CASE WHEN result = 'resolved' THEN 1 ELSE 0 END) AS resolved, "
        "SUM(CASE WHEN result = 'not_resolved' THEN 1 ELSE 0 END) AS not_resolved, "
        "SUM(CASE WHEN result = 'returned' THEN 1 ELSE 0 END) AS returned, "
        "SUM(CASE WHEN result IN ('resolved', 'not_resolved') THEN completed_on_time ELSE 0 END) AS completed_on_time, "
        "SUM(CASE WHEN satisfaction <> '' THEN 1 ELSE 0 END) AS callbacks, "
        "SUM(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied, "
        "SUM(overdue_open) AS overdue_open FROM o GROUP BY cat, grid"
    )
    async with read_transaction():
        rows = await Case.raw(sql, *open_values, clock.today(), *scope_args, period_from, period_to)
    total: dict[str, int] = dict.fromkeys(COUNTS, 0)
    by_cat: dict[str, dict[str, int]] = {}
    by_grid: dict[str, dict[str, int]] = {}
    for r in rows:  # one row per (category, grid) group, not per order
        for k in COUNTS:
            v = int(r[k] or 0)
            total[k] += v
            by_cat.setdefault(r["cat"], dict.fromkeys(COUNTS, 0))[k] += v
            by_grid.setdefault(r["grid"], dict.fromkeys(COUNTS, 0))[k] += v
    order = {k: i for i, k in enumerate(CATEGORIES)}
    cats = sorted((Row(key=k, label=CATEGORIES.get(k, k or "—"), **v) for k, v in by_cat.items()),
                  key=lambda row: order.get(row.key, len(order)))
    grids = sorted((Row(key=k, label=k or "—", **v) for k, v in by_grid.items()), key=lambda row: (-row.orders, row.key))
    return HotlineReport(period_from, period_to, Row(key="", label="合计", **total), cats, grids)
