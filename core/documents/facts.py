"""What the system knows about a case's file: loaded once, read by the 卷宗 index, the archive guard
and the archive manifest (no registry needed, so protocol guards can use it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from core.documents.tables import FileItem, SignatureRecord
from core.sql import fetch_one, rows_of
from core.tables import Agreement, CaseParty, MediationSession

__all__ = ["FileFacts", "load_facts", "loaded_case_file", "reusing_case_file"]

_PARTY_FIELDS = ("kind", "name", "gender", "ethnicity", "id_number_masked", "phone_masked", "credit_code", "address")
_loaded: ContextVar[tuple[int, Mapping[str, Any]] | None] = ContextVar("fq_loaded_case_file", default=None)


@contextmanager
def reusing_case_file(case_id: int, file: Mapping[str, Any]) -> Iterator[None]:
    """Within this block, :func:`load_facts` of ``case_id`` takes parties, sessions and agreement from
    ``file`` (what :func:`core.queries.case_file` returned, read in the same snapshot) instead of reading
    them again. Used by the case page around its panels and transition guards."""
    token = _loaded.set((int(case_id), file))
    try:
        yield
    finally:
        _loaded.reset(token)


def loaded_case_file(case_id: int) -> Mapping[str, Any] | None:
    """The case file given to :func:`reusing_case_file` for ``case_id``, if this runs inside that block."""
    loaded = _loaded.get()
    return loaded[1] if loaded is not None and loaded[0] == int(case_id) else None


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

    @property
    def settled(self) -> bool:
        return str(self.case.get("outcome", "")).startswith("settled")

    @property
    def accepted(self) -> bool:
        return self.case.get("accepted_at") is not None

    def has_wet_signature(self) -> bool:
        return any(s["method"] == "wet" for s in self.signatures)


async def load_facts(case: Mapping[str, Any]) -> FileFacts:
    """Load the facts of ``case`` (a row already scope-checked by the caller)."""
    case_id = case["id"]
    loaded = _loaded.get()
    if loaded is not None and loaded[0] == case_id:
        file = loaded[1]
        parties: list[dict[str, Any]] = [{"role": p["role"], **{k: p["party"][k] for k in _PARTY_FIELDS}}
                                         for p in file["parties"]]
        sessions = len(file["sessions"])
        agreement = file["agreement"]
    else:
        parties, sessions, agreement = await _read_parties_sessions_agreement(case_id)
    followups = int((await fetch_one('SELECT COUNT(*) AS n FROM core_followup WHERE "case" = {} '
                                     "AND done_on IS NOT NULL", case_id) or {}).get("n") or 0)
    items = await rows_of(FileItem, "case", case_id)
    signatures = await rows_of(SignatureRecord, "case", case_id)
    return FileFacts(
        case=case,
        parties=tuple(parties),
        sessions=sessions,
        agreement=agreement,
        followups_done=followups,
        recorded={row["item"]: row for row in items},
        signatures=tuple(signatures),
    )


async def _read_parties_sessions_agreement(case_id: int) -> tuple[list[dict[str, Any]], int, Any]:
    parties = await CaseParty.select(
        CaseParty.role,
        CaseParty.party.kind.as_alias("kind"),
        CaseParty.party.name.as_alias("name"),
        CaseParty.party.gender.as_alias("gender"),
        CaseParty.party.ethnicity.as_alias("ethnicity"),
        CaseParty.party.id_number_masked.as_alias("id_number_masked"),
        CaseParty.party.phone_masked.as_alias("phone_masked"),
        CaseParty.party.credit_code.as_alias("credit_code"),
        CaseParty.party.address.as_alias("address"),
    ).where(CaseParty.case == case_id).order_by(CaseParty.id)
    sessions = await MediationSession.count().where(MediationSession.case == case_id)
    agreement = await Agreement.select().where(Agreement.case == case_id).first()
    return parties, sessions, agreement
