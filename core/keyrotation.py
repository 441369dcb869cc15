"""Re-encrypt stored personal data to the current field key (``fengqiao keys rotate``).

Every encrypted column is listed in :data:`ENCRYPTED_COLUMNS` (a plugin with its own encrypted
column adds it with :func:`register_encrypted_column`). :func:`rotate` walks each table in id
order, in batches of one write transaction each, and for every value not yet under the current key
and algorithm decrypts it with whichever configured key it names and writes it back under the
current one. A column with a blind index gets its index recomputed from the decrypted value, so a
changed ``index_key`` is rebuilt by the same pass.

Safe while the app serves: each row is updated only if it still holds the ciphertext that was read
(compare-and-set), so a concurrent edit is never overwritten with stale data — a row that changed
in between was written by the app under the current key already. Idempotent: a second run finds
nothing to do. Values no configured key can open are counted and left untouched.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from piccolo.table import Table

from core.crypto import DecryptError, FieldCipher

__all__ = ["ENCRYPTED_COLUMNS", "EncryptedColumn", "RotationReport", "key_usage", "register_encrypted_column", "rotate"]

log = logging.getLogger("fengqiao.keys")


@dataclass(frozen=True)
class EncryptedColumn:
    table: type[Table]
    column: str
    context: str
    """The associated-data context the value was encrypted with (``cipher.encrypt(v, context)``)."""
    index_column: str | None = None
    """A blind-index column computed from the same plaintext, if any."""


def _builtin() -> list[EncryptedColumn]:
    from core.handoff.partners import SECRET_CONTEXT
    from core.handoff.tables import Partner
    from core.tables import Party

    return [
        EncryptedColumn(Party, "id_number_enc", "id_number", index_column="id_number_index"),
        EncryptedColumn(Party, "phone_enc", "phone"),
        EncryptedColumn(Partner, "secret_enc", SECRET_CONTEXT),
    ]


ENCRYPTED_COLUMNS: list[EncryptedColumn] = []


def register_encrypted_column(column: EncryptedColumn) -> None:
    """Let a plugin's table take part in rotation."""
    if column not in ENCRYPTED_COLUMNS:
        ENCRYPTED_COLUMNS.append(column)


def _columns() -> list[EncryptedColumn]:
    out = _builtin()
    out.extend(c for c in ENCRYPTED_COLUMNS if c not in out)
    return out


@dataclass
class RotationReport:
    reencrypted: int = 0
    reindexed: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped_concurrent: int = 0
    per_column: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        cols = ", ".join(f"{k}: {v}" for k, v in sorted(self.per_column.items()) if v) or "none"
        return (f"re-encrypted {self.reencrypted} value(s) ({cols}); {self.reindexed} blind index(es) recomputed; "
                f"{self.unchanged} already current; {self.skipped_concurrent} changed concurrently; "
                f"{self.failed} unreadable")


async def rotate(cipher: FieldCipher, batch: int = 200) -> RotationReport:
    """Re-encrypt every stored value to ``cipher``'s current key and recompute blind indexes."""
    from core.db import write_transaction

    report = RotationReport()
    for spec in _columns():
        table = spec.table
        col = getattr(table, spec.column)
        idx = getattr(table, spec.index_column) if spec.index_column else None
        name = f"{table._meta.tablename}.{spec.column}"
        report.per_column.setdefault(name, 0)
        last = 0
        while True:
            wanted = [table.id, col] + ([idx] if idx is not None else [])
            rows = await table.select(*wanted).where((table.id > last) & (col != "")).order_by(table.id).limit(batch)
            if not rows:
                break
            last = rows[-1]["id"]
            planned: list[tuple[int, str, dict[Any, str], bool]] = []
            for row in rows:  # crypto work outside the write transaction (SQLite holds its lock there)
                token = row[spec.column]
                try:
                    stale = not cipher.is_current(token)
                    plain = cipher.decrypt(token, spec.context) if (stale or idx is not None) else ""
                except DecryptError as exc:
                    log.error("%s id %s: %s", name, row["id"], exc)
                    report.failed += 1
                    continue
                changes: dict[Any, str] = {}
                if stale:
                    changes[col] = cipher.encrypt(plain, spec.context)
                if idx is not None and row[spec.index_column] != cipher.blind_index(plain):
                    changes[idx] = cipher.blind_index(plain)
                if not changes:
                    report.unchanged += 1
                    continue
                planned.append((row["id"], token, changes, stale))
            async with write_transaction():
                for rid, token, changes, stale in planned:
                    updated = await table.update(changes).where((table.id == rid) & (col == token)).returning(table.id)
                    if not updated:
                        report.skipped_concurrent += 1
                        continue
                    if stale:
                        report.reencrypted += 1
                        report.per_column[name] += 1
                    if idx is not None and idx in changes:
                        report.reindexed += 1
    log.info("key rotation: %s", report.summary())
    return report


async def key_usage(cipher: FieldCipher) -> Counter[tuple[str, str]]:
    """How many stored values each (algorithm, key id) protects."""
    usage: Counter[tuple[str, str]] = Counter()
    for spec in _columns():
        col = getattr(spec.table, spec.column)
        for row in await spec.table.select(col).where(col != ""):
            try:
                usage[FieldCipher.describe(row[spec.column])] += 1
            except DecryptError:
                usage[("malformed", "?")] += 1
    return usage
