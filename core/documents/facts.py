"""What the system knows about a case's file: loaded once, read by the 卷宗 index, the archive guard
and the archive manifest (no registry needed, so protocol guards can use it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.documents.tables import FileItem, SignatureRecord
from core.queries import case_file
from core.sql import Read, fetch_many, rows_read

__all__ = ["FileFacts", "facts_reads", "load_facts"]

_PARTY_FIELDS = ("kind", "name", "gender", "ethnicity", "id_number_masked", "phone_masked", "credit_code", "address")


@dataclass(frozen=True)
class FileFacts:
    """A case and what is recorded on it."""

    case: Mapping[str, Any]
    parties: tuple[Mapping[str, Any], ...] = ()
    """``role``, ``kind``, ``name``, ``id_number_masked``, ``credit_code``, ``address`` …"""
    sessions: int = 0
    agreement: Mapping[str, Any] | None = None
    followups_done: int = 0
    recorded: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Items recorded as on file, by item key."""
    signatures: tuple[Mapping[str, Any], ...] = ()
    seal: str | None = None
    """The sealed archive's SHA-256 (``load_facts(…, seal=True)`` only; ``None``: not sealed, or not asked)."""

    @property
    def settled(self) -> bool:
        return str(self.case.get("outcome", "")).startswith("settled")

    @property
    def accepted(self) -> bool:
        return self.case.get("accepted_at") is not None

    def has_wet_signature(self) -> bool:
        return any(s["method"] == "wet" for s in self.signatures)


def facts_reads(case_id: int, *, seal: bool = False) -> list[Read]:
    """The statements :func:`load_facts` runs besides the case file (its 卷宗 items, signatures, seal)."""
    reads = [rows_read(FileItem, "case", case_id), rows_read(SignatureRecord, "case", case_id)]
    if seal:
        reads.append(Read('SELECT sha256 FROM documents_archive WHERE "case" = {} LIMIT 1', (case_id,)))
    return reads


async def load_facts(case: Mapping[str, Any], *, seal: bool = False) -> FileFacts:
    """Load the facts of ``case`` (a row already scope-checked by the caller); with ``seal``, also the
    archive seal (read in the same batch as the items and signatures)."""
    case_id = case["id"]
    file = await case_file(case_id)  # on the case page: the file it read already
    parties = [{"role": p["role"], **{k: p["party"][k] for k in _PARTY_FIELDS}} for p in file["parties"]]
    followups = sum(1 for f in file["followups"] if f["done_on"] is not None)
    items, signatures, *sealed = await fetch_many(*facts_reads(case_id, seal=seal))
    return FileFacts(
        case=case,
        parties=tuple(parties),
        sessions=len(file["sessions"]),
        agreement=file["agreement"],
        followups_done=followups,
        recorded={row["item"]: row for row in items},
        signatures=tuple(signatures),
        seal=sealed[0][0]["sha256"] if sealed and sealed[0] else None,
    )

