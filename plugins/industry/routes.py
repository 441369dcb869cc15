"""Pages and actions of the industry host (plain forms and full pages; they work with and without htmx).

- ``/channels/<key>/experts`` — a committee's expert pool (staff add experts and switch them off);
- ``/cases/{case_id}/consultations`` — expert consultations of a committee case (request, 回避,
  written opinions) and the clock's start day for committees whose period runs from a fact;
- ``/channels/industry/committees`` — the committee registry (filing, annual inspection, statistics
  reports) and the dormant check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.plugin_http import registry_of, signed_in_user
from core import cases as core_cases
from core.access import UserCtx
from core.cases import NotFound, Refused
from core.forms import FormErrors, validate_form
from plugins.industry import experts as ex
from plugins.industry import registry as reg_mod
from plugins.industry.model import Committee

__all__ = ["routes"]

TEMPLATES = Path(__file__).parent / "templates"


async def _user(request: Request) -> UserCtx:
    return signed_in_user(request)  # set by the app's log-in guard on plugin routes


def _registry(request: Request) -> Any:
    return registry_of(request)


def _committees(request: Request) -> dict[str, Committee]:
    from plugins.industry.host import committees_of

    return committees_of(_registry(request))


def _form(raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.multi_items():
        if key == "_csrf_token":
            continue
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


def _page(name: str, context: dict[str, Any], status_code: int = 200) -> Template:
    return Template(template_str=(TEMPLATES / name).read_text(encoding="utf-8"), context=context,
                    status_code=status_code, media_type=MediaType.HTML,
                    headers={"Vary": "HX-Request", "Cache-Control": "no-store"})


# ----------------------------------------------------------------------------- consultations


async def _case_page(request: Request, case_id: int, *, errors: dict[str, str] | None = None,
                     values: dict[str, Any] | None = None, form: str = "", status_code: int = 200) -> Template:
    user = await _user(request)
    try:
        case = await core_cases.load_case(case_id, user)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc
    committees = _committees(request)
    c = committees.get(case["channel"])
    experts = [e for e in await ex.experts_of(c) if e["active"]] if c else []
    return _page("consultations.html", {
        "user": user, "case": case, "committee": c, "consultations": await ex.consultations_for_case(c, case_id),
        "pool": await ex.pool_status(c) if c else [], "experts": experts, "errors": errors or {},
        "values": values or {}, "error_form": form, "min_pool": ex.MIN_POOL, "min_opinions": ex.MIN_OPINIONS,
    }, status_code)


@get("/cases/{case_id:int}/consultations", name="industry_consultations")
async def consultations_page(request: Request, case_id: FromPath[int]) -> Any:
    return await _case_page(request, case_id)


async def _case_action(request: Request, case_id: int, form_name: str, action: Any) -> Any:
    user = await _user(request)
    values = _form(await request.form())
    try:
        await core_cases.load_case(case_id, user)  # 404 before validation
        await action(user, values)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc
    except FormErrors as exc:
        return await _case_page(request, case_id, errors=exc.errors, values=values, form=form_name, status_code=422)
    except Refused as exc:
        return await _case_page(request, case_id, errors={"": exc.message}, values=values, form=form_name,
                                status_code=409)
    return Redirect(path=f"/cases/{case_id}/consultations", status_code=303)


@post("/cases/{case_id:int}/consultations", name="industry_consultation_request")
async def request_consultation(request: Request, case_id: FromPath[int]) -> Any:
    committees = _committees(request)
    return await _case_action(request, case_id, "request", lambda user, v: ex.request_consultation(
        committees, case_id, user, validate_form(ex.ConsultationIn, v)))


@post("/cases/{case_id:int}/consultations/opinions", name="industry_consultation_opinion")
async def record_opinion(request: Request, case_id: FromPath[int]) -> Any:
    committees = _committees(request)
    return await _case_action(request, case_id, "opinion", lambda user, v: ex.record_opinion(
        committees, case_id, user, validate_form(ex.OpinionIn, v)))


@post("/cases/{case_id:int}/consultations/recusals", name="industry_consultation_recusal")
async def record_recusal(request: Request, case_id: FromPath[int]) -> Any:
    committees = _committees(request)
    return await _case_action(request, case_id, "recusal", lambda user, v: ex.record_recusal(
        committees, case_id, user, validate_form(ex.RecusalIn, v)))


@post("/cases/{case_id:int}/industry/clock-start", name="industry_clock_start")
async def clock_start(request: Request, case_id: FromPath[int]) -> Any:
    import datetime as dt

    from plugins.industry.cases import set_clock_start

    registry = _registry(request)
    committees = _committees(request)

    async def action(user: UserCtx, values: dict[str, Any]) -> None:
        case = await core_cases.load_case(case_id, user)
        c = committees.get(case["channel"])
        if c is None:
            raise Refused("本案件不属于行业性专业性人民调解委员会")
        raw = values.get("start_on") or ""
        try:
            start = dt.date.fromisoformat(str(raw))
        except ValueError:
            raise FormErrors({"start_on": "请输入有效日期（年-月-日）"}) from None
        await set_clock_start(registry, c, case_id, user, start)

    resp = await _case_action(request, case_id, "clock", action)
    return Redirect(path=f"/cases/{case_id}", status_code=303) if isinstance(resp, Redirect) else resp


# ----------------------------------------------------------------------------- expert pools


def _expert_routes(c: Committee) -> list[Any]:
    async def page(request: Request, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                   status_code: int = 200) -> Template:
        user = await _user(request)
        return _page("experts.html", {
            "user": user, "committee": c, "pool": await ex.pool_status(c), "experts": await ex.experts_of(c),
            "schema": ex.ExpertIn, "errors": errors or {}, "values": values or {}, "min_pool": ex.MIN_POOL,
            "staff": user.role in ex.STAFF}, status_code)

    async def act(request: Request, action: Any) -> Any:
        user = await _user(request)
        values = _form(await request.form())
        try:
            await action(user, values)
        except NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except FormErrors as exc:
            return await page(request, errors=exc.errors, values=values, status_code=422)
        except Refused as exc:
            return await page(request, errors={"": exc.message}, values=values, status_code=403)
        return Redirect(path=f"/channels/{c.key}/experts", status_code=303)

    @get(f"/channels/{c.key}/experts", name=f"industry_{c.key}_experts")
    async def experts_page(request: Request) -> Any:
        return await page(request)

    @post(f"/channels/{c.key}/experts", name=f"industry_{c.key}_expert_add")
    async def add(request: Request) -> Any:
        return await act(request, lambda user, v: ex.add_expert(c, user, validate_form(ex.ExpertIn, v)))

    @post(f"/channels/{c.key}/experts/active", name=f"industry_{c.key}_expert_active")
    async def active(request: Request) -> Any:
        async def action(user: UserCtx, v: dict[str, Any]) -> None:
            if user.role not in ex.STAFF:
                raise Refused("只有督导或管理员可以维护专家库")
            try:
                expert_id = int(v.get("expert") or "")
            except ValueError:
                raise FormErrors({"expert": "请选择专家"}) from None
            await ex.set_expert_active(c, user, expert_id, v.get("active") == "1")

        return await act(request, action)

    return [experts_page, add, active]


# ----------------------------------------------------------------------------- committee registry


async def _registry_page(request: Request, *, errors: dict[str, str] | None = None,
                         values: dict[str, Any] | None = None, form: str = "", flagged: list[Any] | None = None,
                         status_code: int = 200) -> Template:
    from core.organisations import organisations_in_scope

    user = await _user(request)
    committees = _committees(request)
    return _page("committees.html", {
        "user": user, "committees": committees, "organisations": await organisations_in_scope(user),
        "rows": await reg_mod.registry_rows(user, committees, _registry(request).calendar),
        "inspection_schema": reg_mod.InspectionIn, "report_schema": reg_mod.ReportIn, "errors": errors or {},
        "values": values or {}, "error_form": form, "flagged": flagged, "staff": user.role in reg_mod.STAFF,
    }, status_code)


async def _registry_action(request: Request, form: str, action: Any, org_id: int | None = None) -> Any:
    user = await _user(request)
    values = _form(await request.form())
    try:
        if org_id is not None:
            from core.organisations import org_in_scope

            await org_in_scope(user, org_id)  # 404 before anything else
        await action(user, values)
    except NotFound as exc:
        raise NotFoundException(exc.message) from exc
    except FormErrors as exc:
        return await _registry_page(request, errors=exc.errors, values=values, form=form, status_code=422)
    except Refused as exc:
        return await _registry_page(request, errors={"": exc.message}, values=values, form=form, status_code=403)
    return Redirect(path="/channels/industry/committees", status_code=303)


@get("/channels/industry/committees", name="industry_committees")
async def committees_page(request: Request) -> Any:
    return await _registry_page(request)


@post("/channels/industry/committees", name="industry_committee_register")
async def register_committee(request: Request) -> Any:
    committees = _committees(request)
    return await _registry_action(request, "register", lambda user, v: reg_mod.register_committee(
        committees, user, validate_form(reg_mod.RegisterIn, v)))


@post("/channels/industry/committees/{org_id:int}/inspections", name="industry_committee_inspection")
async def record_inspection(request: Request, org_id: FromPath[int]) -> Any:
    return await _registry_action(request, f"inspection:{org_id}", lambda user, v: reg_mod.record_inspection(
        user, org_id, validate_form(reg_mod.InspectionIn, v)), org_id)


@post("/channels/industry/committees/{org_id:int}/reports", name="industry_committee_report")
async def record_report(request: Request, org_id: FromPath[int]) -> Any:
    return await _registry_action(request, f"report:{org_id}", lambda user, v: reg_mod.record_report(
        user, org_id, validate_form(reg_mod.ReportIn, v)), org_id)


@post("/channels/industry/dormant-check", name="industry_dormant_check")
async def dormant_check(request: Request) -> Any:
    user = await _user(request)
    try:
        flagged = await reg_mod.dormant_check(user)
    except Refused as exc:
        return await _registry_page(request, errors={"": exc.message}, status_code=403)
    return await _registry_page(request, flagged=flagged)


def routes(committees: list[Committee]) -> list[Any]:
    case_routes = [consultations_page, request_consultation, record_opinion, record_recusal, clock_start]
    registry_routes = [committees_page, register_committee, record_inspection, record_report, dormant_check]
    return [*case_routes, *registry_routes, *(r for c in committees for r in _expert_routes(c))]
