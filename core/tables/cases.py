"""Parties, cases and everything recorded on a case."""

from piccolo.columns import (
    JSONB,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables.org import Room, User

__all__ = [
    "Agreement",
    "Case",
    "CaseClockEntry",
    "CaseCounter",
    "CaseEvent",
    "CaseParty",
    "FollowUp",
    "MediationSession",
    "Party",
]


class Party(Table, tablename="core_party"):
    """A person or an organisation (当事人). ID and phone are stored encrypted (core.crypto)."""

    kind = Varchar(length=16, default="person")  # person | organization
    name = Varchar(length=200)
    gender = Varchar(length=8, default="")
    ethnicity = Varchar(length=32, default="")
    id_number_enc = Text(default="", secret=True)
    id_number_index = Varchar(length=64, default="", index=True)
    """Keyed blind index (HMAC) for exact search without decrypting."""
    id_number_masked = Varchar(length=32, default="")
    phone_enc = Text(default="", secret=True)
    phone_masked = Varchar(length=32, default="")
    credit_code = Varchar(length=32, default="")
    address = Varchar(length=300, default="")
    created_at = Timestamptz()


class Case(Table, tablename="core_case"):
    """One dispute. ``state`` is the channel protocol's state; ``status`` its core lifecycle step."""

    number = Varchar(length=100, unique=True)
    room = ForeignKey(references=Room, on_delete=OnDelete.restrict, index=True)
    channel = Varchar(length=64, index=True)
    kind = Varchar(length=64)
    status = Varchar(length=32, index=True)
    state = Varchar(length=64)
    dispute_type = Varchar(length=64, index=True)
    code_list_version = Varchar(length=16)
    source = Varchar(length=64)
    summary = Text()
    claims = Text(default="")
    amount = Numeric(digits=(14, 2), null=True, default=None)
    people_count = Integer(default=2)
    risk_flags = JSONB(default=[])
    intake = JSONB(default={})
    deadline = Date(null=True, default=None, index=True)
    """Current due date of the main clock (projected from registration until the clock starts)."""
    deadline_rule = Varchar(length=64, default="")
    clock_started_on = Date(null=True, default=None)
    """The day the main clock started (its rule's ``starts_on`` event); ``None`` = not started."""
    mediator = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    partner_id = Varchar(length=64, null=True, default=None)
    external_id = Varchar(length=200, null=True, default=None)
    outcome = Varchar(length=32, default="")
    outcome_reason = Text(default="")
    suggested_route = Varchar(length=32, default="")
    year = Integer()
    seq = Integer()
    registered_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    archived_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class CaseCounter(Table, tablename="core_case_counter"):
    """Last sequence number used per number prefix and year, keyed ``"<prefix>|<year>"``.

    Keying by prefix (not room) keeps numbers unique even when two rooms share a prefix.
    """

    key = Varchar(length=128, unique=True)
    last = Integer(default=0)


class CaseParty(Table, tablename="core_case_party"):
    """A party's role in a case: applicant, respondent, representative, third party."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    party = ForeignKey(references=Party, on_delete=OnDelete.restrict)
    role = Varchar(length=32)
    consent = Varchar(length=16, default="unknown")  # unknown | agreed | refused (人民调解法 art. 17)


class MediationSession(Table, tablename="core_session"):
    """A mediation session (调解) with its record (调解笔录)."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    held_at = Timestamptz()
    place = Varchar(length=200, default="")
    online = Boolean(default=False)
    attendees = Text(default="")
    record = Text(default="")
    outcome = Varchar(length=32, default="continue")  # continue | agreement | failed
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class Agreement(Table, tablename="core_agreement"):
    """A mediation agreement (调解协议), written or oral."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, unique=True)
    number = Varchar(length=100, default="")
    form = Varchar(length=16, default="written")  # written | oral
    facts = Text(default="")
    terms = Text()
    amount = Numeric(digits=(14, 2), null=True, default=None)
    performance_method = Varchar(length=200, default="")
    performance_deadline = Date(null=True, default=None)
    signed_by_parties = Boolean(default=False)
    signed_by_mediator = Boolean(default=False)
    sealed = Boolean(default=False)
    signed_on = Date(null=True, default=None)
    fulfilment = Varchar(length=16, default="pending")  # pending | partial | performed | breached
    created_at = Timestamptz()
    updated_at = Timestamptz()


class FollowUp(Table, tablename="core_followup"):
    """A follow-up visit (回访) checking that the agreement is honoured."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    due_on = Date()
    done_on = Date(null=True, default=None)
    performance = Varchar(length=16, default="")
    """performed | partial | not_performed"""
    satisfaction = Varchar(length=16, default="")
    """satisfied | neutral | dissatisfied"""
    later_litigation = Text(default="")
    """A later lawsuit or judgment on the same dispute, if any."""
    escalation_signs = Text(default="")
    measures = Text(default="")
    notes = Text(default="")
    visitor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class CaseClockEntry(Table, tablename="core_case_clock_entry"):
    """A pause (time not counted, e.g. an appraisal 鉴定) or an extension of one of a case's clocks."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    rule = Varchar(length=64)
    kind = Varchar(length=16)  # pause | extension
    event = Varchar(length=64, default="")
    """For pauses: the tolling event (``appraisal`` …); for extensions: the mode (``consent`` …)."""
    start_on = Date()
    end_on = Date(null=True, default=None)
    """For pauses: the day the clock runs again (``None`` while paused)."""
    days = Integer(default=0)
    by = Varchar(length=100, default="")
    """Who granted an extension (the parties, or the approver's name)."""
    reason = Text(default="")
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class CaseEvent(Table, tablename="core_case_event"):
    """Append-only log of everything that happened to a case (database triggers refuse changes)."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    type = Varchar(length=64)
    """``case.<step>`` for core lifecycle steps, ``<channel>.<event>`` for channel events."""
    transition = Varchar(length=64, default="")
    from_state = Varchar(length=64, default="")
    to_state = Varchar(length=64, default="")
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    actor_label = Varchar(length=100, default="")
    data = JSONB(default={})
    partner_event = Boolean(default=False)
    """True when the partner that referred the case must be told (the outbox delivers it)."""
    created_at = Timestamptz()
