"""Routes of the documents plugin: documents as print HTML / DOCX / PDF, the 卷宗 page and its forms,
and the case-page panel.

Registered through ``fengqiao_register_routes`` by ``core.documents``. Every handler scope-checks the
case with :func:`core.cases.load_case` for the signed-in user (out of scope → 404).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import anyio
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from core import cases as engine
from core.access import UserCtx
from core.documents.archive import verify
from core.documents.casefile import ITEM_TITLES, IndexEntry, build_index, record_item, remove_item
from core.documents.catalogue import CORE_DOCUMENTS
from core.documents.context import build_context, cn_date
from core.documents.docx import render_docx
from core.documents.facts import FileFacts, load_facts
from core.documents.model import DocumentDef
from core.documents.policy import current as current_policy
from core.documents.policy import policy_from_settings
from core.documents.signing import WetSignatureIn, record_signature
from core.documents.validator import ESIGN_CITATION, agreement_findings, needs_wet_signature
from core.forms import FormErrors, validate_form
from core.plugins import await_me_maybe
from core.registry import Registry
from web.auth import current_user, requires_login
from web.forms import form_items
from web.rendering import render
from web.state import app_state

__all__ = ["ROUTES", "DocumentsController", "case_panel", "render_html"]

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _case(request: Request, case_id: int) -> tuple[UserCtx, Registry, dict[str, Any]]:
    user: UserCtx = await current_user(request)
    try:
        case = await engine.load_case(case_id, user)
    except engine.NotFound as exc:
        raise NotFoundException(exc.message) from exc
    return user, app_state(request).registry, case


async def _context(reg: Registry, case: Mapping[str, Any], doc: DocumentDef | None = None,
                   facts: FileFacts | None = None) -> dict[str, Any]:
    ctx = await build_context(reg, case, facts=facts, documents=tuple(reg.documents_for(case)))
    if doc is not None and doc.context is not None:
        ctx.update(await await_me_maybe(doc.context(ctx)) or {})
    return ctx


def render_html(env: Any, doc: DocumentDef, ctx: Mapping[str, Any], *, links: bool = True) -> str:
    """The print page of ``doc`` (layout blocks filled with ``ctx``; every value autoescaped)."""
    compiled: dict[str, Any] = {}

    def ev(snippet: str, row: Any = None) -> Markup:
        if snippet not in compiled:
            compiled[snippet] = env.from_string(snippet)
        values = dict(ctx) if row is None else {**ctx, "row": row}
        return Markup(compiled[snippet].render(values))

    def rows(source: str) -> Any:
        value: Any = ctx
        for part in source.split("."):
            value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        return value or []

    blocks = [(type(b).__name__.lower(), b) for b in (doc.layout.blocks if doc.layout else ())]
    return env.get_template("documents/document.html").render(
        doc=doc, blocks=blocks, ev=ev, rows=rows, ctx=ctx, links=links, case=ctx["case"])


def _disposition(case: Mapping[str, Any], doc: DocumentDef, ext: str) -> str:
    ascii_name = f"case-{case['id']}-{doc.key}.{ext}"
    utf8_name = quote(f"{doc.title}-{case['number']}.{ext}")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{utf8_name}"


def _refusal(request: Request, user: UserCtx, status: int, message: str) -> Template:
    return Template("pages/error.html", context={"status": status, "message": message, "user": user},
                    status_code=status, media_type=MediaType.HTML, headers={"Cache-Control": "no-store"})


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on use: it needs the system's Pango

    return HTML(string=html).write_pdf()


def _recordable(entries: list[IndexEntry]) -> dict[str, str]:
    return {e.key: e.title for e in entries if e.recordable}


class DocumentsController(Controller):
    path = "/cases/{case_id:int}"
    guards = [requires_login]

    @get("/documents/{name:str}", name="documents_render")
    async def document(self, request: Request, case_id: FromPath[int], name: FromPath[str]) -> Any:
        """``<key>`` print HTML, ``<key>.docx``, ``<key>.pdf``."""
        user, reg, case = await _case(request, case_id)
        key, _, ext = name.partition(".")
        doc = reg.documents.get(key)
        if doc is None or not doc.applies_to(case) or ext not in {"", "docx", "pdf"}:
            raise NotFoundException("没有这种文书")
        ctx = await _context(reg, case, doc)
        if doc.available is not None and not doc.available(ctx):
            return _refusal(request, user, 409, f"本案目前还不能生成《{doc.title}》（尚无所需的记录）。")
        headers = {"Cache-Control": "no-store"}
        if ext == "docx":
            data = render_docx(doc, ctx, policy_from_settings(reg.settings).templates)
            return Response(data, media_type=DOCX_TYPE,
                            headers={**headers, "Content-Disposition": _disposition(case, doc, "docx")})
        html = render_html(request.app.template_engine.engine, doc, ctx, links=ext == "")
        if ext == "pdf":
            try:
                data = await anyio.to_thread.run_sync(_pdf, html)
            except (ImportError, OSError):
                return _refusal(request, user, 503, "本服务器未安装 PDF 输出所需的组件（WeasyPrint、Pango），请使用打印页或 DOCX。")
            return Response(data, media_type="application/pdf",
                            headers={**headers, "Content-Disposition": _disposition(case, doc, "pdf")})
        return Response(html, media_type=MediaType.HTML, headers=headers)

    async def _file_page(self, request: Request, case_id: int, *, errors: dict[str, str] | None = None,
                         error_form: str = "", values: dict[str, Any] | None = None, message: str = "",
                         status_code: int = 200) -> Template:
        user, reg, case = await _case(request, case_id)
        facts = await load_facts(case)
        ctx = await _context(reg, case, facts=facts)
        entries = ctx["file"]["entries"]
        docs = []
        for doc in reg.documents_for(case):
            dctx = ctx if doc.context is None else {**ctx, **(await await_me_maybe(doc.context(ctx)) or {})}
            docs.append((doc, doc.available is None or doc.available(dctx)))
        findings = []
        if facts.agreement is not None:
            findings = agreement_findings(reg, case, {**facts.agreement, "signed_by_parties": True}, facts.parties,
                                          wet_signature_recorded=facts.has_wet_signature())
        archived = case["status"] == "archived"
        return render(request, "documents/file.html", None, {
            "user": user,
            "case": case,
            "ctx": ctx,
            "docs": docs,
            "entries": entries,
            "missing": [e for e in entries if e.status == "missing"],
            "archived": archived,
            "verification": await verify(case_id) if archived else None,
            "personal_matter": needs_wet_signature(reg, case["dispute_type"]),
            "esign_citation": ESIGN_CITATION,
            "signatures": facts.signatures,
            "findings": findings,
            "has_agreement": facts.agreement is not None,
            "signature_schema": WetSignatureIn,
            "errors": errors or {},
            "error_form": error_form,
            "values": values or {},
            "message": message,
            "cn_date": cn_date,
        }, status_code=status_code)

    @get("/file", name="documents_file")
    async def file_page(self, request: Request, case_id: FromPath[int]) -> Template:
        return await self._file_page(request, case_id)

    async def _act(self, request: Request, case_id: int, error_form: str, action: Any) -> Any:
        user, reg, case = await _case(request, case_id)
        form = form_items(await request.form())
        try:
            await action(user, reg, case, form)
        except FormErrors as exc:
            errors = dict(exc.errors)
            # the forms show some errors by their fields, but an unknown item (or a signature form the
            # case does not display) has no field to show them by: the banner names every problem
            named = [f"{_FIELD_LABELS.get(k, k)}：{v}" for k, v in errors.items() if k]
            if named and "" not in errors:
                errors[""] = "请检查：" + "；".join(named)
            return await self._file_page(request, case_id, errors=errors, error_form=error_form, values=form,
                                         status_code=422)
        except engine.NotFound as exc:
            raise NotFoundException(exc.message) from exc
        except engine.Refused as exc:
            return await self._file_page(request, case_id, errors={"": exc.message}, error_form=error_form,
                                         values=form, status_code=409)
        return Redirect(path=f"/cases/{case_id}/file", status_code=303)

    @post("/file/items", name="documents_record_item")
    async def add_item(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Registry, case: dict[str, Any], form: dict[str, Any]) -> None:
            data = validate_form(ItemIn, form)
            entries = build_index(await load_facts(case), tuple(reg.documents_for(case)))
            await record_item(case_id, user, data.item, allowed=_recordable(entries), note=(data.note or "").strip(),
                              pages=data.pages)

        return await self._act(request, case_id, f"item:{(await request.form()).get('item', '')}", action)

    @post("/file/items/{item:str}/remove", name="documents_remove_item")
    async def drop_item(self, request: Request, case_id: FromPath[int], item: FromPath[str]) -> Any:
        async def action(user: UserCtx, reg: Registry, case: dict[str, Any], form: dict[str, Any]) -> None:
            title = ITEM_TITLES.get(item) or (reg.documents[item].title if item in reg.documents else item)
            await remove_item(case_id, user, item, title=title)

        return await self._act(request, case_id, f"item:{item}", action)

    @post("/file/signatures", name="documents_record_signature")
    async def add_signature(self, request: Request, case_id: FromPath[int]) -> Any:
        async def action(user: UserCtx, reg: Registry, case: dict[str, Any], form: dict[str, Any]) -> None:
            await record_signature(case_id, user, validate_form(WetSignatureIn, form))

        return await self._act(request, case_id, "signature", action)


_FIELD_LABELS = {"item": "材料", "note": "说明", "pages": "页数", "signers": "签名人", "signed_on": "签署日期",
                 "place": "签署地点"}


class ItemIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Recording a paper item as on file."""

    item: str
    note: str | None = None
    pages: int | None = None

    def check(self) -> list[tuple[str, str]]:
        if self.pages is not None and not 1 <= self.pages <= 9999:
            return [("pages", "页数应为1至9999")]
        if self.note is not None and len(self.note) > 500:
            return [("note", "说明不超过500字")]
        return []


