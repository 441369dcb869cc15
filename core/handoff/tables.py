"""Piccolo tables of the handoff app (table names prefixed ``handoff_``).

- :class:`Partner` — a partner agency's system: its channel, the room its referrals land in, the
  callback URL, the SHA-256 of its bearer token and its signing secret (encrypted, because it must be
  recovered to sign).
- :class:`Referral` — one accepted ``POST /api/v1/referrals``: unique per ``(partner, external_id)``
  (a raw-SQL unique index), with the hash of the canonical request body for idempotency.
- :class:`OutboxEvent` — one result callback for a partner, written in the same transaction as the
  state change that caused it, and its delivery state (attempts, schedule, lease, last error).
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables import Case, Room

__all__ = ["Partner", "Referral", "OutboxEvent", "HANDOFF_TABLES", "DELIVERY_STATES"]

DELIVERY_STATES = ("pending", "delivered", "failing", "failed")


class Partner(Table, tablename="handoff_partner"):
    """A partner system allowed to refer cases of one channel into one room."""

    partner_id = Varchar(length=64, unique=True)
    name = Varchar(length=200, default="")
    channel = Varchar(length=64)
    room = ForeignKey(references=Room, on_delete=OnDelete.restrict)
    callback_url = Varchar(length=500)
    token_hash = Varchar(length=64, unique=True)
    """Hex SHA-256 of the bearer token; the token itself is never stored."""
    secret_enc = Text(secret=True)
    """The Standard Webhooks signing secret (``whsec_…``), AES-GCM encrypted (core.crypto)."""
    disabled = Boolean(default=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Referral(Table, tablename="handoff_referral"):
    """A partner's referral and the case it created; ``(partner, external_id)`` is unique."""

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict)
    external_id = Varchar(length=200)
    request_hash = Varchar(length=64)
    """SHA-256 of the canonical JSON of the request body (sorted keys): equal bodies, equal hash."""
    referred_at = Timestamptz(null=True, default=None)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, unique=True)
    created_at = Timestamptz()


class OutboxEvent(Table, tablename="handoff_outbox"):
    """A callback to deliver, ordered per case by ``id``.

    ``status``: ``pending`` (not tried yet, or waiting for an earlier event of its case),
    ``delivered`` (a 2xx came back), ``failing`` (retrying on the schedule), ``failed`` (schedule
    exhausted; staff may resend). A worker claims a due row by setting ``locked_until`` /
    ``locked_by`` (a lease); a worker killed mid-delivery leaves a lease that simply expires.
    """

    event_id = Varchar(length=64, unique=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, index=True)
    case_event = Integer(null=True, default=None)
    """id of the ``core_case_event`` row that caused it."""
    type = Varchar(length=64)
    body = Text()
    """The exact JSON body sent on every attempt (signed afresh each time)."""
    occurred_at = Timestamptz()
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    locked_until = Timestamptz(null=True, default=None)
    locked_by = Varchar(length=64, null=True, default=None)
    last_error = Text(default="")
    last_status = Integer(null=True, default=None)
    last_attempt_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


HANDOFF_TABLES = [Partner, Referral, OutboxEvent]
