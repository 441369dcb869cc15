"""Intake: choose a channel and kind, fill its form (common fields, parties, channel fields)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from core import cases as engine
from core.access import UserCtx
from core.forms import FormErrors, validate_form
from core.intake import CaseIntake, PartyIn
from core.queries import visible_rooms
from web.auth import current_user, requires_login
from web.forms import form_items, sub_form
from web.rendering import render
from web.state import app_state

__all__ = ["IntakeController", "PARTY_SLOTS"]

PARTY_SLOTS = (("a.", "applicant", "申请人"), ("r.", "respondent", "被申请人"))


async def _rooms_for(user: UserCtx, channel: str) -> list[dict[str, Any]]:
    """Rooms the user may register a case of ``channel`` in.

    A room takes its own channel's referrals and walk-in (general) cases.
    """
    return [r for r in await visible_rooms(user) if r["active"] and (r["channel"] == channel or channel == "general")]


class IntakeController(Controller):
    path = "/intake"
    guards = [requires_login]

    @get("/", name="intake")
    async def choose(self, request: Request) -> Template:
        user: UserCtx = await current_user(request)
        reg = app_state(request).registry
        rooms = await visible_rooms(user)
        room_channels = {r["channel"] for r in rooms} | {"general"}
        options = [
            (reg.channels[f.channel], f)
            for f in reg.forms.values()
            if f.channel in room_channels
        ]
        return render(request, "pages/intake_choose.html", None, {"user": user, "options": options})

    def _form(self, request: Request, channel: FromPath[str], kind: FromPath[str]) -> Any:
        form = app_state(request).registry.form(channel, kind)
        if form is None:
            raise NotFoundException("没有这种登记表")
        return form

    async def _page(self, request: Request, channel: str, kind: str, *, values: dict[str, Any] | None = None,
                    errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
        user: UserCtx = await current_user(request)
        reg = app_state(request).registry
        form = self._form(request, channel, kind)
        rooms = await _rooms_for(user, channel)
        return render(
            request,
            "pages/intake_form.html",
            "partials/_intake_form.html",
            {
                "user": user,
                "channel": reg.channels[channel],
                "form": form,
                "rooms": rooms,
                "common_schema": CaseIntake,
                "party_schema": PartyIn,
                "party_slots": PARTY_SLOTS,
                "values": values or {"c.source": reg.channels[channel].case_source},
                "errors": errors or {},
            },
            status_code=status_code,
        )

    @get("/{channel:str}/{kind:str}", name="intake_form")
    async def form_page(self, request: Request, channel: FromPath[str], kind: FromPath[str]) -> Template:
        return await self._page(request, channel, kind)

    @post("/{channel:str}/{kind:str}", name="intake_submit")
    async def submit(self, request: Request, channel: FromPath[str], kind: FromPath[str]) -> Any:
        user: UserCtx = await current_user(request)
        st = app_state(request)
        form = self._form(request, channel, kind)
        posted = form_items(await request.form())
        errors: dict[str, str] = {}
        rooms = {str(r["id"]): r for r in await _rooms_for(user, channel)}
        room = rooms.get(str(posted.get("room", ""))) if len(rooms) != 1 else next(iter(rooms.values()))
        if room is None:
            errors["room"] = "请选择调解室" if rooms else "您没有可以登记此类案件的调解室"
        results: dict[str, Any] = {}
        parts: list[tuple[str, Any]] = [("c.", CaseIntake), ("f.", form.schema)]
        for prefix, schema in parts:
            try:
                results[prefix] = validate_form(schema, sub_form(posted, prefix))
            except FormErrors as exc:
                errors.update({prefix + k: v for k, v in exc.errors.items()})
        parties = []
        for prefix, role, _ in PARTY_SLOTS:
            data = sub_form(posted, prefix) | {"role": role}
            try:
                parties.append(validate_form(PartyIn, data))
            except FormErrors as exc:
                errors.update({prefix + k: v for k, v in exc.errors.items()})
        if not errors:
            try:
                created = await engine.create_case(
                    st.registry, room=room, form=form, intake=results["c."], parties=parties,
                    fields=results["f."], actor=user, cipher=st.cipher,
                )
            except FormErrors as exc:
                errors.update({"c." + k: v for k, v in exc.errors.items()})
            else:
                url = f"/cases/{created['id']}"
                if posted.get("then") == "readback":  # assisted entry: read the record back to the party
                    url += "/readback"
                if getattr(request, "htmx", None):
                    return Template("partials/_redirect.html", context={"url": url}, media_type=MediaType.HTML,
                                    headers={"HX-Redirect": url, "Vary": "HX-Request"})
                return Redirect(path=url, status_code=303)
        return await self._page(request, channel, kind, values=posted, errors=errors, status_code=422)
