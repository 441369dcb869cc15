"""Piccolo tables of the statistics app (table names prefixed ``stats_``).

- :class:`Rollup` — the monthly-report counters, one row per month × organisation × room × channel
  × breakdown. ``room = 0`` rows are the organisation's totals (so a province or county view sums a
  few thousand rows, not millions of cases). Breakdowns (``dim``): ``ts`` = dispute type (``v1``) ×
  case source (``v2``); ``med`` = mediator (``v1``, the user id; ``"0"`` = none) for counters taken
  when a case concludes, room level only.
- :class:`Indicator` — channel indicators (counters registered by plugins), one row per statistic ×
  month × organisation × room × channel (``room = 0`` again the organisation's total).
- :class:`Conclusion` — one row per concluded case (settled, not settled, withdrawn, declined): what
  subsidies and the performed-agreement counter need, indexed by the month of conclusion.
- :class:`DutyDay` — a mediator's duty day (值班), paid at the deployment's daily rate.

Every counter is kept current by the plugin's hooks in the case change's own transaction and can be
rebuilt from the case tables with :func:`core.statistics.rollups.rebuild_rollups`.
"""

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.tables import Case, Room, User

__all__ = ["Rollup", "Indicator", "Conclusion", "DutyDay", "STATS_TABLES", "MEASURES"]

MEASURES = (
    "registered",
    "accepted",
    "declined",
    "withdrawn",
    "settled",
    "settled_oral",
    "not_settled",
    "amount_fen",
    "criminal_cases",
    "criminal_people",
    "petition_cases",
    "petition_people",
    "performed",
)
"""The fixed counter columns of :class:`Rollup` (core statistics name them in ``measure``)."""


class Rollup(Table, tablename="stats_rollup"):
    """Monthly-report counters. Unique on (dim, room, organisation, period, channel, v1, v2)."""

    period = Integer()
    """Year × 100 + month, in China time (``202611``)."""
    organisation = Integer(default=0)
    room = Integer(default=0)
    channel = Varchar(length=64)
    dim = Varchar(length=8)
    v1 = Varchar(length=64, default="")
    v2 = Varchar(length=64, default="")
    registered = BigInt(default=0)
    accepted = BigInt(default=0)
    declined = BigInt(default=0)
    withdrawn = BigInt(default=0)
    settled = BigInt(default=0)
    settled_oral = BigInt(default=0)
    not_settled = BigInt(default=0)
    amount_fen = BigInt(default=0)
    criminal_cases = BigInt(default=0)
    criminal_people = BigInt(default=0)
    petition_cases = BigInt(default=0)
    petition_people = BigInt(default=0)
    performed = BigInt(default=0)


class Indicator(Table, tablename="stats_indicator"):
    """Plugin counters. Unique on (statistic, room, organisation, period, channel)."""

    statistic = Varchar(length=100)
    period = Integer()
    organisation = Integer(default=0)
    room = Integer(default=0)
    channel = Varchar(length=64)
    value = BigInt(default=0)


class Conclusion(Table, tablename="stats_conclusion"):
    """How and when a case concluded, with the attributes subsidies are computed from."""

    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, unique=True)
    period = Integer(index=True)
    organisation = Integer(default=0)
    room = Integer(default=0)
    channel = Varchar(length=64)
    kind = Varchar(length=64, default="")
    dispute_type = Varchar(length=64)
    source = Varchar(length=64, default="")
    mediator = Integer(default=0)
    status = Varchar(length=32)
    """settled | not_settled | withdrawn | declined"""
    outcome = Varchar(length=32, default="")
    amount_fen = BigInt(default=0)
    """The agreement amount in fen (settled cases)."""
    people_count = Integer(default=0)
    risk_flags = Varchar(length=500, default="[]")
    """The case's risk flags when it concluded (JSON list)."""
    performed = Boolean(default=False)


class DutyDay(Table, tablename="stats_duty_day"):
    """One duty day of a mediator in a room. Unique on (user, day)."""

    user = ForeignKey(references=User, on_delete=OnDelete.restrict)
    room = ForeignKey(references=Room, on_delete=OnDelete.restrict, null=True)
    day = Date(index=True)
    note = Varchar(length=200, default="")
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz()


STATS_TABLES = [Rollup, Indicator, Conclusion, DutyDay]
