"""Dashboard, case list and the case page with its actions (transitions, sessions, agreement)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core import cases as engine
from core.access import UserCtx
from core.deadline_service import case_clock
from core.forms import FormErrors, validate_form
from core.lifecycle import CoreStatus
from core.plugins import await_me_maybe
from core.queries import CaseFilters, case_file, dashboard, list_cases, visible_rooms
from core.records import AgreementIn, SessionIn
from web.auth import current_user, requires_login
from web.forms import form_items
from web.rendering import render
from web.state import app_state

__all__ = ["CaseController"]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


class CaseController(Controller):
    guards = [requires_login]

    @get("/", name="dashboard")
    async def dashboard_page(self, request: Request) -> Template:
        user: UserCtx = await current_user(request)
        data = await dashboard(user)
        return render(request, "pages/dashboard.html", None, {"user": user, **data})

    @get("/cases", name="cases")
    async def case_list(self, request: Request) -> Template:
        user: UserCtx = await current_user(request)
        reg = app_state(request).registry
        p = request.query_params
        filters = CaseFilters(
            status=p.get("status", "") if p.get("status", "") in {"open", *CoreStatus} else "",
            channel=p.get("channel", "") if p.get("channel", "") in reg.channels else "",
            dispute_type=p.get("dispute_type", "") if reg.codes.has("dispute_type", p.get("dispute_type", "")) else "",
            room=_int(p.get("room")),
            date_from=_date(p.get("date_from")),
            date_to=_date(p.get("date_to")),
            q=p.get("q", "").strip()[:100],
            urgent=p.get("urgent") == "1",
            sort="deadline" if p.get("sort") == "deadline" else "newest",
        )
        rows, next_cursor, total = await list_cases(user, filters, p.get("cursor"))
        query = {k: v for k, v in p.items() if k != "cursor" and v}
        return render(
            request,
            "pages/cases.html",
            "partials/_case_table.html",
            {
                "user": user,
                "rows": rows,
                "next_cursor": next_cursor,
                "total": total,
                "filters": filters,
                "query": query,
                "first_page": not p.get("cursor"),
                "rooms": await visible_rooms(user),
            },
        )

    async def _case_page(
        self,
        request: Request,
        case_id: int,
        *,
        errors: dict[str, str] | None = None,
        error_form: str = "",
        values: dict[str, Any] | None = None,
        message: str = "",
        status_code: int = 200,
    ) -> Template:
        user: UserCtx = await current_user(request)
        st = app_state(request)
        reg = st.registry
        try:
            case = await engine.load_case(case_id, user)
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        file = await case_file(case_id)
        protocol = reg.protocols.get(case["channel"])
        transitions = await engine.available_transitions(reg, case, user) if protocol else []
        panels = []
        for result in reg.pm.hook.fengqiao_case_panels(
            case=case, user={"id": user.id, "role": user.role, "room": user.room}
        ):
            panel = await await_me_maybe(result)
            if panel:
                panels.append(panel)
        status = CoreStatus(case["status"])
        ctx = {
            "user": user,
            "case": case,
            **file,
            "protocol": protocol,
            "state_label": protocol.state(case["state"]).label if protocol else case["state"],
            "transitions": transitions,
            "clock": case_clock(reg, case),
            "rule": reg.deadline_rules.get(case["deadline_rule"]),
            "panels": panels,
            "can_record": status is CoreStatus.IN_MEDIATION,
            "errors": errors or {},
            "error_form": error_form,
            "values": values or {},
            "message": message,
            "form_label": reg.form(case["channel"], case["kind"]),
            "session_schema": SessionIn,
            "agreement_schema": AgreementIn,
        }
        return render(request, "pages/case.html", "partials/_case_body.html", ctx, status_code=status_code)

    @get("/cases/{case_id:int}", name="case")
    async def case_page(self, request: Request, case_id: FromPath[int]) -> Template:
        return await self._case_page(request, case_id)

    async def _after_change(self, request: Request, case_id: int, message: str) -> Any:
        if getattr(request, "htmx", None):
            return await self._case_page(request, case_id, message=message)
        return Redirect(path=f"/cases/{case_id}", status_code=303)

    @post("/cases/{case_id:int}/transitions/{key:str}", name="case_transition")
    async def transition(self, request: Request, case_id: FromPath[int], key: FromPath[str]) -> Any:
        user: UserCtx = await current_user(request)
        reg = app_state(request).registry
        form = form_items(await request.form())
        try:
            event = await engine.apply_transition(reg, case_id, key, user, form)
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except FormErrors as exc:
            return await self._case_page(request, case_id, errors=exc.errors, error_form=f"t:{key}",
                                         values=form, status_code=422)
        except engine.Refused as exc:
            return await self._case_page(request, case_id, errors={"": exc.message}, error_form=f"t:{key}",
                                         status_code=409)
        label = reg.protocol(event["channel"]).transition(key).label
        return await self._after_change(request, case_id, f"已完成：{label}")

    @post("/cases/{case_id:int}/sessions", name="case_session")
    async def add_session(self, request: Request, case_id: FromPath[int]) -> Any:
        user: UserCtx = await current_user(request)
        reg = app_state(request).registry
        form = form_items(await request.form())
        try:
            session = validate_form(SessionIn, form)
            await engine.record_session(reg, case_id, user, session)
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except FormErrors as exc:
            return await self._case_page(request, case_id, errors=exc.errors, error_form="session", values=form,
                                         status_code=422)
        except engine.Refused as exc:
            return await self._case_page(request, case_id, errors={"": exc.message}, error_form="session",
                                         values=form, status_code=409)
        return await self._after_change(request, case_id, "已记录调解")

    @post("/cases/{case_id:int}/agreement", name="case_agreement")
    async def save_agreement(self, request: Request, case_id: FromPath[int]) -> Any:
        user: UserCtx = await current_user(request)
        reg = app_state(request).registry
        form = form_items(await request.form())
        try:
            agreement = validate_form(AgreementIn, form)
            await engine.save_agreement(reg, case_id, user, agreement)
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except FormErrors as exc:
            return await self._case_page(request, case_id, errors=exc.errors, error_form="agreement", values=form,
                                         status_code=422)
        except engine.Refused as exc:
            return await self._case_page(request, case_id, errors={"": exc.message}, error_form="agreement",
                                         values=form, status_code=409)
        return await self._after_change(request, case_id, "已保存调解协议")
