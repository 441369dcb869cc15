"""The police channel's case panel and pages (routes under ``/channels/police/``).

Every handler scope-checks the case through ``core.cases.load_case`` (another room's case → 404)
before it validates anything. Forms are plain HTML forms (CSRF field included) and work without
JavaScript; with htmx loaded they are submitted the same way.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from litestar import Request, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from core.plugin_http import registry_of, signed_in_user
from core.i18n import setup_jinja
from core import cases, clock
from core.access import UserCtx
from core.forms import FormErrors, describe, validate_form
from core.queries import visible_rooms
from core.registry import Registry

from plugins.police.forms import APPRAISAL_LABELS, VIOLATION_LABELS
from plugins.police.protocol import eligibility_problems, guardian_problem, intake_of
from plugins.police.rules import GuardianIn, panel_clocks, record_guardian
from plugins.police.statistics import station_table

__all__ = ["ROUTES", "police_panel"]

TEMPLATES = Path(__file__).parent / "templates"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined)
setup_jinja(_env)  # _() and | t follow the request's language

STAFF = {"mediator", "supervisor", "admin"}


async def _user(request: Request) -> UserCtx:
    return signed_in_user(request)  # set by the app's log-in guard on plugin routes


def _registry(request: Request) -> Any:
    return registry_of(request)


def _csrf(request: Request) -> str:
    from litestar.utils.scope.state import ScopeState

    return ScopeState.from_scope(request.scope).csrf_token or ""


async def police_panel(case: dict[str, Any], user: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """The transfer form, eligibility, guardian and the police clocks on a police case's page."""
    html = _env.get_template("police/_panel.html").render(
        case=case, intake=intake_of(case), csrf_token=user.get("csrf_token", ""),
        exclusions=eligibility_problems(case), guardian_problem=guardian_problem(case),
        clocks=await panel_clocks(registry, case), violation_labels=VIOLATION_LABELS,
        appraisal_labels=APPRAISAL_LABELS, guardian_fields=describe(GuardianIn), errors={}, values={},
        open_case=case["status"] in {"registered", "accepted", "in_mediation"},
    )
    return {"title": "警调对接：移交与反馈", "html": Markup(html)}


def _page(name: str, context: dict[str, Any], status_code: int = 200) -> Template:
    return Template(template_name=name, context=context, status_code=status_code, media_type=MediaType.HTML,
                    headers={"Vary": "HX-Request", "Cache-Control": "no-store"})


@post("/channels/police/cases/{case_id:int}/guardian", name="police_guardian", include_in_schema=False,
      status_code=303)
async def guardian(request: Request, case_id: FromPath[int]) -> Any:
    """Record the guardian of a minor (公安机关办理行政案件程序规定 第一百八十一条)."""
    user = await _user(request)
    try:
        case = await cases.load_case(case_id, user)  # out of scope → 404 before validation
    except cases.NotFound as exc:
        raise NotFoundException(exc.message) from exc
    if user.role not in STAFF:
        raise PermissionDeniedException("无权操作")
    form = {k: v for k, v in (await request.form()).items() if k != "_csrf_token"}
    try:
        await record_guardian(case_id, user, validate_form(GuardianIn, form))
    except FormErrors as exc:
        return _page("police/guardian.html", {"user": user, "case": case, "errors": exc.errors, "values": form,
                                              "fields": describe(GuardianIn)}, status_code=422)
    except cases.Refused as exc:
        return _page("police/guardian.html", {"user": user, "case": case, "errors": {"": exc.message},
                                              "values": form, "fields": describe(GuardianIn)}, status_code=409)
    return Redirect(path=f"/cases/{case_id}", status_code=303)


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


@get("/channels/police/stations", name="police_stations", include_in_schema=False)
async def stations(request: Request) -> Template:
    """Transfers, settlements, returns, performance and amounts per station and room for a period."""
    user = await _user(request)
    today = clock.today()
    p = request.query_params
    date_from = _date(p.get("date_from"), today.replace(month=1, day=1))
    date_to = _date(p.get("date_to"), today)
    rooms = await visible_rooms(user)
    room_ids = {r["id"] for r in rooms}
    try:
        room = int(p.get("room") or 0) or None
    except ValueError:
        room = None
    if room not in room_ids:
        room = None  # a room outside the user's scope is ignored, never widened
    rows = await station_table(user, date_from, date_to, room) if date_from <= date_to else []
    return _page("police/stations.html", {"user": user, "rows": rows, "rooms": rooms, "room": room,
                                          "date_from": date_from, "date_to": date_to,
                                          "bad_period": date_from > date_to})


ROUTES = (guardian, stations)
