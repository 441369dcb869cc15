"""Assisted entry: the mediator registers the case for the party, then reads it back.

``GET /cases/{id}/readback`` shows, in large type, exactly what was recorded (parties, dispute,
claims, the channel's intake fields) followed by the consent statement and the parties' rights and
duties (人民调解法 arts. 17, 23, 24). The text is one template (``readback/_text.html``) rendered
once; the page shows it and carries its SHA-256. ``POST`` records the confirmation: which parties
confirmed, who recorded it and when (the case event ``case.readback_confirmed`` with the hash of the
exact text), and marks those parties' consent as ``agreed``. If the case changed between reading
and confirming, the hashes differ and the confirmation is refused (409), so a confirmation always
names the text the party actually heard. Works as plain forms without JavaScript and with htmx.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from core import cases as engine
from core.access import UserCtx
from core.db import read_transaction, write_transaction
from core.intake import PARTY_ROLES
from core.lifecycle import OPEN_STATUSES
from core.queries import case_file
from core.tables import CaseParty
from web.auth import current_user, requires_login
from web.i18n import current_locale
from web.rendering import render
from web.state import app_state

__all__ = ["ReadbackController", "READBACK_EVENT", "readback_text", "plain_text"]

READBACK_EVENT = "case.readback_confirmed"
OPEN = {s.value for s in OPEN_STATUSES}


async def _context(request: Request, case_id: int, user: UserCtx) -> dict[str, Any]:
    reg = app_state(request).registry
    try:
        case = await engine.load_case(case_id, user)
    except engine.NotFound as exc:
        raise NotFoundException(exc.message) from exc
    file = await case_file(case_id)
    return {"case": case, "parties": file["parties"], "events": file["events"],
            "form_label": reg.form(case["channel"], case["kind"]), "party_roles": PARTY_ROLES}


def readback_text(request: Request, ctx: dict[str, Any]) -> tuple[Markup, str]:
    """The read-back text (escaped HTML, shown as is) and the SHA-256 of its plain text (tags removed,
    entities unescaped, whitespace collapsed: what a reader sees, as ``Markup.striptags`` gives it)."""
    env = request.app.template_engine.engine  # type: ignore[union-attr]
    html = Markup(env.get_template("readback/_text.html").render(**ctx, request=request).strip())
    return html, hashlib.sha256(plain_text(html).encode("utf-8")).hexdigest()


def plain_text(html: Markup) -> str:
    return html.striptags()


class ReadbackController(Controller):
    guards = [requires_login]

    async def _page(self, request: Request, case_id: int, *, errors: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None, status_code: int = 200) -> Template:
        user: UserCtx = await current_user(request)
        async with read_transaction():
            ctx = await _context(request, case_id, user)
        text, digest = readback_text(request, ctx)
        confirmations = [e for e in ctx["events"] if e["type"] == READBACK_EVENT]
        return render(request, "pages/readback.html", "partials/_readback_form.html", {
            **ctx, "user": user, "text": text, "digest": digest, "errors": errors or {},
            "values": values or {}, "confirmations": confirmations, "is_open": ctx["case"]["status"] in OPEN,
        }, status_code=status_code)

    @get("/cases/{case_id:int}/readback", name="case_readback")
    async def readback(self, request: Request, case_id: FromPath[int]) -> Template:
        return await self._page(request, case_id)

    @post("/cases/{case_id:int}/readback", name="case_readback_confirm")
    async def confirm(self, request: Request, case_id: FromPath[int]) -> Any:
        user: UserCtx = await current_user(request)
        form = await request.form()
        chosen = {str(v) for v in form.getall("party", [])}
        values = {"party": sorted(chosen), "consent": form.get("consent"), "sha256": form.get("sha256", "")}
        errors: dict[str, str] = {}
        async with write_transaction():
            ctx = await _context(request, case_id, user)
            case = ctx["case"]
            if case["status"] not in OPEN:
                errors[""] = "案件已办结，不能再确认登记内容"
            parties = {str(p["id"]): p for p in ctx["parties"]}
            picked = [parties[k] for k in sorted(chosen, key=int) if k in parties] if all(
                k.isdigit() for k in chosen) else []
            if not picked:
                errors["party"] = "请选择确认内容的当事人"
            if form.get("consent") != "1":
                errors["consent"] = "须经当事人确认内容无误并同意调解"
            text, digest = readback_text(request, ctx)
            if not errors and form.get("sha256") != digest:
                errors[""] = "登记内容已变更，请重新朗读后再确认"
                status = 409
            else:
                status = 422
            if not errors:
                await engine.write_event(case_id, READBACK_EVENT, actor=user, data={
                    "parties": [{"id": p["id"], "role": p["role"], "name": p["party"]["name"]} for p in picked],
                    "text_sha256": digest,
                    "locale": current_locale(),
                    "chars": len(plain_text(text)),
                })
                await CaseParty.update({CaseParty.consent: "agreed"}).where(
                    CaseParty.case == case_id, CaseParty.id.is_in([p["id"] for p in picked]))
        if errors:
            return await self._page(request, case_id, errors=errors, values=values, status_code=status)
        url = f"/cases/{case_id}"
        if getattr(request, "htmx", None):
            return Template("partials/_redirect.html", context={"url": url},
                            headers={"HX-Redirect": url, "Vary": "HX-Request"}, media_type="text/html")
        return Redirect(path=url, status_code=303)
