"""Statistics pages and exports: the dashboard with the monthly report (htmx filters, full-page
fallback), XLSX/CSV exports, and the subsidy report. Registered by the ``statistics`` plugin
(``core.statistics.fengqiao_register_routes``); every read is scoped by ``core.statistics.queries``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template
from markupsafe import Markup

from core import clock
from core.access import UserCtx
from core.statistics import charts
from core.statistics.exports import content_disposition, report_csv, report_xlsx, table_csv, table_xlsx
from core.statistics.queries import Scope, StatsFilters, resolve_scope
from core.statistics.report import MonthlyReport, format_value, monthly_report, period_label
from core.statistics.subsidies import SubsidyError, load_rules, record_duty_day, set_public_employee, subsidy_report
from core.tables import User
from web.auth import current_user, requires_login
from web.rendering import render
from web.state import app_state

__all__ = ["ROUTES"]

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _month(value: str | None) -> int | None:
    m = _MONTH.match((value or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        return None
    return int(m.group(1)) * 100 + int(m.group(2))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _filters(request: Request) -> StatsFilters:
    p = request.query_params
    default = StatsFilters.this_year()
    first = _month(p.get("from")) or default.period_from
    last = _month(p.get("to")) or default.period_to
    if first > last:
        first, last = last, first
    if last - first > 1000:  # at most ten years at once
        first = last - 1000
    channel = p.get("channel", "")
    if channel not in app_state(request).registry.channels:
        channel = ""
    return StatsFilters(first, last, _int(p.get("organisation")), _int(p.get("room")), channel)


def _query(scope: Scope) -> dict[str, str]:
    f = scope.filters
    assert f is not None
    q = {"from": f"{f.period_from // 100}-{f.period_from % 100:02d}", "to": f"{f.period_to // 100}-{f.period_to % 100:02d}"}
    if f.organisation is not None:
        q["organisation"] = str(f.organisation)
    if f.room is not None:
        q["room"] = str(f.room)
    if f.channel:
        q["channel"] = f.channel
    return q


async def _report(request: Request) -> tuple[UserCtx, Scope, MonthlyReport]:
    user: UserCtx = await current_user(request)
    scope, report = await monthly_report(app_state(request).registry, user, _filters(request))
    return user, scope, report


def header_cells(report: MonthlyReport) -> list[tuple[str, int, int]]:
    """The report's first header row: (label, colspan, rowspan); grouped columns span one cell."""
    out: list[tuple[str, int, int]] = []
    for c in report.columns:
        if c.group and out and out[-1][0] == c.group and out[-1][2] == 1:
            out[-1] = (c.group, out[-1][1] + 1, 1)
        elif c.group:
            out.append((c.group, 1, 1))
        else:
            out.append((c.label, 1, 2))
    return out


def _filename(scope: Scope, stem: str, ext: str) -> tuple[str, str]:
    f = scope.filters
    assert f is not None
    span = f"{f.period_from}" if f.period_from == f.period_to else f"{f.period_from}-{f.period_to}"
    return f"{stem}_{scope.label}_{span}.{ext}", f"{'statistics' if stem == '人民调解统计月报' else 'subsidies'}-{span}.{ext}"


def _download(body: bytes, media_type: str, names: tuple[str, str]) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": content_disposition(*names), "Cache-Control": "no-store"})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY_COLUMNS = (("core_registered_cases", "cases"), ("core_accepted_cases", "cases"),
                   ("core_settled_cases", "cases"), ("core_not_settled_cases", "cases"),
                   ("core_success_rate_percent", "percent"), ("core_agreement_amount_yuan", "cases"))
"""Columns of the by-channel and by-unit tables (``statistics/_body.html``)."""


@get("/statistics", name="statistics", guards=[requires_login], include_in_schema=False)
async def statistics_page(request: Request) -> Template:
    user, scope, report = await _report(request)
    reg = app_state(request).registry
    query = _query(scope)
    ctx = {
        "user": user,
        "scope": scope,
        "filters": scope.filters,
        "report": report,
        "query": query,
        "qs": urlencode(query),
        "channels": reg.channels,
        "fmt": format_value,
        # the tables' cells formatted here: a call from the template costs a Jinja context call each
        # (some five hundred on a province's page)
        "cells": {
            "rows": [(row.label, [format_value(row.values[c.key], c.unit) for c in report.columns])
                     for row in report.rows],
            "total": [format_value(report.total.values[c.key], c.unit) for c in report.columns],
            **{name: [(label, [format_value(v.get(k), unit) for k, unit in SUMMARY_COLUMNS]) for label, v in items]
               for name, items in (("channels", report.channels), ("units", report.units))},
        },
        "header_cells": header_cells(report),
        "charts": {
            "types": Markup(charts.type_chart(report)),
            "trend": Markup(charts.trend_chart(report)),
            "sources": Markup(charts.source_chart(report)),
        },
        "month_value": lambda p: f"{p // 100}-{p % 100:02d}",
    }
    return render(request, "statistics/page.html", "statistics/_body.html", ctx)


