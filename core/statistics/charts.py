"""Charts drawn on the server as SVG with pygal (no JavaScript, no CDN: ``js=[]`` and the inline
config script removed), for inline embedding. Every chart is a pure function of its numbers, so
rendered SVGs are cached by those numbers (a chart costs ~10 ms to draw; a dashboard viewed again
with unchanged numbers costs nothing)."""

from __future__ import annotations

import re
from functools import lru_cache

from core.statistics.report import MonthlyReport

__all__ = ["type_chart", "trend_chart", "source_chart", "cache_clear"]

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'


def _style():  # noqa: ANN202 - pygal style object
    from pygal.style import Style

    return Style(
        font_family=_FONT,
        background="transparent",
        plot_background="#ffffff",
        colors=("#1f5f8b", "#1e6b3a", "#a4262c", "#8a5300", "#6b4c9a", "#2b8a9a"),
        title_font_size=16,
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=13,
        value_font_size=11,
    )


def _render(chart) -> str:  # noqa: ANN001
    svg = chart.render(is_unicode=True)
    return _SCRIPT.sub("", svg)


def _config(kind: str, title: str, **kw: object):  # noqa: ANN202
    import pygal

    cls = {"bar": pygal.Bar, "line": pygal.Line, "pie": pygal.Pie}[kind]
    return cls(js=[], disable_xml_declaration=True, style=_style(), title=title, width=kw.pop("width", 820),
               height=kw.pop("height", 360), legend_at_bottom=True, print_values=False, **kw)


@lru_cache(maxsize=512)
def _bar(title: str, labels: tuple[str, ...], series: tuple[tuple[str, tuple[int, ...]], ...]) -> str:
    chart = _config("bar", title, x_label_rotation=30, truncate_label=-1)
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


@lru_cache(maxsize=512)
def _line(title: str, labels: tuple[str, ...], series: tuple[tuple[str, tuple[int, ...]], ...]) -> str:
    chart = _config("line", title, x_label_rotation=30, show_minor_x_labels=True, dots_size=3)
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart)


@lru_cache(maxsize=512)
def _pie(title: str, parts: tuple[tuple[str, int], ...]) -> str:
    chart = _config("pie", title, width=520, height=360, inner_radius=0.45)
    for name, value in parts:
        chart.add(name, value)
    return _render(chart)


def cache_clear() -> None:
    for f in (_bar, _line, _pie):
        f.cache_clear()


def type_chart(report: MonthlyReport) -> str:
    """受理数 and 调解成功数 by dispute type (the rows of the report, without 合计)."""
    labels = tuple(r.label for r in report.rows)
    series = tuple(
        (label, tuple(int(r.values.get(key) or 0) for r in report.rows))
        for key, label in (("core_accepted_cases", "受理数"), ("core_settled_cases", "调解成功数"))
        if any(c.key == key for c in report.columns)
    )
    return _bar("按纠纷类型", labels, series)


def trend_chart(report: MonthlyReport) -> str:
    """登记数, 受理数 and 调解成功数 by month."""
    labels = tuple(f"{p // 100}-{p % 100:02d}" for p, _ in report.trend)
    series = tuple(
        (label, tuple(int(v.get(key) or 0) for _, v in report.trend))
        for key, label in (("core_registered_cases", "登记数"), ("core_accepted_cases", "受理数"),
                           ("core_settled_cases", "调解成功数"))
    )
    return _line("按月趋势", labels, series)


def source_chart(report: MonthlyReport) -> str:
    """受理数 by case source (主动 / 申请 / 委托移送)."""
    return _pie("受理案件来源", tuple((g, int(n)) for g, n in report.sources))
