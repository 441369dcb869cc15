"""Tables of the industry host: expert pools, consultations and the committee registry (its own Piccolo app)."""

from piccolo.columns import JSONB, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables import Case, Organisation, User

__all__ = ["Expert", "Consultation", "Opinion", "Recusal", "CommitteeRecord", "Inspection", "StatReport",
           "INDUSTRY_TABLES"]


class Expert(Table, tablename="industry_expert"):
    """A member of a committee's expert pool (专家库), in one category."""

    committee = Varchar(length=64, index=True)
    category = Varchar(length=64)
    name = Varchar(length=100)
    employer = Varchar(length=200, default="")
    title = Varchar(length=100, default="")
    active = Boolean(default=True)
    added_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class Consultation(Table, tablename="industry_consultation"):
    """A case's request for expert opinions (专家咨询) in one category."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    committee = Varchar(length=64)
    category = Varchar(length=64)
    question = Text()
    status = Varchar(length=16, default="open")  # open | completed
    requested_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    requested_at = Timestamptz()
    completed_at = Timestamptz(null=True, default=None)


class Opinion(Table, tablename="industry_opinion"):
    """One expert's written opinion on a consultation."""

    consultation = ForeignKey(references=Consultation, on_delete=OnDelete.restrict, index=True)
    expert = ForeignKey(references=Expert, on_delete=OnDelete.restrict)
    opinion = Text()
    given_on = Date()
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class Recusal(Table, tablename="industry_recusal"):
    """A conflict of interest (回避) of an expert in a consultation; the expert may not give an opinion."""

    consultation = ForeignKey(references=Consultation, on_delete=OnDelete.restrict, index=True)
    expert = ForeignKey(references=Expert, on_delete=OnDelete.restrict)
    reason = Text()
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class CommitteeRecord(Table, tablename="industry_committee"):
    """An organisation registered as an industry committee of one kind (its filing is the organisation's)."""

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, unique=True)
    committee = Varchar(length=64)
    sector_body = Varchar(length=200, default="")
    founded_on = Date()
    flagged_on = Date(null=True, default=None)
    """Set by the dormant check (整改); cleared when a later check finds nothing."""
    flag_reasons = JSONB(default=[])
    created_at = Timestamptz()


class Inspection(Table, tablename="industry_inspection"):
    """An annual inspection (年度检查) of a committee."""

    record = ForeignKey(references=CommitteeRecord, on_delete=OnDelete.restrict, index=True)
    year = Integer()
    inspected_on = Date()
    result = Varchar(length=16)  # passed | rectify
    notes = Text(default="")
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


class StatReport(Table, tablename="industry_stat_report"):
    """A year's statistics reported by a committee to the justice bureau (统计报送)."""

    record = ForeignKey(references=CommitteeRecord, on_delete=OnDelete.restrict, index=True)
    year = Integer()
    reported_on = Date()
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


INDUSTRY_TABLES = (Expert, Consultation, Opinion, Recusal, CommitteeRecord, Inspection, StatReport)


def _bind() -> None:
    from core.db import register_tables

    register_tables(INDUSTRY_TABLES)


_bind()
