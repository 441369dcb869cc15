"""The petition channel's pages under ``/channels/petition/``: the dedicated team's page (team, plan,
members, working records — team-restricted), the subsidy report (with CSV/XLSX export) and the statistics.

Every page works as plain forms and full pages, and with htmx (partials for htmx requests that are not
boosted; ``Vary: HX-Request`` always).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.plugin_http import signed_in_user
from core import clock
from core.access import UserCtx
from core.cases import CaseError, NotFound, Refused
from core.deadline_service import deadline_for, main_clock
from core.forms import FormErrors, validate_form
from core.statistics.exports import content_disposition, table_csv, table_xlsx
from core.statistics.subsidies import SubsidyError
from core.tables import User

from plugins.petition import report as reports
from plugins.petition import service
from plugins.petition.forms import MAJOR_CRITERIA, PROFESSIONS, RECORD_FORMS, RECORD_LABELS, MemberForm, TeamForm
from plugins.petition.protocol import STEPS

__all__ = ["ROUTES"]

BASE = "/channels/petition"


async def _user(request: Request) -> UserCtx:
    return signed_in_user(request)  # set by the app's log-in guard on plugin routes


def _fq(request: Request) -> Any:
    return request.app.state["fq"]


def _partial(request: Request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _render(request: Request, page: str, partial: str, context: dict[str, Any], status_code: int = 200) -> Template:
    return Template(template_name=partial if _partial(request) else page, context=context, status_code=status_code,
                    media_type=MediaType.HTML, headers={"Vary": "HX-Request", "Cache-Control": "no-store"})


def _form_dict(form: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in form.multi_items():
        if k == "_csrf_token":
            continue
        out[k] = v if k not in out else (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
    return out


async def _team_context(request: Request, case_id: int, user: UserCtx, **extra: Any) -> dict[str, Any]:
    reg = _fq(request).registry
    case = await _load(case_id, user)
    f = await service.petition_file(case_id)
    members = await service.team_members(f["id"]) if f else []
    room_people = await User.select(User.id, User.display_name, User.username).where(
        User.room == case["room"], User.role == "mediator", User.active == True).order_by(User.id)  # noqa: E712
    supervisors = await User.select(User.id, User.display_name).where(
        User.role == "supervisor", User.organisation == case["room_organisation"]).order_by(User.id) \
        if case.get("room_organisation") else []
    registered_on = case["registered_at"].astimezone(clock.TZ).date()
    acceptance_due = deadline_for(reg, "petition_acceptance", registered_on)
    main = main_clock(reg, case, await _clock_entries(case_id), clock.today())
    clocks = [main] if main is not None else []
    protocol = reg.protocol("petition")
    step_no = next((i for i, (_, states) in enumerate(STEPS) if case["state"] in states), 0)
    closed = case.get("closed_at")
    review_due = deadline_for(reg, "petition_review_application", closed.astimezone(clock.TZ).date()) if closed else None
    return {
        "user": user, "case": case, "file": f, "members": members, "records": await service.records_of(case_id),
        "record_forms": RECORD_FORMS, "record_labels": RECORD_LABELS, "criteria_labels": MAJOR_CRITERIA,
        "professions": PROFESSIONS, "team_schema": TeamForm, "member_schema": MemberForm,
        "room_people": room_people, "supervisors": supervisors, "acceptance_due": acceptance_due,
        "clocks": clocks, "steps": STEPS, "step_no": step_no, "state_label": protocol.state(case["state"]).label,
        "review_due": review_due, "errors": {}, "values": {}, "error_form": "", "notice": "",
        "team_states": service.TEAM_STATES, "record_states": service.RECORD_STATES, **extra,
    }


async def _clock_entries(case_id: int) -> list[dict[str, Any]]:
    from core.case_clocks import clock_entries

    return await clock_entries(case_id)


async def _load(case_id: int, user: UserCtx) -> dict[str, Any]:
    from core.tables import Case

    case = await service.require_team_access(case_id, user)
    row = await Case.select(Case.room.organisation.as_alias("o")).where(Case.id == case_id).first()
    case["room_organisation"] = row["o"] if row else None
    return case


def _http(exc: CaseError) -> Exception:
    if isinstance(exc, NotFound):
        return NotFoundException(exc.message)
    if isinstance(exc, service.Forbidden):
        return PermissionDeniedException(exc.message)
    return exc


@get(BASE + "/cases/{case_id:int}", name="petition_team", include_in_schema=False)
async def team_page(request: Request, case_id: FromPath[int]) -> Any:
    """The dedicated team's page: grade, number, plan, supervisor, members and working records."""
    user = await _user(request)
    try:
        ctx = await _team_context(request, case_id, user, notice=request.query_params.get("done", ""))
    except service.Forbidden as exc:
        raise PermissionDeniedException(exc.message) from exc
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc
    except Refused as exc:
        return Response(exc.message, status_code=409, media_type=MediaType.TEXT)
    return _render(request, "petition/team.html", "petition/_team.html", ctx)


