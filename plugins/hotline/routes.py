"""The hotline's pages: the report and work list at ``/channels/hotline/``, and the work-order card
on the case page. Plain GET forms (no JavaScript needed); htmx requests get the report fragment.

Templates ship with the plugin (``templates/``) and extend the application's ``base.html`` through
Litestar's ``Template(template_str=…)``, so the plugin needs no template directory in ``web/``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.enums import MediaType
from litestar.response import Template
from markupsafe import Markup

from core.plugin_http import signed_in_user
from core import clock
from core.access import UserCtx, case_scope
from core.db import read_transaction
from core.lifecycle import OPEN_STATUSES
from core.statistics.exports import content_disposition, table_csv
from core.tables import Case

from plugins.hotline.forms import CATEGORIES, SATISFACTION_LABELS
from plugins.hotline.protocol import PROTOCOL
from plugins.hotline.report import hotline_report

__all__ = ["ROUTES", "order_panel", "report_page", "report_csv"]

_HERE = Path(__file__).parent / "templates"
_BODY = (_HERE / "_body.html").read_text(encoding="utf-8")
_PAGE = (_HERE / "report.html").read_text(encoding="utf-8").replace('{% include "hotline_body" %}', _BODY)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
RESULT_LABELS = {"resolved": "已解决", "not_resolved": "未解决", "returned": "已退回热线", "withdrawn": "来电人撤回"}


async def _user(request: Request) -> UserCtx:
    return signed_in_user(request)  # set by the app's log-in guard on plugin routes


def _month(value: str | None) -> int | None:
    m = _MONTH.match((value or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        return None
    return int(m.group(1)) * 100 + int(m.group(2))


def _fmt_month(p: int) -> str:
    return f"{p // 100}-{p % 100:02d}"


def _time(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.TZ).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _partial(request: Request) -> bool:
    h = request.headers
    return h.get("hx-request") == "true" and h.get("hx-boosted") != "true" and h.get("hx-history-restore-request") != "true"


async def _open_orders(user: UserCtx) -> list[dict[str, Any]]:
    rows = await Case.select(Case.id, Case.number, Case.state, Case.status, Case.intake, Case.deadline).where(
        (Case.channel == "hotline") & Case.status.is_in([s.value for s in OPEN_STATUSES]) & case_scope(user)
    ).order_by(Case.deadline).order_by(Case.id).limit(200).output(load_json=True)
    today = clock.today()
    out = []
    for r in rows:
        intake = r["intake"] if isinstance(r["intake"], dict) else {}
        due = r["deadline"]
        urgency = "" if due is None else "overdue" if due < today else "due-soon" if (due - today).days <= 1 else ""
        out.append({
            "id": r["id"], "number": r["number"], "order_number": intake.get("order_number", ""),
            "state_label": PROTOCOL.state(r["state"]).label if r["state"] in {s.key for s in PROTOCOL.states} else r["state"],
            "response_due": _time(intake.get("response_due")), "completion_due": intake.get("completion_due") or "—",
            "grid": intake.get("grid", ""), "urgency": urgency,
        })
    return out


def _period(request: Request) -> tuple[int, int]:
    today = clock.today()
    first = _month(request.query_params.get("from")) or today.year * 100 + 1
    last = _month(request.query_params.get("to")) or today.year * 100 + today.month
    return (last, first) if first > last else (first, last)


CSV_HEADERS = ["维度", "名称", "工单数", "已响应", "响应率(%)", "按时响应率(%)", "已解决", "未解决", "退回热线",
               "解决率(%)", "按时办结率(%)", "已回访", "满意", "满意率(%)", "超期未办结"]


@get("/channels/hotline/report.csv", name="hotline_report_csv", include_in_schema=False)
async def report_csv(request: Request) -> Response[bytes]:
    """The hotline report as CSV (UTF-8 with BOM) for the hotline's monthly return."""
    user = await _user(request)
    first, last = _period(request)
    report = await hotline_report(user, first, last)
    rows = []
    for dim, group in (("合计", [report.total]), ("派单分类", report.by_category), ("网格", report.by_grid)):
        for r in group:
            rows.append([dim, r.label, r.orders, r.responded, r.response_rate, r.on_time_response_rate, r.resolved,
                         r.not_resolved, r.returned, r.resolution_rate, r.on_time_completion_rate, r.callbacks,
                         r.satisfied, r.satisfaction_rate, r.overdue_open])
    name = f"12345工单统计_{_fmt_month(first)}_{_fmt_month(last)}.csv"
    return Response(table_csv(CSV_HEADERS, rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition(name, f"hotline_{first}_{last}.csv"), "Cache-Control": "no-store"})


@get("/channels/hotline/", name="hotline_report", include_in_schema=False)
async def report_page(request: Request) -> Template:
    """The hotline report (rates by category and grid) and the open work orders, in the user's scope."""
    user = await _user(request)
    first, last = _period(request)
    async with read_transaction():
        report = await hotline_report(user, first, last)
        open_orders = await _open_orders(user)
    partial = _partial(request)
    return Template(
        template_str=_BODY if partial else _PAGE,
        context={"user": user, "report": report, "open_orders": open_orders,
                 "month_from": _fmt_month(first), "month_to": _fmt_month(last)},
        media_type=MediaType.HTML,
        headers={"Vary": "HX-Request", "Cache-Control": "no-store"},
    )


def order_panel(case: dict[str, Any]) -> dict[str, Any]:
    """The work-order card: what the hotline asked for and how the order stands against it."""
    intake = case.get("intake") if isinstance(case.get("intake"), dict) else {}
    track = intake.get("_track") or {}

    def verdict(flag: Any) -> str:
        return "" if flag is None else "（按时）" if flag else "（超时）"

    rows = [
        ("工单编号", intake.get("order_number")),
        ("派单分类", CATEGORIES.get(intake.get("category", ""), intake.get("category"))),
        ("事发地点", intake.get("location")),
        ("所属网格", intake.get("grid")),
        ("网格员", " ".join(x for x in (intake.get("grid_worker"), intake.get("grid_worker_phone")) if x) or None),
        ("派单时间", _time(intake.get("dispatched_at"))),
        ("要求响应时间", _time(intake.get("response_due"))),
        ("签收/响应", (_time(track["responded_at"]) + verdict(track.get("response_on_time")))
         if track.get("responded_at") else "尚未签收"),
        ("要求办结日期", intake.get("completion_due")),
        ("办理结果", (RESULT_LABELS.get(track["result"], track["result"]) + " " + _time(track.get("completed_at"))
                  + verdict(track.get("completed_on_time"))) if track.get("result") else "尚无结果"),
        ("回访", (SATISFACTION_LABELS.get(track["satisfaction"], track["satisfaction"]) + " "
                + _time(track.get("callback_at"))) if track.get("satisfaction") else "尚未回访"),
    ]
    items = Markup("").join(
        Markup("<dt>{}</dt><dd>{}</dd>").format(k, v if v not in (None, "") else "—") for k, v in rows
    )
    overdue = (case.get("status") in {s.value for s in OPEN_STATUSES} and case.get("deadline") is not None
               and case["deadline"] < clock.today())
    warning = Markup('<p class="error" role="alert">已超过热线要求的办结日期</p>') if overdue else Markup("")
    return {"title": "12345 工单", "html": Markup(
        '{}<dl class="hotline-order" id="hotline-order">{}</dl><p><a href="/channels/hotline/">12345 工单统计与在办工单</a></p>'
    ).format(warning, items)}


ROUTES = [report_page, report_csv]
