"""The monthly people's-mediation report (人民调解工作统计月报) as one model that the page, the XLSX and
the CSV all render, so the three always show the same numbers in the same layout.

Rows are the dispute types of the current code list (sub-codes fold into their parent; codes of older
code-list versions map through the crosswalks, anything unknown into 其它), then 合计. Columns follow
RULES.md §3.10: 受理数 split by case source (主动 / 申请 / 委托移送, from each source code's
``report`` group), 调解成功数 and 成功率, 协议涉及金额, 防止民转刑 and 防止群体性上访 (件/人), 履行数.
Channel indicators registered by plugins follow as a second table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core import clock
from core.channels import StatisticDef
from core.codes import CodeLists
from core.registry import Registry
from core.statistics.definitions import REPORT_SOURCE_GROUPS
from core.statistics.queries import Scope, StatsData, month_range
from core.statistics.tables import MEASURES

__all__ = [
    "Column", "ReportRow", "MonthlyReport", "build_report", "monthly_report", "period_label", "stat_value",
    "format_value",
]

OTHER_SOURCE = "其他来源"


@dataclass(frozen=True)
class Column:
    key: str
    """A statistic name, or ``source:<group>`` for a case-source split of 受理数."""
    label: str
    group: str = ""
    """Header spanning several columns (``受理数``, ``防止民间纠纷转化为刑事案件`` …)."""
    unit: str = "cases"


@dataclass
class ReportRow:
    code: str
    label: str
    values: dict[str, Any]


@dataclass
class MonthlyReport:
    title: str
    scope_label: str
    period_label: str
    code_list_version: str
    generated_at: dt.datetime
    columns: list[Column]
    rows: list[ReportRow]
    total: ReportRow
    sources: list[tuple[str, int]]
    trend: list[tuple[int, dict[str, Any]]]
    channels: list[tuple[str, dict[str, Any]]]
    units: list[tuple[str, dict[str, Any]]]
    unit_kind: str
    mediators: list[tuple[str, dict[str, Any]]]
    indicators: list[tuple[StatisticDef, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    """Every core statistic for the whole scope and period (including those not in the layout)."""


def period_label(first: int, last: int) -> str:
    a, b = f"{first // 100}年{first % 100}月", f"{last // 100}年{last % 100}月"
    return a if first == last else f"{a}至{b}"


def stat_value(s: StatisticDef, measures: dict[str, int], statistics: dict[str, StatisticDef]) -> Any:
    """A statistic's value from summed measures: ``int``, ``Decimal`` yuan, or a percent (``None``
    when the denominator is 0)."""
    if s.ratio:
        num = stat_value(statistics[s.ratio[0]], measures, statistics)
        den = stat_value(statistics[s.ratio[1]], measures, statistics)
        if not den:
            return None
        return (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    if s.measure:
        value = measures.get(s.measure, 0)
        return (Decimal(value) / 100).quantize(Decimal("0.01")) if s.value == "amount" else value
    return 0


def format_value(value: Any, unit: str = "cases") -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value}%"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _fold(codes: CodeLists, list_name: str, code: str) -> str:
    """The top-level code of the current list that ``code`` counts under."""
    c = codes.get(list_name, code)
    if c is None:
        for scheme in codes.crosswalks:
            mapped = codes.crosswalk(scheme, list_name, code)
            if mapped:
                c = codes.get(list_name, mapped)
                break
    if c is None:
        return "other" if list_name == "dispute_type" else code
    while c.parent and codes.get(list_name, c.parent):
        c = codes.get(list_name, c.parent)  # type: ignore[assignment]
    return c.code


def _source_group(codes: CodeLists, code: str) -> str:
    c = codes.get("case_source", code)
    if c is None:
        for scheme in codes.crosswalks:
            mapped = codes.crosswalk(scheme, "case_source", code)
            if mapped and codes.get("case_source", mapped):
                c = codes.get("case_source", mapped)
                break
    return (c.report if c and c.report else "") or OTHER_SOURCE


def _add(into: dict[str, int], measures: dict[str, int]) -> None:
    for m in MEASURES:
        into[m] = into.get(m, 0) + measures.get(m, 0)


def columns_for(statistics: dict[str, StatisticDef], groups: list[str]) -> list[Column]:
    def col(name: str, label: str | None = None, group: str = "") -> list[Column]:
        s = statistics.get(name)
        return [Column(name, label or s.label, group, s.unit)] if s else []

    cols = col("core_registered_cases")
    cols += col("core_accepted_cases", "合计", "受理数")
    cols += [Column(f"source:{g}", g, "受理数") for g in groups]
    for name in ("core_settled_cases", "core_oral_settled_cases", "core_not_settled_cases",
                 "core_success_rate_percent", "core_agreement_amount_yuan"):
        cols += col(name)
    cols += col("core_criminal_prevented_cases", "件", "防止民间纠纷转化为刑事案件")
    cols += col("core_criminal_prevented_people", "人", "防止民间纠纷转化为刑事案件")
    cols += col("core_petition_prevented_cases", "件", "防止群体性上访")
    cols += col("core_petition_prevented_people", "人", "防止群体性上访")
    cols += col("core_performed_cases")
    if "core_agreement_amount_yuan" in statistics:
        cols = [Column(c.key, "协议涉及金额（元）", c.group, c.unit) if c.key == "core_agreement_amount_yuan" else c
                for c in cols]
    return cols


def _values(cols: list[Column], measures: dict[str, int], by_source: dict[str, int],
            statistics: dict[str, StatisticDef]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in cols:
        if c.key.startswith("source:"):
            out[c.key] = by_source.get(c.key[7:], 0)
        else:
            out[c.key] = stat_value(statistics[c.key], measures, statistics)
    return out


def build_report(reg: Registry, scope: Scope, data: StatsData, *, names: dict[str, dict[int, str]] | None = None,
                 title: str = "人民调解工作统计月报表") -> MonthlyReport:
    """Lay out ``data`` as the monthly report. ``names`` maps ``organisation``/``room``/``mediator``
    ids to display names."""
    codes, statistics, names = reg.codes, reg.statistics, names or {}
    f = scope.filters
    assert f is not None
    per_type: dict[str, dict[str, int]] = {}
    per_type_source: dict[str, dict[str, int]] = {}
    source_totals: dict[str, int] = {}
    for v1, v2, measures in data.type_source:
        t, g = _fold(codes, "dispute_type", v1), _source_group(codes, v2)
        _add(per_type.setdefault(t, {}), measures)
        bucket = per_type_source.setdefault(t, {})
        bucket[g] = bucket.get(g, 0) + measures.get("accepted", 0)
        source_totals[g] = source_totals.get(g, 0) + measures.get("accepted", 0)
    groups = list(REPORT_SOURCE_GROUPS) + sorted({g for g in source_totals if g not in REPORT_SOURCE_GROUPS})
    cols = columns_for(statistics, groups)
    rows, total, total_sources = [], {m: 0 for m in MEASURES}, {g: 0 for g in groups}
    for code in codes.lists["dispute_type"].values():
        if code.parent:
            continue
        measures = per_type.get(code.code, {})
        rows.append(ReportRow(code.code, code.label(), _values(cols, measures, per_type_source.get(code.code, {}),
                                                               statistics)))
        _add(total, measures)
    for g, n in source_totals.items():
        total_sources[g] = total_sources.get(g, 0) + n
    total_row = ReportRow("total", "合计", _values(cols, total, total_sources, statistics))

    def summary(measures: dict[str, int]) -> dict[str, Any]:
        return {name: stat_value(s, measures, statistics) for name, s in statistics.items() if s.measure or s.ratio}

    trend = [(p, summary(data.trend.get(p, {}))) for p in month_range(f.period_from, f.period_to)]
    channel_label = {k: c.label for k, c in reg.channels.items()}
    channels = [(channel_label.get(k, k), summary(m)) for k, m in sorted(data.channels.items())]
    unit_names = names.get(data.unit_kind, {})
    units = [(unit_names.get(u, f"#{u}" if u else "未归属组织"), summary(m)) for u, m in data.units]
    med_names = names.get("mediator", {})
    mediators = [(med_names.get(u, f"#{u}") if u else "未指派调解员", summary(m)) for u, m in data.mediators]
    indicators: list[tuple[StatisticDef, Any]] = []
    measures_total = total
    for s in sorted(statistics.values(), key=lambda s: (s.channel != "core", s.channel, s.order, s.name)):
        if s.measure or (s.ratio and s.channel == "core"):
            continue
        if s.counts:
            value: Any = data.indicators.get(s.name, 0)
            if s.value == "amount":
                value = (Decimal(value) / 100).quantize(Decimal("0.01"))
        elif s.ratio:
            num, den = _indicator(statistics, s.ratio[0], data, measures_total), _indicator(
                statistics, s.ratio[1], data, measures_total)
            value = None if not den else (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        else:
            value = data.live.get(s.name, 0)
        indicators.append((s, value))
    return MonthlyReport(
        title=title,
        scope_label=scope.label,
        period_label=period_label(f.period_from, f.period_to),
        code_list_version=codes.version,
        generated_at=clock.now(),
        columns=cols,
        rows=rows,
        total=total_row,
        sources=[(g, total_sources.get(g, 0)) for g in groups],
        trend=trend,
        channels=channels,
        units=units,
        unit_kind=data.unit_kind,
        mediators=mediators,
        indicators=indicators,
        totals=summary(total),
    )


def _indicator(statistics: dict[str, StatisticDef], name: str, data: StatsData, measures: dict[str, int]) -> Any:
    s = statistics.get(name)
    if s is None:
        return 0
    if s.measure:
        return stat_value(s, measures, statistics)
    if s.counts:
        return data.indicators.get(name, 0)
    return data.live.get(name, 0) or 0


async def monthly_report(reg: Registry, user: Any, filters: Any) -> tuple[Scope, MonthlyReport]:
    """Scope ``filters`` to ``user``, read the rollups and lay out the report (with display names)."""
    from core.statistics.queries import load_stats, read_snapshot, resolve_scope
    from core.tables import User

    async with read_snapshot():
        scope = await resolve_scope(user, filters)
        data = await load_stats(scope, reg.statistics)
        ids = [m for m, _ in data.mediators if m]
        mediators = await User.select(User.id, User.display_name).where(User.id.is_in(ids)) if ids else []
    names: dict[str, dict[int, str]] = {
        "organisation": {o["id"]: o["name"] for o in scope.organisations},
        "room": {r["id"]: r["name"] for r in scope.rooms},
        "mediator": {u["id"]: u["display_name"] for u in mediators},
    }
    return scope, build_report(reg, scope, data, names=names)