async def _act(request: Request, case_id: int, form_key: str, action: Any, done: str) -> Any:
    user = await _user(request)
    form = _form_dict(await request.form())
    try:
        await _load(case_id, user)  # out of scope → 404, not a petition → 409, not on the team → 403
        await action(user, _fq(request).registry, form)
    except (NotFound, service.Forbidden) as exc:
        raise _http(exc) from exc
    except (FormErrors, Refused) as exc:
        errors = exc.errors if isinstance(exc, FormErrors) else {"": exc.message}
        try:
            ctx = await _team_context(request, case_id, user, errors=errors, values=form, error_form=form_key)
        except Refused as refused:
            return Response(refused.message, status_code=409, media_type=MediaType.TEXT)
        return _render(request, "petition/team.html", "petition/_team.html", ctx,
                       status_code=422 if isinstance(exc, FormErrors) else 409)
    if _partial(request):
        ctx = await _team_context(request, case_id, user, notice=done)
        return _render(request, "petition/team.html", "petition/_team.html", ctx)
    return Redirect(path=f"{BASE}/cases/{case_id}", query_params={"done": done}, status_code=303)


@post(BASE + "/cases/{case_id:int}/team", name="petition_team_save", include_in_schema=False, status_code=303)
async def save_team(request: Request, case_id: FromPath[int]) -> Any:
    async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
        return await service.save_team(reg, case_id, user, validate_form(TeamForm, form))

    return await _act(request, case_id, "team", action, "已保存专调小组和化解方案")


@post(BASE + "/cases/{case_id:int}/members", name="petition_member_add", include_in_schema=False, status_code=303)
async def add_member(request: Request, case_id: FromPath[int]) -> Any:
    async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
        return await service.add_member(reg, case_id, user, validate_form(MemberForm, form))

    return await _act(request, case_id, "member", action, "已添加小组成员")


@post(BASE + "/cases/{case_id:int}/members/remove", name="petition_member_remove", include_in_schema=False,
      status_code=303)
async def remove_member(request: Request, case_id: FromPath[int]) -> Any:
    async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
        try:
            member = int(form.get("member") or "")
        except ValueError:
            raise FormErrors({"member": "请选择要移除的成员"}) from None
        return await service.remove_member(reg, case_id, user, member)

    return await _act(request, case_id, "member", action, "已移除小组成员")


@post(BASE + "/cases/{case_id:int}/records", name="petition_record_add", include_in_schema=False, status_code=303)
async def add_record(request: Request, case_id: FromPath[int]) -> Any:
    async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
        kind = form.pop("kind", "")
        if kind not in RECORD_FORMS:
            raise FormErrors({"kind": "请选择工作记录的种类"})
        return await service.add_record(reg, case_id, user, kind, validate_form(RECORD_FORMS[kind], form))

    kind = (await request.form()).get("kind", "")
    return await _act(request, case_id, f"record:{kind}", action, "已添加工作记录")


# ------------------------------------------------------------------------------------------ report pages


def _periods(request: Request) -> tuple[int, int]:
    today = clock.today()
    default_from, default_to = today.year * 100 + 1, today.year * 100 + today.month

    def parse(value: str | None, default: int) -> int:
        try:
            d = dt.date.fromisoformat((value or "") + "-01")
            return d.year * 100 + d.month
        except ValueError:
            return default

    p = request.query_params
    first, last = parse(p.get("from"), default_from), parse(p.get("to"), default_to)
    return (first, last) if first <= last else (last, first)


def _month(p: int) -> str:
    return f"{p // 100}-{p % 100:02d}"


