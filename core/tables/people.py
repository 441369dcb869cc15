"""Mediators' profiles (持证上岗, 等级, 专长), training records, recusals, screening rounds and warnings."""

from piccolo.columns import JSONB, Boolean, Date, ForeignKey, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables.cases import Case
from core.tables.org import Organisation, Room, User

__all__ = ["MediatorProfile", "Training", "Recusal", "ScreeningRound", "RiskWarning", "WarningNotice"]


class MediatorProfile(Table, tablename="core_mediator_profile"):
    """A mediator's registry entry (名册): employment, certificate, grade and specialities."""

    user = ForeignKey(references=User, on_delete=OnDelete.restrict, unique=True)
    employment = Varchar(length=16, default="part_time")  # full_time 专职 | part_time 兼职
    certificate_no = Varchar(length=64, default="")
    certificate_valid_until = Date(null=True, default=None)
    star_grade = Integer(default=0)  # 0 = not graded, 1..5 stars (等级评定)
    specialities = JSONB(default=[])
    """Dispute-type codes the mediator is experienced in."""
    public_employee = Boolean(default=False)
    phone = Varchar(length=20, default="")
    updated_at = Timestamptz()


class Training(Table, tablename="core_training"):
    """One entry of a mediator's training record (培训档案)."""

    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    held_on = Date()
    course = Varchar(length=200)
    hours = Numeric(digits=(6, 1))
    organiser = Varchar(length=200, default="")
    created_at = Timestamptz()


class Recusal(Table, tablename="core_recusal"):
    """A mediator who must not handle a case (回避), with the ground."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict)
    reason = Text()
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class ScreeningRound(Table, tablename="core_screening_round"):
    """A round of dispute screening (排查): village weekly, township monthly, county quarterly."""

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    room = ForeignKey(references=Room, on_delete=OnDelete.restrict, null=True)
    level = Varchar(length=16)  # village | township | county
    conducted_on = Date(index=True)
    disputes_found = Integer(default=0)
    risks_found = Integer(default=0)
    findings = Text(default="")
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class RiskWarning(Table, tablename="core_risk_warning"):
    """An early warning (预警) raised by a risk flag on a case."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    flag = Varchar(length=32)
    note = Text(default="")
    raised_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    raised_at = Timestamptz()
    cleared_at = Timestamptz(null=True, default=None)


class WarningNotice(Table, tablename="core_warning_notice"):
    """Who was told of a warning and when (the audit of notifications); append-only."""

    warning = ForeignKey(references=RiskWarning, on_delete=OnDelete.restrict, index=True)
    recipient_kind = Varchar(length=16)  # user | agency
    recipient = Varchar(length=200)
    """A username, or the name of an agency configured by the deployment."""
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    sent_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)
