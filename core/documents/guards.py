"""Protocol guards of the documents feature, for any channel's protocol.

``require_case_file()`` refuses an archive transition while a required 卷宗 item is missing; a channel
whose own documents are required for archiving passes them as ``extra`` (the registry checks at
start-up that every required document is enforced this way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.documents.casefile import build_index, missing_message, missing_required
from core.documents.facts import load_facts
from core.documents.model import DocumentDef
from core.protocol_kit import CaseContext

__all__ = ["RequireCaseFile", "require_case_file"]


@dataclass(frozen=True)
class RequireCaseFile:
    """Guard: every required item of the case file is on file (listing what is missing otherwise)."""

    extra: tuple[DocumentDef, ...] = ()

    async def __call__(self, ctx: CaseContext) -> str | None:
        facts = await load_facts(ctx.case)
        missing = missing_required(build_index(facts, self.extra))
        return missing_message(missing) if missing else None

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(d.key for d in self.extra)


def require_case_file(extra: Sequence[DocumentDef] = ()) -> RequireCaseFile:
    """A guard for archive transitions (立卷归档, 人民调解法 第二十七条).

    :param extra: the channel's documents that are ``required_for_archive``.
    """
    return RequireCaseFile(tuple(extra))
