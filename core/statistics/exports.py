"""Exports of the monthly report: XLSX in the report's own layout (openpyxl) and CSV (UTF-8 with BOM so
that Excel opens the Chinese text correctly). Both render :class:`core.statistics.report.MonthlyReport`,
the same model as the page."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from core.statistics.report import Column, MonthlyReport

__all__ = ["report_xlsx", "report_csv", "content_disposition", "table_xlsx", "table_csv"]


def content_disposition(filename: str, fallback: str) -> str:
    """An ``attachment`` header value that stays latin-1: ASCII fallback plus RFC 5987 ``filename*``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _cell(value: Any, unit: str) -> Any:
    """Numbers stay numbers in the sheet; a rate without a denominator is a dash."""
    if value is None:
        return "—"
    if unit == "percent":
        return float(Decimal(value) / 100)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _fmt(unit: str) -> str:
    return {"percent": "0.0%", "yuan": "#,##0.00"}.get(unit, "#,##0")


def report_xlsx(report: MonthlyReport) -> bytes:
    """The report as an XLSX workbook: sheet 月报表 in the report layout (two header rows with merged
    groups), then the channel indicators; sheets 按月 and 按渠道."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "月报表"
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="EEF1F5")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ncols = 1 + len(report.columns)
    last = get_column_letter(ncols)

    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = report.title
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = center
    ws["A2"] = f"填报单位：{report.scope_label}"
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(1, ncols // 2))
    meta_col = max(2, ncols // 2 + 1)
    ws.cell(row=2, column=meta_col, value=f"统计期间：{report.period_label}")
    ws.cell(row=3, column=1, value=f"代码表版本：{report.code_list_version}")
    ws.cell(row=3, column=meta_col, value=f"生成时间：{report.generated_at:%Y-%m-%d %H:%M}")

    h1, h2 = 4, 5
    ws.cell(row=h1, column=1, value="纠纷类型")
    ws.merge_cells(start_row=h1, start_column=1, end_row=h2, end_column=1)
    col = 2
    i = 0
    cols = report.columns
    while i < len(cols):
        c = cols[i]
        if not c.group:
            ws.cell(row=h1, column=col, value=c.label)
            ws.merge_cells(start_row=h1, start_column=col, end_row=h2, end_column=col)
            col, i = col + 1, i + 1
            continue
        j = i
        while j < len(cols) and cols[j].group == c.group:
            ws.cell(row=h2, column=col + (j - i), value=cols[j].label)
            j += 1
        ws.cell(row=h1, column=col, value=c.group)
        if j - i > 1:
            ws.merge_cells(start_row=h1, start_column=col, end_row=h1, end_column=col + (j - i) - 1)
        col, i = col + (j - i), j
    for r in (h1, h2):
        for cidx in range(1, ncols + 1):
            cell = ws.cell(row=r, column=cidx)
            cell.font = Font(bold=True)
            cell.fill = head_fill
            cell.alignment = center
            cell.border = border

    row = h2 + 1
    for rr in [*report.rows, report.total]:
        ws.cell(row=row, column=1, value=rr.label).border = border
        for k, c in enumerate(cols, start=2):
            cell = ws.cell(row=row, column=k, value=_cell(rr.values.get(c.key), c.unit))
            cell.number_format = _fmt(c.unit)
            cell.border = border
        if rr is report.total:
            for k in range(1, ncols + 1):
                ws.cell(row=row, column=k).font = Font(bold=True)
        row += 1

    if report.indicators:
        row += 1
        ws.cell(row=row, column=1, value="各渠道指标").font = Font(bold=True, size=13)
        row += 1
        for k, label in enumerate(("指标", "渠道", "数值", "统计名"), start=1):
            cell = ws.cell(row=row, column=k, value=label)
            cell.font, cell.fill, cell.border = Font(bold=True), head_fill, border
        row += 1
        for s, value in report.indicators:
            unit = "yuan" if s.value == "amount" else s.unit
            ws.cell(row=row, column=1, value=s.label).border = border
            ws.cell(row=row, column=2, value=s.channel).border = border
            cell = ws.cell(row=row, column=3, value=_cell(value, unit))
            cell.number_format, cell.border = _fmt(unit), border
            ws.cell(row=row, column=4, value=s.name).border = border
            row += 1

    ws.column_dimensions["A"].width = 14
    for k in range(2, ncols + 1):
        ws.column_dimensions[get_column_letter(k)].width = 12
    ws.freeze_panes = ws.cell(row=h2 + 1, column=2)
    ws.page_setup.orientation = "landscape"

    _summary_sheet(wb.create_sheet("按月"), "月份", [(f"{p // 100}-{p % 100:02d}", v) for p, v in report.trend],
                   head_fill, border)
    _summary_sheet(wb.create_sheet("按渠道"), "渠道", report.channels, head_fill, border)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SUMMARY = (
    ("core_registered_cases", "登记数", "cases"),
    ("core_accepted_cases", "受理数", "cases"),
    ("core_settled_cases", "调解成功数", "cases"),
    ("core_success_rate_percent", "调解成功率", "percent"),
    ("core_agreement_amount_yuan", "协议涉及金额（元）", "yuan"),
)


def _summary_sheet(ws: Any, first: str, rows: list[tuple[str, dict[str, Any]]], fill: Any, border: Any) -> None:
    from openpyxl.styles import Font

    for k, label in enumerate([first, *(s[1] for s in SUMMARY)], start=1):
        cell = ws.cell(row=1, column=k, value=label)
        cell.font, cell.fill, cell.border = Font(bold=True), fill, border
    for r, (label, values) in enumerate(rows, start=2):
        ws.cell(row=r, column=1, value=label).border = border
        for k, (key, _, unit) in enumerate(SUMMARY, start=2):
            cell = ws.cell(row=r, column=k, value=_cell(values.get(key), unit))
            cell.number_format, cell.border = _fmt(unit), border
    ws.column_dimensions["A"].width = 16


def _header(c: Column) -> str:
    return f"{c.group}-{c.label}" if c.group else c.label


def report_csv(report: MonthlyReport) -> bytes:
    """The report as CSV (UTF-8 with BOM): one header row, a row per dispute type, 合计, then the
    channel indicators after a blank line. Rates are percents (``66.7``), amounts yuan (``1234.50``)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["纠纷类型", *(_header(c) for c in report.columns)])
    for rr in [*report.rows, report.total]:
        w.writerow([rr.label, *(_csv_value(rr.values.get(c.key)) for c in report.columns)])
    if report.indicators:
        w.writerow([])
        w.writerow(["指标", "渠道", "数值", "统计名"])
        for s, value in report.indicators:
            w.writerow([s.label, s.channel, _csv_value(value), s.name])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def table_csv(headers: list[str], rows: list[list[Any]]) -> bytes:
    """A plain table as CSV with BOM (the subsidy report)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else str(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def table_xlsx(title: str, subtitle: str, headers: list[str], rows: list[list[Any]],
               formats: dict[int, str] | None = None) -> bytes:
    """A titled table as XLSX (the subsidy report)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, len(headers)))
    ws["A1"] = title
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws["A2"] = subtitle
    for k, h in enumerate(headers, start=1):
        cell = ws.cell(row=3, column=k, value=h)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="EEF1F5")
        ws.column_dimensions[get_column_letter(k)].width = max(10, len(h) * 2 + 2)
    for r, values in enumerate(rows, start=4):
        for k, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=k, value=float(v) if isinstance(v, Decimal) else v)
            if formats and k in formats:
                cell.number_format = formats[k]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

