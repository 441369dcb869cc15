"""The append-only, hash-chained audit log.

Every entry stores ``hash = SHA-256(prev_hash || canonical JSON of the entry)``; the first entry's
``prev_hash`` is 64 zeros. Appends are serialised (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a
transaction-scoped advisory lock), so the chain has no forks. Database triggers refuse UPDATE and
DELETE; :func:`verify` walks the chain and names the first entry whose content, link or sequence
does not match — which is what someone editing the database directly would leave behind.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import hashlib
import json
import weakref
from dataclasses import dataclass
from typing import Any

from core import clock
from core.db import write_transaction
from core.sql import fetch, fetch_one
from core.tables import AuditEntry

__all__ = ["GENESIS", "VerifyResult", "record", "record_grouped", "verify"]

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
    return (await _append([_Entry(clock.now(), actor, action, target, ip, detail or {})]))[0]


@dataclass(frozen=True)
class _Entry:
    at: dt.datetime
    actor: str
    action: str
    target: str
    ip: str
    detail: dict[str, Any]


async def _append(entries: list[_Entry]) -> list[int]:
    """Append ``entries`` in order, in one transaction (one lock, one read of the chain's end)."""
    seqs: list[int] = []
    async with write_transaction(advisory_lock=_LOCK_KEY):  # one writer of the chain at a time
        # plain SQL (core.sql): every case view appends an entry
        last = await fetch_one("SELECT seq, hash FROM core_audit ORDER BY seq DESC LIMIT 1")
        seq = last["seq"] if last else 0
        prev = last["hash"] if last else GENESIS
        values, params = [], []
        for e in entries:
            seq += 1
            digest = _digest(prev, _canonical(seq, e.at, e.actor, e.action, e.target, e.ip, e.detail))
            values.append("({}, {}, {}, {}, {}, {}, {}, {}, {})")
            params += [seq, e.at, e.actor[:100], e.action[:64], e.target[:200], e.ip[:64],
                       json.dumps(e.detail, ensure_ascii=False), prev, digest]
            seqs.append(seq)
            prev = digest
        await fetch('INSERT INTO core_audit (seq, "at", actor, action, target, ip, detail, prev_hash, hash) '
                    f"VALUES {', '.join(values)}", *params)
    return seqs


class _Group:
    def __init__(self) -> None:
        self.pending: list[tuple[_Entry, asyncio.Future[int]]] = []
        self.task: asyncio.Task[None] | None = None


_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Group] = weakref.WeakKeyDictionary()
GROUP_MAX = 200


async def record_grouped(action: str, *, actor: str = "", target: str = "", ip: str = "",
                         detail: dict[str, Any] | None = None) -> int:
    """Like :func:`record`, with group commit: entries recorded concurrently in this process (e.g. the
    case reads of simultaneous requests) are appended together in one transaction. Returns once this
    entry is committed (or raises what the write raised); a caller cancelled meanwhile does not
    withdraw its entry. Must not be called inside a transaction whose atomicity the entry should share
    — use :func:`record` there."""
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        group = _groups[loop] = _Group()
    future: asyncio.Future[int] = loop.create_future()
    group.pending.append((_Entry(clock.now(), actor, action, target, ip, detail or {}), future))
    if group.task is None or group.task.done():
        # a fresh context: the writer must never join a transaction of the request that started it
        group.task = loop.create_task(_flush(group), context=contextvars.Context())
    return await asyncio.shield(future)


async def _flush(group: _Group) -> None:
    while group.pending:
        batch, group.pending = group.pending[:GROUP_MAX], group.pending[GROUP_MAX:]
        try:
            seqs = await _append([entry for entry, _ in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            if not isinstance(exc, Exception):
                raise
        else:
            for (_, future), seq in zip(batch, seqs):
                if not future.done():
                    future.set_result(seq)


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
