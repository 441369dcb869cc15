"""The archived case file: a canonical manifest, its SHA-256, re-verification.

On archiving (立卷归档) the documents plugin writes one :class:`~core.documents.tables.ArchiveRecord`
inside the archive transition's transaction. The manifest is the canonical JSON (sorted keys, no
spaces, UTF-8) of everything on file: the case, its parties (masked identifiers only), sessions,
agreement, follow-ups, recorded paper items, signing records and the case events up to the archive
event. The database refuses any change to the record; :func:`verify` recomputes both the record's
hash (was the record altered?) and the manifest from the live rows (was the case altered since?).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.documents.casefile import build_index
from core.documents.facts import load_facts
from core.documents.tables import ArchiveRecord, FileItem, SignatureRecord
from core.tables import Agreement, Case, CaseEvent, CaseParty, FollowUp, MediationSession

__all__ = [
    "DEFAULT_RETENTION_YEARS",
    "Verification",
    "build_manifest",
    "canonical",
    "sha256_hex",
    "verify",
    "write_archive_record",
]

MANIFEST_FORMAT = "fengqiao.case-file/1"
DEFAULT_RETENTION_YEARS = 10
"""保管期限 when the deployment sets none (``[documents] retention_years``; 0 = permanent).
No national figure was found for people's-mediation files (RULES §3.9 lists the field only):
verify against the local archive rules and set it per deployment."""

_CASE_FIELDS = ("id", "number", "room", "channel", "kind", "status", "state", "dispute_type", "code_list_version",
                "source", "summary", "claims", "amount", "people_count", "intake", "outcome", "outcome_reason",
                "suggested_route", "mediator", "registered_at", "accepted_at", "closed_at")


def _plain(value: Any) -> Any:
    """JSON-ready and engine-independent: UTC ISO datetimes, ISO dates, decimals with 2 places."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return f"{value:.2f}"
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def canonical(obj: Any) -> str:
    return json.dumps(_plain(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def build_manifest(case_id: int, last_event_id: int) -> dict[str, Any]:
    """The manifest of a case's file as the live rows are now (events up to ``last_event_id``)."""
    case = await Case.select().where(Case.id == case_id).output(load_json=True).first()
    parties = await CaseParty.select(
        CaseParty.role, CaseParty.consent,
        *CaseParty.party.all_columns(exclude=[CaseParty.party.id, CaseParty.party.id_number_enc,
                                              CaseParty.party.phone_enc, CaseParty.party.id_number_index,
                                              CaseParty.party.created_at]),
    ).where(CaseParty.case == case_id).order_by(CaseParty.id)
    sessions = await MediationSession.select(MediationSession.all_columns(exclude=[MediationSession.case])).where(
        MediationSession.case == case_id).order_by(MediationSession.id)
    agreement = await Agreement.select(Agreement.all_columns(exclude=[Agreement.case])).where(
        Agreement.case == case_id).first()
    followups = await FollowUp.select(FollowUp.all_columns(exclude=[FollowUp.case])).where(
        FollowUp.case == case_id).order_by(FollowUp.id)
    items = await FileItem.select(FileItem.all_columns(exclude=[FileItem.case])).where(
        FileItem.case == case_id).order_by(FileItem.item)
    signatures = await SignatureRecord.select(SignatureRecord.all_columns(exclude=[SignatureRecord.case])).where(
        SignatureRecord.case == case_id).order_by(SignatureRecord.id)
    events = await CaseEvent.select(CaseEvent.all_columns(exclude=[CaseEvent.case])).where(
        (CaseEvent.case == case_id) & (CaseEvent.id <= last_event_id)).order_by(CaseEvent.id).output(load_json=True)
    facts = await load_facts(case)
    index = [{"no": e.no, "key": e.key, "status": e.status} for e in build_index(facts)]
    return {
        "format": MANIFEST_FORMAT,
        "case": {k: case[k] for k in _CASE_FIELDS},
        "parties": parties,
        "sessions": sessions,
        "agreement": agreement,
        "followups": followups,
        "items": items,
        "signatures": signatures,
        "events": events,
        "index": index,
    }


async def write_archive_record(
    case_id: int, *, event_id: int, retention_years: int, archived_at: dt.datetime
) -> dict[str, Any]:
    """Seal the case file; called inside the archive transition's transaction."""
    event = await CaseEvent.select(CaseEvent.actor).where(CaseEvent.id == event_id).first()
    manifest = await build_manifest(case_id, event_id)
    manifest["archive"] = {"event_id": event_id, "retention_years": retention_years, "archived_at": archived_at}
    text = canonical(manifest)
    digest = sha256_hex(text)
    await ArchiveRecord.insert(ArchiveRecord(
        case=case_id, case_number=manifest["case"]["number"], manifest=text, sha256=digest,
        last_event_id=event_id, retention_years=retention_years,
        archived_by=event["actor"] if event else None, archived_at=archived_at,
    ))
    return {"sha256": digest, "retention_years": retention_years}


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`."""

    ok: bool
    sha256: str = ""
    problems: tuple[str, ...] = ()
    changed: tuple[str, ...] = field(default=())
    """Manifest sections whose live rows differ from the sealed ones (``agreement`` …)."""


async def verify(case_id: int) -> Verification:
    """Re-verify an archived case file: the record's hash, then the live rows against the manifest."""
    record = await ArchiveRecord.select().where(ArchiveRecord.case == case_id).first()
    if record is None:
        return Verification(ok=False, problems=("案件尚未归档，没有归档记录",))
    problems = []
    if sha256_hex(record["manifest"]) != record["sha256"]:
        problems.append("归档记录的内容与其哈希值不符：归档记录被篡改")
    try:
        sealed = json.loads(record["manifest"])
    except ValueError:
        return Verification(ok=False, sha256=record["sha256"], problems=(*problems, "归档清单无法解析"))
    live = json.loads(canonical(await build_manifest(case_id, record["last_event_id"])))
    live["archive"] = sealed.get("archive")
    changed = tuple(sorted(k for k in set(sealed) | set(live) if sealed.get(k) != live.get(k)))
    if changed:
        problems.append("归档后案件数据被修改：" + "、".join(changed))
    return Verification(ok=not problems, sha256=record["sha256"], problems=tuple(problems), changed=changed)
