"""Dashboard, case list and the case page with its actions (transitions, sessions, agreement)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.utils.scope.state import ScopeState
from litestar.response import Redirect, Template

from core import case_clocks as clocks
from core import followups, mediators
from core import cases as engine
from core.access import UserCtx
from core.deadline_service import case_clocks
from core.forms import FormErrors, validate_form
from core.lifecycle import OPEN_STATUSES, CoreStatus
from core.db import read_transaction
from core.plugins import await_each
from core.queries import (COUNT_CAP, CaseFilters, assemble_case_file, case_file_reads, dashboard, list_cases,
                          reusing_case_file, visible_rooms)
from core.records import AgreementIn, ExtendIn, PauseIn, ResumeIn, SessionIn
from core.sql import Read, fetch_many, prefetched
from core.warnings import mark_read, set_flags, unread_warnings, warnings_reads, with_notices
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


OPEN = {s.value for s in OPEN_STATUSES}


_RECUSALS = ("SELECT r.reason, r.created_at, u.display_name AS name FROM core_recusal r "
             'LEFT JOIN core_user u ON u.id = r."user" WHERE r."case" = {} ORDER BY r.id')


async def _case_rows(case_id: int, user: UserCtx, reg: Any) -> tuple[dict[str, Any], Mapping[str, Any], dict[str, Any],
                                                                    tuple[list[Read], list[Any]]]:
    """The case (scope-checked: :class:`core.cases.NotFound` if ``user`` may not see it), its file, the
    rest of the case page's own rows (recusals, warnings with their notices, clock entries) and the
    panels' named statements (``fengqiao_case_page_reads``) with their rows — what
    :func:`core.sql.prefetched` takes. All read together, inside the page's read transaction: in one
    hop to SQLite's database thread, in one round trip to PostgreSQL (:func:`core.sql.fetch_many`).
    Nothing but the case row decides what is shown: out of scope, the other rows are dropped."""
    file_reads = case_file_reads(case_id)
    warnings_read, notices_read = warnings_reads(case_id)
    extra = {"recusals": Read(_RECUSALS, (case_id,)), "warnings": warnings_read, "notices": notices_read,
             "clock": clocks.entries_read(case_id)}
    panel_reads = [r for reads in reg.pm.hook.fengqiao_case_page_reads(case_id=case_id, registry=reg) if reads
                   for r in reads]
    head, *rows = await fetch_many(engine.case_read(case_id, user), *file_reads, *extra.values(), *panel_reads)
    case = engine.found_case(head[0] if head else None)
    own = len(file_reads) + len(extra)
    more = dict(zip(extra, rows[len(file_reads):own], strict=True))
    more["warnings"] = with_notices(more["warnings"], more.pop("notices"))
    return case, assemble_case_file(rows[:len(file_reads)]), more, (panel_reads, rows[own:])


async def _people_context(case: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    """Mediator suggestions, recusals and warnings for the case page (its follow-ups come with the case file)."""
    return {
        # only open cases offer assignment; skip the caseload query for the rest
        "suggestions": await mediators.suggest_mediators(case) if case["status"] in OPEN else [],
        "mediator_name": case["mediator_name"] or "",
        "recusals": rows["recusals"],
        "recusal_schema": mediators.RecusalIn,
        "warnings": rows["warnings"],
        "followup_schema": followups.FollowUpIn,
        "performance_labels": followups.PERFORMANCE_LABELS,
        "satisfaction_labels": followups.SATISFACTION_LABELS,
    }


class CaseController(Controller):
    guards = [requires_login]

    @get("/", name="dashboard")
    async def dashboard_page(self, request: Request) -> Template:
        user: UserCtx = await current_user(request)
        async with read_transaction():
            return await self._dashboard(request, user)

    async def _dashboard(self, request: Request, user: UserCtx) -> Template:
        data = await dashboard(user)
        return render(request, "pages/dashboard.html", None, {
            "user": user, **data,
            "overdue_followups": await followups.overdue_followups(user),
            "unread_warnings": await unread_warnings(user),
        })

    @post("/warnings/{notice_id:int}/read", name="warning_read")
    async def warning_read(self, request: Request, notice_id: FromPath[int]) -> Redirect:
        user: UserCtx = await current_user(request)
        if not await mark_read(user, notice_id):
            raise NotFoundException("预警通知不存在")
        return Redirect(path="/", status_code=303)

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
        async with read_transaction():
            rows, next_cursor, total = await list_cases(user, filters, p.get("cursor"))
            rooms = await visible_rooms(user)
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
                "count_cap": COUNT_CAP,
                "filters": filters,
                "query": query,
                "first_page": not p.get("cursor"),
                "rooms": rooms,
            },
        )

    async def _case_page(self, request: Request, case_id: int, **kw: Any) -> Template:
        """The case page, read in one snapshot on one connection (see ``core.db.read_transaction``)."""
        async with read_transaction():
            return await self._render_case_page(request, case_id, **kw)

    async def _render_case_page(
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
            case, file, rows, panel_rows = await _case_rows(case_id, user, reg)
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        protocol = reg.protocols.get(case["channel"])
        # guards and panels reuse the parties/sessions/agreement read above, and the rows they named
        with reusing_case_file(case_id, file), prefetched(*panel_rows):
            transitions = await engine.available_transitions(reg, case, user) if protocol else []
            panels = [p for p in await await_each(reg.pm.hook.fengqiao_case_panels(
                case=case, user={"id": user.id, "role": user.role, "room": user.room,
                                 "csrf_token": ScopeState.from_scope(request.scope).csrf_token or ""},
                registry=reg)) if p]
        status = CoreStatus(case["status"])
        ctx = {
            "user": user,
            "case": case,
            **file,
            "protocol": protocol,
            "state_label": protocol.state(case["state"]).label if protocol else case["state"],
            "transitions": transitions,
            **await _people_context(case, rows),
            "clocks": case_clocks(reg, case, rows["clock"], file["agreement"]),
            "tolling_labels": clocks.TOLLING_LABELS,
            "pause_schema": PauseIn,
            "resume_schema": ResumeIn,
            "extend_schema": ExtendIn,
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

    async def _act(self, request: Request, case_id: int, error_form: str, action: Any, done: str) -> Any:
        """Run ``action(user, registry, form)`` for a case form; re-render with errors or move on.

        Field errors → 422, refusals → 409 (both re-render the case page, or its partial for htmx),
        a case outside the user's scope → 404; success → the partial (htmx) or a 303 to the page.
        """
        user: UserCtx = await current_user(request)
        reg = app_state(request).registry
        form = form_items(await request.form())
        try:
            await engine.load_case(case_id, user)  # out of scope → 404 before any validation
            result = await action(user, reg, form)
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except FormErrors as exc:
            return await self._case_page(request, case_id, errors=exc.errors, error_form=error_form, values=form,
                                         status_code=422)
        except engine.Refused as exc:
            return await self._case_page(request, case_id, errors={"": exc.message}, error_form=error_form,
                                         values=form, status_code=409)
        return await self._after_change(request, case_id, done.format(result=result))

    @post("/cases/{case_id:int}/transitions/{key:str}", name="case_transition")
    async def transition(self, request: Request, case_id: FromPath[int], key: FromPath[str]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> str:
            event = await engine.apply_transition(reg, case_id, key, user, form)
            return reg.protocol(event["channel"]).transition(key).label

        return await self._act(request, case_id, f"t:{key}", action, "已完成：{result}")

    @post("/cases/{case_id:int}/sessions", name="case_session")
    async def add_session(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            return await engine.record_session(reg, case_id, user, validate_form(SessionIn, form))

        return await self._act(request, case_id, "session", action, "已记录调解")

    @post("/cases/{case_id:int}/agreement", name="case_agreement")
    async def save_agreement(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            return await engine.save_agreement(reg, case_id, user, validate_form(AgreementIn, form))

        return await self._act(request, case_id, "agreement", action, "已保存调解协议")

    @post("/cases/{case_id:int}/clock/pause", name="case_clock_pause")
    async def pause(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            data = validate_form(PauseIn, form)
            return await clocks.pause_clock(reg, case_id, user, event=data.event, start_on=data.start_on,
                                            reason=data.reason)

        return await self._act(request, case_id, "clock:pause", action, "期限已暂停计算")

    @post("/cases/{case_id:int}/clock/resume", name="case_clock_resume")
    async def resume(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            return await clocks.resume_clock(reg, case_id, user, end_on=validate_form(ResumeIn, form).end_on)

        return await self._act(request, case_id, "clock:resume", action, "期限已恢复计算，届满日为 {result}")

    @post("/cases/{case_id:int}/clock/extend", name="case_clock_extend")
    async def extend(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            data = validate_form(ExtendIn, form)
            return await clocks.extend_clock(reg, case_id, user, days=data.days, by=data.by, reason=data.reason)

        return await self._act(request, case_id, "clock:extend", action, "期限已延长，届满日为 {result}")

    @post("/cases/{case_id:int}/mediator", name="case_mediator")
    async def assign(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            user_id = _int(str(form.get("user_id", "")))
            if user_id is None:
                raise FormErrors({"": "请选择调解员"})
            return await mediators.assign_mediator(case_id, user, user_id)

        return await self._act(request, case_id, "mediator", action, "已指派调解员：{result}")

    @post("/cases/{case_id:int}/recusals", name="case_recusal")
    async def recusal(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            return await mediators.recuse(case_id, user, validate_form(mediators.RecusalIn, form))

        return await self._act(request, case_id, "recusal", action, "已登记回避")

    @post("/cases/{case_id:int}/flags", name="case_flags")
    async def flags(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            raw = form.get("flags", [])
            chosen = raw if isinstance(raw, list) else [raw]
            note = str(form.get("note", "")).strip()[:500]
            raised = await set_flags(reg, case_id, user, [str(f) for f in chosen if f], note)
            return "、".join(reg.codes.label("risk_flag", f) for f in raised) or "无新增"

        return await self._act(request, case_id, "flags", action, "已保存风险标记；新增预警：{result}")

    @post("/cases/{case_id:int}/followups", name="case_followup")
    async def followup(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Any, form: dict[str, Any]) -> Any:
            return await followups.record_followup(reg, case_id, user, validate_form(followups.FollowUpIn, form))

        return await self._act(request, case_id, "followup", action, "已记录回访")

    @post("/cases/{case_id:int}/parties/{party_id:int}/reveal", name="case_party_reveal")
    async def reveal(self, request: Request, case_id: FromPath[int], party_id: FromPath[int]) -> Template:
        """Show one party's full ID number and phone once (audited; never cached)."""
        user: UserCtx = await current_user(request)
        st = app_state(request)
        try:
            data = await engine.reveal_party(st.registry, case_id, party_id, user, st.cipher,
                                             ip=request.client.host if request.client else "")
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except engine.Refused as exc:
            raise PermissionDeniedException(exc.message) from exc
        return render(request, "pages/reveal.html", "partials/_reveal.html",
                      {"user": user, "case_id": case_id, "revealed": data})