@get("/statistics/report.xlsx", name="statistics_xlsx", guards=[requires_login], include_in_schema=False)
async def statistics_xlsx(request: Request) -> Response:
    _, scope, report = await _report(request)
    return _download(report_xlsx(report), XLSX, _filename(scope, "人民调解统计月报", "xlsx"))


@get("/statistics/report.csv", name="statistics_csv", guards=[requires_login], include_in_schema=False)
async def statistics_csv(request: Request) -> Response:
    _, scope, report = await _report(request)
    return _download(report_csv(report), "text/csv; charset=utf-8", _filename(scope, "人民调解统计月报", "csv"))


SUBSIDY_HEADERS = ["调解员", "调解室", "公职人员", "办结数", "调解成功数", "案件补贴（元）", "值班天数", "值班补贴（元）",
                   "合计（元）", "说明"]


async def _subsidies(request: Request) -> tuple[UserCtx, Scope, Any, list[Any]]:
    user: UserCtx = await current_user(request)
    settings = app_state(request).settings
    scope = await resolve_scope(user, _filters(request))
    rules = load_rules(settings.raw.get("subsidies"))
    lines = await subsidy_report(rules, scope)
    return user, scope, rules, lines


def _subsidy_rows(lines: list[Any]) -> list[list[Any]]:
    return [[x.name, x.room, "是" if x.public_employee else "否", x.concluded, x.settled, x.case_subsidy, x.duty_days,
             x.duty_subsidy, x.total, x.note] for x in lines]


@get("/statistics/subsidies", name="subsidies", guards=[requires_login], include_in_schema=False)
async def subsidies_page(request: Request) -> Template:
    user, scope, rules, lines = await _subsidies(request)
    reg = app_state(request).registry
    query = _query(scope)
    mediators = []
    if user.role in {"supervisor", "admin"}:
        room_ids = [r["id"] for r in scope.rooms] or [-1]
        mediators = await User.select(User.id, User.display_name, User.room.name.as_alias("room_name")).where(
            User.role == "mediator", User.room.is_in(room_ids), User.active == True).order_by(  # noqa: E712
            User.display_name)
    total = sum((x.total for x in lines), start=0)
    ctx = {
        "user": user, "scope": scope, "filters": scope.filters, "rules": rules, "lines": lines, "total": total,
        "query": query, "qs": urlencode(query), "channels": reg.channels, "mediators": mediators,
        "period": period_label(scope.filters.period_from, scope.filters.period_to),
        "month_value": lambda p: f"{p // 100}-{p % 100:02d}", "today": clock.today(),
        "message": request.query_params.get("done", ""),
    }
    return render(request, "statistics/subsidies.html", "statistics/_subsidies.html", ctx)


@get("/statistics/subsidies.xlsx", name="subsidies_xlsx", guards=[requires_login], include_in_schema=False)
async def subsidies_xlsx(request: Request) -> Response:
    _, scope, _, lines = await _subsidies(request)
    f = scope.filters
    body = table_xlsx("调解员补贴表", f"{scope.label}　{period_label(f.period_from, f.period_to)}", SUBSIDY_HEADERS,
                      _subsidy_rows(lines), {6: "#,##0.00", 8: "#,##0.00", 9: "#,##0.00"})
    return _download(body, XLSX, _filename(scope, "调解员补贴表", "xlsx"))


@get("/statistics/subsidies.csv", name="subsidies_csv", guards=[requires_login], include_in_schema=False)
async def subsidies_csv(request: Request) -> Response:
    _, scope, _, lines = await _subsidies(request)
    return _download(table_csv(SUBSIDY_HEADERS, _subsidy_rows(lines)), "text/csv; charset=utf-8",
                     _filename(scope, "调解员补贴表", "csv"))


async def _subsidy_action(request: Request, action: Any) -> Redirect:
    user: UserCtx = await current_user(request)
    form = await request.form()
    try:
        await action(user, form)
    except SubsidyError as exc:
        raise PermissionDeniedException(str(exc)) from exc
    back = str(form.get("back", ""))
    back = back if back.startswith("/statistics/subsidies") and not back.startswith("//") else "/statistics/subsidies"
    return Redirect(path=back, status_code=303)


@post("/statistics/subsidies/duty", name="subsidies_duty", guards=[requires_login], include_in_schema=False,
      status_code=303)
async def subsidies_duty(request: Request) -> Redirect:
    async def action(user: UserCtx, form: Any) -> None:
        try:
            day = dt.date.fromisoformat(str(form.get("day", "")))
        except ValueError:
            raise SubsidyError("日期无效") from None
        await record_duty_day(user, _int(str(form.get("mediator", ""))) or -1, day, str(form.get("note", "")))

    return await _subsidy_action(request, action)


@post("/statistics/subsidies/public-employee", name="subsidies_public", guards=[requires_login],
      include_in_schema=False, status_code=303)
async def subsidies_public(request: Request) -> Redirect:
    async def action(user: UserCtx, form: Any) -> None:
        await set_public_employee(user, _int(str(form.get("mediator", ""))) or -1, form.get("public_employee") == "1")

    return await _subsidy_action(request, action)


ROUTES = [statistics_page, statistics_xlsx, statistics_csv, subsidies_page, subsidies_xlsx, subsidies_csv,
          subsidies_duty, subsidies_public]
