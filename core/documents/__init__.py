"""Documents (文书) and the case file (卷宗), a built-in plugin registered like any other.

- the standard people's-mediation documents as data (:mod:`core.documents.catalogue`), rendered as
  DOCX (docxtpl, :mod:`core.documents.docx`), print HTML and PDF (``web/documents.py``);
- the agreement validator (:mod:`core.documents.validator`), called when an agreement is marked
  signed, with the electronic-signature limit of 电子签名法 第三条 (:mod:`core.documents.signing`);
- the 卷宗 index (:mod:`core.documents.casefile`), the archive guard (:mod:`core.documents.guards`)
  and the sealed, re-verifiable archive record (:mod:`core.documents.archive`).

Only hookimpls live here; the route handlers are in ``web/documents.py``, imported when the web app
asks for routes (core never imports web at module level).
"""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl

NAME = "documents"
__version__ = "0.1.0"



@hookimpl
def fengqiao_register_event_labels(settings: Any) -> dict[str, str]:
    return {
        "documents.item_recorded": "卷宗材料附卷",
        "documents.item_removed": "撤回卷宗材料",
        "documents.signature_recorded": "登记书面签署",
    }


@hookimpl
def fengqiao_register_documents(settings: Any) -> list[Any]:
    from core.documents import policy
    from core.documents.catalogue import CORE_DOCUMENTS

    policy.configure(settings)
    return list(CORE_DOCUMENTS)


@hookimpl
def fengqiao_register_routes(settings: Any) -> list[Any]:
    from web.documents import ROUTES  # lazily: core never imports web at module level

    return list(ROUTES)


@hookimpl
def fengqiao_case_page_reads(case_id: int) -> Any:
    """The 卷宗 panel's items, signatures and seal (``web.documents.case_panel``)."""
    from core.documents.facts import facts_reads

    return facts_reads(case_id, seal=True)


@hookimpl
async def fengqiao_case_panels(case: dict[str, Any], user: dict[str, Any]) -> Any:
    from web.documents import case_panel

    return await case_panel(case, user)


@hookimpl
async def fengqiao_case_transitioned(event: dict[str, Any], registry: Any) -> None:
    """Seal the case file when a case reaches the core step ``archived`` (inside its transaction)."""
    if event.get("status") != "archived":
        return
    from core import clock
    from core.documents.archive import write_archive_record
    from core.documents.policy import policy_from_settings
    from core.tables import Case

    case = await Case.select(Case.dispute_type, Case.archived_at).where(Case.id == event["case_id"]).first() or {}
    await write_archive_record(event["case_id"], event_id=event["event_id"],
                               retention_years=policy_from_settings(registry.settings).retention_for(case),
                               archived_at=case.get("archived_at") or clock.now())