@get(BASE + "/report", name="petition_report", include_in_schema=False)
async def subsidy_report_page(request: Request) -> Any:
    """个案补贴 per period and team (bands, amounts, payers); ``?format=csv|xlsx`` exports it."""
    user = await _user(request)
    settings = _fq(request).settings
    first, last = _periods(request)
    try:
        rep = await reports.petition_subsidies(settings, user, first, last)
    except SubsidyError as exc:
        return Response(f"补贴规则配置有误：{exc}", status_code=409, media_type=MediaType.TEXT)
    fmt = request.query_params.get("format", "")
    name = f"petition-subsidies-{first}-{last}"
    if fmt == "csv":
        return Response(table_csv(reports.REPORT_HEADERS, reports.report_rows(rep)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": content_disposition(f"访调对接个案补贴-{first}-{last}.csv",
                                                                            name + ".csv")})
    if fmt == "xlsx":
        body = table_xlsx("访调对接个案补贴", f"{rep.scope.label} {_month(first)} 至 {_month(last)}",
                          reports.REPORT_HEADERS, reports.report_rows(rep), {7: "#,##0.00", 10: "#,##0.00", 11: "#,##0.00"})
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": content_disposition(f"访调对接个案补贴-{first}-{last}.xlsx",
                                                                            name + ".xlsx")})
    return _render(request, "petition/report.html", "petition/_report.html", {
        "user": user, "report": rep, "first": _month(first), "last": _month(last),
        "grade_labels": reports.GRADE_LABELS, "outcome_labels": reports.OUTCOME_LABELS,
    })


@get(BASE + "/statistics", name="petition_statistics", include_in_schema=False)
async def statistics_page(request: Request) -> Any:
    user = await _user(request)
    first, last = _periods(request)
    data = await reports.petition_statistics(_fq(request).registry, user, first, last)
    peak = max((n for _, n in data["trend"]), default=0) or 1
    return _render(request, "petition/statistics.html", "petition/_statistics.html", {
        "user": user, **data, "first": _month(first), "last": _month(last), "peak": peak, "month": _month,
    })


@get(BASE + "/", name="petition_desk", include_in_schema=False)
async def desk_page(request: Request) -> Any:
    """The room's petitions under supervision (挂牌督办): step, grade, team number, supervisor and the
    deadline that matters now (acceptance within 15 days, then the handling deadline or the team's own)."""
    from core.access import case_scope
    from core.tables import Case

    from plugins.petition.tables import PetitionFile

    user = await _user(request)
    reg = _fq(request).registry
    show_all = request.query_params.get("all") == "1"
    query = Case.select(Case.id, Case.number, Case.state, Case.status, Case.summary, Case.people_count,
                        Case.registered_at, Case.deadline, Case.clock_started_on, Case.room.name.as_alias("room_name")
                        ).where(case_scope(user), Case.channel == "petition")
    if not show_all:
        query = query.where(Case.status.is_in(["registered", "accepted", "in_mediation"]))
    cases = await query.order_by(Case.id, ascending=False).limit(500)
    ids = [c["id"] for c in cases] or [-1]
    files = {f["case"]: f for f in await PetitionFile.select(
        PetitionFile.case, PetitionFile.grade, PetitionFile.number, PetitionFile.team_deadline,
        PetitionFile.supervisor.display_name.as_alias("supervisor_name")).where(PetitionFile.case.is_in(ids))}
    protocol = reg.protocol("petition")
    today = clock.today()
    rows = []
    for c in cases:
        f = files.get(c["id"])
        if c["status"] == "registered":
            due, what = deadline_for(reg, "petition_acceptance", c["registered_at"].astimezone(clock.TZ).date()), "决定是否受理"
        elif f and f["team_deadline"] and c["status"] in {"accepted", "in_mediation"}:
            due, what = min(f["team_deadline"], c["deadline"] or f["team_deadline"]), "限时销号"
        else:
            due, what = (c["deadline"], "办理期限") if c["clock_started_on"] else (None, "")
        open_ = c["status"] in {"registered", "accepted", "in_mediation"}
        rows.append({**c, "file": f, "state_label": protocol.state(c["state"]).label, "due": due, "due_what": what,
                     "overdue": bool(open_ and due and due < today)})
    return _render(request, "petition/desk.html", "petition/_desk.html",
                   {"user": user, "rows": rows, "show_all": show_all})


ROUTES = [desk_page, team_page, save_team, add_member, remove_member, add_record, subsidy_report_page, statistics_page]
