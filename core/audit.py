"""The append-only, hash-chained audit log.

Every entry stores ``hash = SHA-256(prev_hash || canonical JSON of the entry)``; the first entry's
``prev_hash`` is 64 zeros. Appends are serialised (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a
transaction-scoped advisory lock), so the chain has no forks. Database triggers refuse UPDATE and
DELETE; :func:`verify` walks the chain and names the first entry whose content, link or sequence
does not match — which is what someone editing the database directly would leave behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core import clock
from core.db import is_sqlite, write_transaction
from core.tables import AuditEntry

__all__ = ["GENESIS", "VerifyResult", "record", "verify"]

GENESIS = "0" * 64
_LOCK_KEY = 7_146_392_001  # pg_advisory_xact_lock key for audit appends


def _canonical(seq: int, at: dt.datetime, actor: str, action: str, target: str, ip: str, detail: Any) -> str:
    return json.dumps(
        {"seq": seq, "at": at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"), "actor": actor,
         "action": action, "target": target, "ip": ip, "detail": detail},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )


def _digest(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


async def record(action: str, *, actor: str = "", target: str = "", ip: str = "",
                 detail: dict[str, Any] | None = None) -> int:
    """Append one entry; returns its sequence number. Never pass secrets or ID numbers in ``detail``."""
    detail = detail or {}
    at = clock.now()
    async with write_transaction():
        if not is_sqlite():
            await AuditEntry.raw("SELECT pg_advisory_xact_lock({})", _LOCK_KEY)
        last = await AuditEntry.select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq, ascending=False).first()
        seq = (last["seq"] + 1) if last else 1
        prev = last["hash"] if last else GENESIS
        digest = _digest(prev, _canonical(seq, at, actor, action, target, ip, detail))
        await AuditEntry.insert(AuditEntry(seq=seq, at=at, actor=actor[:100], action=action[:64], target=target[:200],
                                           ip=ip[:64], detail=json.dumps(detail, ensure_ascii=False), prev_hash=prev,
                                           hash=digest))
    return seq


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


async def verify(batch: int = 5000) -> VerifyResult:
    """Walk the whole chain in sequence order, in batches; report the first broken link."""
    prev, expected, checked, after = GENESIS, 1, 0, 0
    while True:
        rows = await AuditEntry.select().where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch).output(
            load_json=True)
        if not rows:
            return VerifyResult(ok=True, checked=checked)
        for r in rows:
            if r["seq"] != expected:
                return VerifyResult(False, checked, expected, f"entry #{expected} is missing (next is #{r['seq']})")
            if r["prev_hash"] != prev:
                return VerifyResult(False, checked, r["seq"], f"entry #{r['seq']} does not link to entry #{r['seq'] - 1}")
            content = _canonical(r["seq"], r["at"], r["actor"], r["action"], r["target"], r["ip"], r["detail"])
            if _digest(prev, content) != r["hash"]:
                return VerifyResult(False, checked, r["seq"], f"entry #{r['seq']} was altered (hash mismatch)")
            prev, expected, checked, after = r["hash"], expected + 1, checked + 1, r["seq"]
