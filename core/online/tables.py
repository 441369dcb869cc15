"""Tables of the online services for parties (互联网+人民调解)."""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables import Case, CaseParty, User
from core.tables.org import Room

__all__ = ["PartyLink", "OneTimeCode", "Slot", "Message", "ESignature", "ONLINE_TABLES"]


class PartyLink(Table, tablename="online_party_link"):
    """A party's way into their own case: a random token in a link sent to their phone.

    Only the SHA-256 of the token is stored; the link alone shows nothing until the party proves
    who they are with a one-time code and the last digits of their ID number.
    """

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    case_party = ForeignKey(references=CaseParty, on_delete=OnDelete.restrict, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked = Boolean(default=False)
    verified_at = Timestamptz(null=True, default=None)


class OneTimeCode(Table, tablename="online_code"):
    """A six-digit code sent to the party's phone: single use, short-lived, a few tries at most.

    ``purpose`` is ``login`` or ``sign``; for ``sign`` the code is bound to the SHA-256 of the exact
    agreement text shown when it was requested (``payload_hash``).
    """

    link = ForeignKey(references=PartyLink, on_delete=OnDelete.restrict, index=True)
    purpose = Varchar(length=16)
    code_hash = Varchar(length=64)
    payload_hash = Varchar(length=64, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)


class Slot(Table, tablename="online_slot"):
    """A session slot a room offers; a party of one of the room's cases may book it."""

    room = ForeignKey(references=Room, on_delete=OnDelete.restrict, index=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    place = Varchar(length=200, default="")
    online = Boolean(default=False)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()
    cancelled = Boolean(default=False)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, null=True, index=True)
    booked_by = ForeignKey(references=CaseParty, on_delete=OnDelete.restrict, null=True)
    booked_at = Timestamptz(null=True, default=None)
    video_room = Varchar(length=100, default="")
    reminded_at = Timestamptz(null=True, default=None)


class Message(Table, tablename="online_message"):
    """A text message to a party's phone. Without an SMS gateway plugin it stays on the room's
    outbox page for a mediator to read out (``status`` ``to_read``)."""

    room = ForeignKey(references=Room, on_delete=OnDelete.restrict, index=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, null=True)
    recipient = Varchar(length=200, default="")
    """The party's name and masked phone number (never the full number)."""
    phone_enc = Text(default="", secret=True)
    body = Text()
    purpose = Varchar(length=16, default="")
    status = Varchar(length=16, default="to_read")
    """to_read | sent (by a gateway) | failed"""
    gateway = Varchar(length=64, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)


class ESignature(Table, tablename="online_esignature"):
    """A party's electronic confirmation of the agreement with a one-time code (电子签名法 第十三条),
    with the exact text confirmed and its SHA-256. Append-only."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    case_party = ForeignKey(references=CaseParty, on_delete=OnDelete.restrict)
    agreement_id = Integer()
    text = Text()
    text_sha256 = Varchar(length=64)
    code = ForeignKey(references=OneTimeCode, on_delete=OnDelete.restrict)
    signed_at = Timestamptz()


ONLINE_TABLES = (PartyLink, OneTimeCode, Slot, Message, ESignature)
