"""Piccolo tables of the documents app (table names prefixed ``documents_``).

- :class:`FileItem` — a paper item the mediator has put into the case file (卷宗): the copy of an
  identity document, evidence, receipts …; one row per case and item key.
- :class:`SignatureRecord` — how an agreement was signed: a wet (hand-written) signature seen by the
  mediator, required where electronic signatures do not apply (电子签名法 第三条). Append-only.
- :class:`ArchiveRecord` — the archived case file: a canonical JSON manifest of everything on file,
  its SHA-256, the retention period and the archive time. Append-only (database triggers).
"""

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables import Case, User

__all__ = ["FileItem", "SignatureRecord", "ArchiveRecord", "DOCUMENTS_TABLES"]


class FileItem(Table, tablename="documents_file_item"):
    """A 卷宗 item recorded as on file (the system knows the generated ones by itself)."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    item = Varchar(length=64)
    """Key of a standard 卷宗 item (``identity`` …) or of a channel document (``court_referral_receipt``)."""
    note = Text(default="")
    pages = Integer(null=True, default=None)
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    recorded_at = Timestamptz()


class SignatureRecord(Table, tablename="documents_signature"):
    """A signing of the case's agreement, with its method (``wet`` | ``electronic``)."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    method = Varchar(length=16, default="wet")
    signers = Varchar(length=500)
    """Who signed (names as written on the agreement)."""
    signed_on = Date()
    place = Varchar(length=200, default="")
    note = Text(default="")
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    recorded_at = Timestamptz()


class ArchiveRecord(Table, tablename="documents_archive"):
    """The sealed case file. ``manifest`` is stored as text so that the hashed bytes are kept exactly."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, unique=True)
    case_number = Varchar(length=100)
    manifest = Text()
    sha256 = Varchar(length=64)
    last_event_id = Integer()
    """The archive event; the manifest covers the case's events up to and including it."""
    retention_years = Integer()
    """保管期限 in years; 0 = permanent (永久)."""
    archived_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    archived_at = Timestamptz()


DOCUMENTS_TABLES = [FileItem, SignatureRecord, ArchiveRecord]
