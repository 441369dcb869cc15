"""Routes of the court channel under ``/channels/court/``: the court record of a case with its
judicial-confirmation packet, application and decision, and the court-referral report (HTML, CSV).

Every form works as a plain POST (303 to the record page, or the page again with 422/409 and the
field messages) and with htmx (the record fragment, swapped in place).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response
from litestar.utils.scope.state import ScopeState

from core.plugin_http import registry_of, signed_in_user
from core import cases
from core.access import UserCtx
from core.forms import FormErrors, validate_form

from plugins.court import records, views
from plugins.court.forms import ApplicationForm, DecisionForm, PacketForm
from plugins.court.statistics import COLUMNS, GROUPS, Filters, court_report, report_csv

__all__ = ["ROUTES"]


async def _user(request: Request) -> UserCtx:
    return signed_in_user(request)  # set by the app's log-in guard on plugin routes


def _registry(request: Request) -> Any:
    return registry_of(request)


def _csrf(request: Request) -> str:
    return ScopeState.from_scope(request.scope).csrf_token or ""


def _htmx(request: Request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


async def _case(case_id: int, user: UserCtx) -> dict[str, Any]:
    try:
        return await cases.load_case(case_id, user)
    except cases.NotFound as exc:
        raise NotFoundException(exc.message) from exc


async def _show(request: Request, case: dict[str, Any], user: UserCtx, *, status_code: int = 200,
                **kw: Any) -> Any:
    body = await views.record_fragment(_registry(request), case, _csrf(request), **kw)
    if _htmx(request):
        return Response(str(body), status_code=status_code, media_type="text/html",
                        headers={"Vary": "HX-Request", "Cache-Control": "no-store"})
    title = f"诉调对接记录 · {case['number']}"
    return views.page(title, body, user, status_code=status_code)


@get("/channels/court/cases/{case_id:int}", name="court_record")
async def court_record(request: Request, case_id: FromPath[int]) -> Any:
    user = await _user(request)
    return await _show(request, await _case(case_id, user), user)


async def _act(request: Request, case_id: int, form_name: str, schema: Any, action: Any, done: str) -> Any:
    user = await _user(request)
    case = await _case(case_id, user)  # out of scope → 404 before any validation
    posted = {k: v for k, v in (await request.form()).items() if k != "_csrf_token"}
    try:
        await action(_registry(request), case_id, user, validate_form(schema, posted))
    except FormErrors as exc:
        return await _show(request, case, user, status_code=422, errors=exc.errors, error_form=form_name,
                           values=posted)
    except cases.Refused as exc:
        return await _show(request, case, user, status_code=409, errors={"": exc.message}, error_form=form_name,
                           values=posted)
    if _htmx(request):
        return await _show(request, await _case(case_id, user), user, message=done)
    return Redirect(path=f"/channels/court/cases/{case_id}", status_code=303)


@post("/channels/court/cases/{case_id:int}/packet", name="court_packet", status_code=303)
async def court_packet(request: Request, case_id: FromPath[int]) -> Any:
    return await _act(request, case_id, "packet", PacketForm, records.save_packet, "已保存材料清单")


@post("/channels/court/cases/{case_id:int}/application", name="court_application", status_code=303)
async def court_application(request: Request, case_id: FromPath[int]) -> Any:
    return await _act(request, case_id, "application", ApplicationForm, records.apply_confirmation,
                      "已记录司法确认申请")


@post("/channels/court/cases/{case_id:int}/decision", name="court_decision", status_code=303)
async def court_decision(request: Request, case_id: FromPath[int]) -> Any:
    return await _act(request, case_id, "decision", DecisionForm, records.record_decision, "已记录法院裁定")


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _filters(request: Request) -> tuple[str, Filters, dict[str, str], dict[str, str]]:
    q = request.query_params
    values = {k: (q.get(k) or "").strip() for k in ("group", "from", "to", "court")}
    errors: dict[str, str] = {}
    group = values["group"] or "room"
    if group not in GROUPS:
        errors["group"] = "分组方式应为：调解室、法院或月份"
        group = "room"
    periods: dict[str, int | None] = {}
    for key in ("from", "to"):
        m = _MONTH.match(values[key]) if values[key] else None
        if values[key] and (m is None or not 1 <= int(m.group(2)) <= 12):
            errors[key] = "月份格式应为 年-月，如 2026-11"
        periods[key] = int(m.group(1)) * 100 + int(m.group(2)) if m and key not in errors else None
    if periods["from"] and periods["to"] and periods["from"] > periods["to"]:
        errors["to"] = "截止月份不能早于起始月份"
    return group, Filters(period_from=periods["from"], period_to=periods["to"], court=values["court"]), values, errors


@get("/channels/court/statistics", name="court_statistics")
async def court_statistics(request: Request) -> Any:
    user = await _user(request)
    group, filters, values, errors = _filters(request)
    report = await court_report(user, group, Filters() if errors else filters)
    query = str(request.url.query or "")
    body = views.render("court/_statistics.html", report=report, columns=COLUMNS, groups=GROUPS, values=values,
                        errors=errors, query=query)
    status = 422 if errors else 200
    if _htmx(request):
        return Response(str(body), status_code=status, media_type="text/html",
                        headers={"Vary": "HX-Request", "Cache-Control": "no-store"})
    return views.page("诉调对接统计", body, user, status_code=status)


@get("/channels/court/statistics.csv", name="court_statistics_csv")
async def court_statistics_csv(request: Request) -> Response:
    user = await _user(request)
    group, filters, _, errors = _filters(request)
    if errors:
        return Response({"errors": errors}, status_code=422)
    report = await court_report(user, group, filters)
    return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=\"court-{group}.csv\"",
                             "Cache-Control": "no-store"})


ROUTES = [court_record, court_packet, court_application, court_decision, court_statistics, court_statistics_csv]
