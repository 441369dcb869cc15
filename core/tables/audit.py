"""The append-only, hash-chained audit log."""

from piccolo.columns import JSONB, BigInt, Timestamptz, Varchar
from piccolo.table import Table

__all__ = ["AuditEntry"]


class AuditEntry(Table, tablename="core_audit"):
    """One audited action. ``hash`` = SHA-256 over the previous entry's hash and this entry's
    canonical content, so editing or deleting any row breaks every later link."""

    seq = BigInt(unique=True)
    at = Timestamptz()
    actor = Varchar(length=100, default="")
    """Username, ``partner:<id>``, or empty for anonymous."""
    action = Varchar(length=64, index=True)
    target = Varchar(length=200, default="")
    ip = Varchar(length=64, default="")
    detail = JSONB(default={})
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
