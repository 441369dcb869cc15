"""Piccolo tables of the petition channel (table names prefixed ``petition_``).

- :class:`PetitionFile` — one row per accepted petition: its grade (一般 / 重大疑难复杂) and the criteria
  that made it so, and "one case, one team, one plan, one number" (一案一组、一案一策、一案一号): the team
  number, the written plan, the supervisor (督办人) and the team's deadline (限时销号); after entrustment the
  unit the case was entrusted with and who pays the case subsidy (the unit that caused the petition, else
  the same-level treasury).
- :class:`TeamMember` — a member of the dedicated team (专调小组): a user of the room (who then may open
  the team's working records) or an outside professional recorded by name; their profession and whether
  they are a public employee (公职人员, no case subsidy).
- :class:`WorkRecord` — the team's working records, one per entry, validated by the form of its kind
  (visits, investigations, evidence, appraisal requests and results, joint consultations 会商, aid
  applications …); ``data`` holds the validated form.
"""

from piccolo.columns import JSONB, Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db import register_tables
from core.tables import Case, User

__all__ = ["PetitionFile", "TeamMember", "WorkRecord", "PETITION_TABLES"]


class PetitionFile(Table, tablename="petition_file"):
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, unique=True)
    grade = Varchar(length=16, default="general")
    """general | major"""
    criteria = JSONB(default=[])
    """Codes of the major-case criteria that hold (``to_capital``, ``group`` …)."""
    assessment = Text(default="")
    number = Varchar(length=100, null=True, default=None, unique=True)
    """The team's number (一案一号), set when the team is formed."""
    plan = Text(default="")
    supervisor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    team_deadline = Date(null=True, default=None)
    entrusted_unit = Varchar(length=200, default="")
    bureau_handles = Boolean(default=False)
    """No responsible unit: the petition bureau itself handles the case."""
    payer = Varchar(length=200, default="")
    """Who pays the case subsidy: the unit that caused the petition, or ``""`` = the same-level treasury."""
    created_at = Timestamptz()
    updated_at = Timestamptz()


class TeamMember(Table, tablename="petition_team_member"):
    file = ForeignKey(references=PetitionFile, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    name = Varchar(length=100)
    profession = Varchar(length=32)
    """lawyer | mediator | notary | appraiser | legal_aid | legal_service | other"""
    public_employee = Boolean(default=False)
    lead = Boolean(default=False)
    created_at = Timestamptz()


class WorkRecord(Table, tablename="petition_work_record"):
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=32)
    data = JSONB(default={})
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


PETITION_TABLES = [PetitionFile, TeamMember, WorkRecord]
register_tables(PETITION_TABLES)
