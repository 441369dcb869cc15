"""The channel's pages under ``/channels/procuratorate/``: re-checking a criminal reconciliation's
eligibility (plain form, full pages: works with and without JavaScript)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core.plugin_http import registry_of, signed_in_user
from core import cases
from core.access import UserCtx
from core.forms import FormErrors, validate_form
from plugins.procuratorate.service import get_rules, recheck, recheck_schema

__all__ = ["ROUTES"]

STAFF = {"mediator", "supervisor", "admin"}


async def _user(request: Request) -> UserCtx:
    return signed_in_user(request)  # set by the app's log-in guard on plugin routes


def _registry(request: Request) -> Any:
    return registry_of(request)


async def _case(request: Request, case_id: int) -> tuple[UserCtx, dict[str, Any]]:
    user = await _user(request)
    try:
        case = await cases.load_case(case_id, user)
    except cases.NotFound as exc:
        raise NotFoundException(exc.message) from exc
    if user.role not in STAFF:
        raise PermissionDeniedException("无权操作")
    return user, case


def _page(request: Request, user: UserCtx, case: dict[str, Any], *, values: dict[str, Any],
          errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    reg = _registry(request)
    return Template(
        template_name="procuratorate/recheck.html",
        context={"user": user, "case": case, "schema": recheck_schema(reg), "rules": get_rules(reg),
                 "values": values, "errors": errors or {}},
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={"Vary": "HX-Request", "Cache-Control": "no-store"},
    )


NOT_CRIMINAL = "该案件不是刑事和解案件，无需审查刑事和解适用条件"


def _is_criminal(case: dict[str, Any]) -> bool:
    return case["channel"] == "procuratorate" and case["kind"] == "criminal_reconciliation"


@get("/channels/procuratorate/cases/{case_id:int}/eligibility", name="procuratorate_eligibility",
     include_in_schema=False)
async def eligibility_page(request: Request, case_id: FromPath[int]) -> Any:
    user, case = await _case(request, case_id)
    if not _is_criminal(case):  # a case in scope never answers 404 (it exists); refuse instead
        return _page(request, user, case, values={}, errors={"": NOT_CRIMINAL}, status_code=409)
    intake = case.get("intake") or {}
    values = {k: intake.get(k) for k in ("offence", "from_civil_dispute", "likely_sentence_years", "offence_on",
                                          "prior_intentional_crime_on")}
    return _page(request, user, case, values={k: v for k, v in values.items() if v is not None})


@post("/channels/procuratorate/cases/{case_id:int}/eligibility", name="procuratorate_recheck",
      include_in_schema=False, status_code=303)
async def eligibility_recheck(request: Request, case_id: FromPath[int]) -> Any:
    user, case = await _case(request, case_id)
    reg = _registry(request)
    if not _is_criminal(case):
        return _page(request, user, case, values={}, errors={"": NOT_CRIMINAL}, status_code=409)
    form: dict[str, Any] = {}
    for key, value in (await request.form()).multi_items():
        if key != "_csrf_token":
            form[key] = value
    try:
        data = validate_form(recheck_schema(reg), form)
        await recheck(reg, case_id, user, data)
    except FormErrors as exc:
        return _page(request, user, case, values=form, errors=exc.errors, status_code=422)
    except cases.NotFound as exc:
        raise NotFoundException(exc.message) from exc
    except cases.Refused as exc:
        return _page(request, user, case, values=form, errors={"": exc.message}, status_code=409)
    return Redirect(path=f"/cases/{case_id}", status_code=303)


ROUTES = [eligibility_page, eligibility_recheck]
