"""Piccolo tables of the core app (table names prefixed ``core_``).

Channel-specific intake data lives in ``Case.intake`` (JSONB, validated by the channel's schema);
anything statistics group by has a real column.
"""

from core.tables.audit import AuditEntry
from core.tables.cases import (
    Agreement,
    Case,
    CaseClockEntry,
    CaseCounter,
    CaseEvent,
    CaseParty,
    FollowUp,
    MediationSession,
    Party,
)
from core.tables.org import Organisation, Room, User
from core.tables.people import MediatorProfile, Recusal, RiskWarning, ScreeningRound, Training, WarningNotice

__all__ = [
    "AuditEntry",
    "Agreement",
    "Case",
    "CaseClockEntry",
    "CaseCounter",
    "CaseEvent",
    "CaseParty",
    "FollowUp",
    "MediationSession",
    "Organisation",
    "Party",
    "Room",
    "User",
    "MediatorProfile",
    "Recusal",
    "RiskWarning",
    "ScreeningRound",
    "Training",
    "WarningNotice",
    "CORE_TABLES",
]

CORE_TABLES = [
    Organisation,
    Room,
    User,
    Party,
    Case,
    CaseCounter,
    CaseParty,
    MediationSession,
    Agreement,
    FollowUp,
    CaseClockEntry,
    CaseEvent,
    MediatorProfile,
    Training,
    Recusal,
    ScreeningRound,
    RiskWarning,
    WarningNotice,
    AuditEntry,
]
