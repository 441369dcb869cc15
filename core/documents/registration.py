"""Start-up validation of registered documents and agreement requirements (called by the registry)."""

from __future__ import annotations

from collections.abc import Mapping
from core.channels import HandoffProtocol, RegistrationError
from core.documents.casefile import ITEM_TITLES
from core.documents.guards import RequireCaseFile
from core.documents.model import AgreementRequirement, DocumentDef
from core.lifecycle import CoreStatus

__all__ = ["check_documents"]


def _archive_guards(protocol: HandoffProtocol) -> list[RequireCaseFile] | None:
    """The case-file guards of each transition into an archived state (``None``: no such transition)."""
    targets = [t for t in protocol.transitions if protocol.state(t.target).status is CoreStatus.ARCHIVED]
    if not targets:
        return None
    return [next((g for g in t.guards if isinstance(g, RequireCaseFile)), RequireCaseFile()) for t in targets]


def check_documents(
    documents: Mapping[str, tuple[str, DocumentDef]],
    requirements: Mapping[str, tuple[str, AgreementRequirement]],
    *,
    installed: set[str],
    protocols: Mapping[str, HandoffProtocol],
) -> tuple[dict[str, DocumentDef], dict[str, AgreementRequirement]]:
    """Validate and keep what belongs to enabled channels (``protocols``' keys).

    Raises:
        RegistrationError: a document or requirement names an uninstalled channel or an unknown 卷宗
            item, or a required document is not enforced by a channel's archive transition.
    """
    enabled = set(protocols)
    kept_docs: dict[str, DocumentDef] = {}
    for key, (plugin, doc) in documents.items():
        if not isinstance(doc, DocumentDef):
            raise RegistrationError(f"plugin {plugin!r}: document {key!r} must be a DocumentDef")
        unknown = set(doc.channels) - installed
        if unknown:
            raise RegistrationError(f"plugin {plugin!r} registers document {key!r} for unknown channel(s) {sorted(unknown)}")
        if doc.file_item and doc.file_item not in ITEM_TITLES:
            raise RegistrationError(
                f"plugin {plugin!r}: document {key!r} names unknown 卷宗 item {doc.file_item!r}; "
                f"known: {sorted(ITEM_TITLES)}")
        if doc.required_for_archive and key in ITEM_TITLES:
            raise RegistrationError(f"plugin {plugin!r}: document key {key!r} clashes with a standard 卷宗 item")
        if doc.channels and not set(doc.channels) & enabled:
            continue
        kept_docs[key] = doc
    for key, doc in kept_docs.items():
        if not doc.required_for_archive:
            continue
        for channel in (doc.channels or tuple(sorted(enabled))):
            if channel not in protocols:
                continue
            guards = _archive_guards(protocols[channel])
            if guards is None:
                continue
            if any(key not in g.keys for g in guards):
                raise RegistrationError(
                    f"plugin {documents[key][0]!r}: document {key!r} is required for archiving but the archive "
                    f"transition of channel {channel!r} does not enforce it; add "
                    f"core.documents.guards.require_case_file(extra=(<the document>,)) to its guards")
    kept_reqs: dict[str, AgreementRequirement] = {}
    for key, (plugin, req) in requirements.items():
        if not isinstance(req, AgreementRequirement):
            raise RegistrationError(f"plugin {plugin!r}: agreement requirement {key!r} must be an AgreementRequirement")
        unknown = set(req.channels) - installed
        if unknown:
            raise RegistrationError(
                f"plugin {plugin!r} registers agreement requirement {key!r} for unknown channel(s) {sorted(unknown)}")
        if req.channels and not set(req.channels) & enabled:
            continue
        kept_reqs[key] = req
    return kept_docs, kept_reqs

