"""The court channel's own record of a referral (one row per court case).

What the case table does not hold: the court's references, the kind and procedure, the receipt and
acceptance dates, how the referral ended for the court, the judicial-confirmation packet and the
court's decision. Statistics group by its columns (per room, per court, per period).
"""

from piccolo.columns import JSONB, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db import register_tables
from core.tables import Case, Room

__all__ = ["CourtReferral", "COURT_TABLES"]


class CourtReferral(Table, tablename="court_referral"):
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, unique=True)
    room = ForeignKey(references=Room, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16)  # pre_filing | entrusted
    procedure = Varchar(length=16, default="")  # ordinary | simplified (entrusted only)
    court_name = Varchar(length=100, index=True)
    court_reference = Varchar(length=100, default="")
    court_case_number = Varchar(length=100, default="")
    received_on = Date()
    period = Integer(index=True)
    """``YYYYMM`` of ``received_on``: the statistics period of the referral."""
    acceptance_due = Date(null=True, default=None)
    accepted_on = Date(null=True, default=None)
    exclusions = JSONB(default=[])
    """Why a court would not confirm an agreement (民诉法解释 第三百五十五条), found at intake or at settlement."""
    result = Varchar(length=16, default="")  # settled | terminated | returned | withdrawn
    result_ground = Varchar(length=40, default="")
    concluded_on = Date(null=True, default=None)
    due_at_conclusion = Date(null=True, default=None)
    days_to_close = Integer(null=True, default=None)
    """Calendar days from receipt to the mediation's conclusion (settled, terminated, returned, withdrawn)."""
    on_time = Boolean(null=True, default=None)
    follow_up = Varchar(length=24, default="")  # filed | document_requested | withdrawal_requested
    reported_on = Date(null=True, default=None)
    packet = JSONB(default={})
    packet_complete = Boolean(default=False)
    confirmation_applied_on = Date(null=True, default=None)
    confirmation_court = Varchar(length=100, default="")
    confirmation_decision = Varchar(length=16, default="")  # confirmed | rejected
    confirmation_decided_on = Date(null=True, default=None)
    confirmation_ruling = Varchar(length=100, default="")
    confirmation_reason = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


COURT_TABLES = (CourtReferral,)

register_tables(COURT_TABLES)  # bound to whatever database core.db.configure() selects