PRINT_JS = 'document.getElementById("print-button").addEventListener("click", function () { window.print(); });\n'
"""The print button's script, served from our origin (the CSP allows no inline script)."""


@get("/-/documents/print.js", name="documents_print_js", sync_to_thread=False, include_in_schema=False)
def print_js() -> Response:
    return Response(PRINT_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


ROUTES = [DocumentsController, print_js]


# --------------------------------------------------------------------------- the case-page panel


def _light_context(case: Mapping[str, Any], facts: FileFacts) -> dict[str, Any]:
    """Enough context for the availability predicates of the core documents."""
    return {
        "case": {"outcome": case.get("outcome") or ""},
        "sessions": [None] * facts.sessions,
        "has_agreement": facts.agreement is not None,
        "agreement": {"form": facts.agreement["form"] if facts.agreement else ""},
    }


async def case_panel(case: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """The 文书与卷宗 panel of the case page: e-signature notice, 卷宗 status, core document links
    (``documents/_case_panel.html``, rendered with the page in the request's language).

    The hook gets no registry, so it lists the core documents; channel documents are on the 卷宗 page.
    """
    facts = await load_facts(case, seal=True)
    entries = build_index(facts)
    light = _light_context(case, facts)
    esign = current_policy().needs_wet_signature(case.get("dispute_type", ""))
    return {"title": "文书与卷宗", "template": "documents/_case_panel.html", "context": {
        "case_id": int(case["id"]),
        "esign": esign,
        "esign_recorded": esign and facts.has_wet_signature(),
        "cite": ESIGN_CITATION,
        "present": sum(1 for e in entries if e.present),
        "total": len(entries),
        "missing": [e for e in entries if e.status == "missing"],
        "seal": facts.seal,
        "documents": [doc for doc in CORE_DOCUMENTS if doc.applies_to(case)
                      and (doc.available is None or doc.available(light))],
    }}

