"""Scoped reads of the rollups: every query sums a few hundred or thousand rollup rows, never cases.

Scope follows :mod:`core.access`: the rooms a user may see come from :func:`core.access.room_scope`
(mediator: their room; supervisor: their organisation's rooms; admin: all), and a query reads either
the rows of one room, or the organisation totals (``room = 0``) of the user's organisation (or of
every organisation, for an admin). A filter outside the user's scope is ignored, never widened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from core import clock
from core.access import UserCtx, room_scope_sql
from core.channels import StatisticDef
from core.db import read_transaction
from core.sql import Read, fetch_many
from core.statistics.tables import MEASURES, Rollup


__all__ = [
    "StatsFilters", "Scope", "resolve_scope", "month_range", "StatsData", "load_stats", "read_snapshot",
    "naive_type_source",
]


def month_range(first: int, last: int) -> list[int]:
    """Every ``YYYYMM`` from ``first`` to ``last`` inclusive."""
    out, y, m = [], first // 100, first % 100
    while y * 100 + m <= last and len(out) < 1200:
        out.append(y * 100 + m)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class StatsFilters:
    """Period (months ``YYYYMM``, inclusive) and the optional organisation, room and channel."""

    period_from: int
    period_to: int
    organisation: int | None = None
    room: int | None = None
    channel: str = ""

    @classmethod
    def this_year(cls, today: dt.date | None = None) -> StatsFilters:
        today = today or clock.today()
        return cls(period_from=today.year * 100 + 1, period_to=today.year * 100 + today.month)


@dataclass(frozen=True)
class Scope:
    """What a query may read: one room's rows (``room``), one organisation's totals (``org``), the totals
    of every organisation (``all``, admins), or nothing (``none``)."""

    level: str  # room | org | all | none
    organisation: int | None = None
    room: int | None = None
    label: str = ""
    rooms: tuple[dict[str, Any], ...] = ()
    """Rooms the user may see (for the filter form)."""
    organisations: tuple[dict[str, Any], ...] = ()
    """Organisations the user may choose (admins)."""
    filters: StatsFilters | None = None
    """The filters as applied (out-of-scope choices dropped)."""

    def where(self, alias: str = "s", *, dim: str = "ts", level: str = "") -> tuple[str, list[Any]]:
        """SQL conditions on a rollup table (``dim`` ``""`` for the indicator table) for this scope, the
        period and the channel. ``level`` ``"below"`` selects the rows one level down instead: each
        organisation's totals for ``all``, each room's for ``org``."""
        from core.statistics.rollups import ALL_ORGS

        f = self.filters
        assert f is not None
        a = alias
        parts, params = [], []
        if dim:
            parts.append(f"{a}.dim = {{}}")
            params.append(dim)
        below = level == "below" or dim == "med"
        if self.level == "room":
            parts.append(f"{a}.room = {{}} AND {a}.organisation = {{}}")
            params += [self.room, self.organisation or 0]
        elif self.level == "org":
            parts.append(f"{a}.room {'<>' if below else '='} 0 AND {a}.organisation = {{}}")
            params.append(self.organisation)
        elif self.level == "all":
            parts.append(f"{a}.room = 0 AND {a}.organisation {'<>' if below else '='} {{}}" if dim != "med"
                         else f"{a}.room <> 0")
            if dim != "med":
                params.append(ALL_ORGS)
        else:
            parts.append("1 = 0")
        parts.append(f"{a}.period >= {{}} AND {a}.period <= {{}}")
        params += [f.period_from, f.period_to]
        if f.channel:
            parts.append(f"{a}.channel = {{}}")
            params.append(f.channel)
        return " AND ".join(parts), params


async def resolve_scope(user: UserCtx, filters: StatsFilters) -> Scope:
    """Apply ``filters`` within what ``user`` may see (rooms from :func:`core.access.room_scope`)."""
    where, args = room_scope_sql(user)
    reads = [Read(f"SELECT r.id, r.name, r.organisation, r.channel FROM core_room r WHERE {where} ORDER BY r.name",
                  tuple(args))]
    if user.role == "admin":
        reads.append(Read("SELECT o.id, o.name FROM core_organisation o ORDER BY o.name"))
    elif user.role == "supervisor" and user.organisation is not None:
        reads.append(Read("SELECT o.id, o.name FROM core_organisation o WHERE o.id = {}", (user.organisation,)))
    room_rows, *org_rows = await fetch_many(*reads)  # plain SQL, one batch: every statistics page starts here
    rooms = tuple(room_rows)
    by_id = {r["id"]: r for r in rooms}
    orgs: tuple[dict[str, Any], ...] = tuple(org_rows[0]) if org_rows else ()
    org_ids = {o["id"]: o for o in orgs}
    room = filters.room if filters.room in by_id else None
    organisation = filters.organisation if filters.organisation in org_ids and user.role == "admin" else None
    if room is not None and organisation is not None and by_id[room]["organisation"] != organisation:
        room = None
    common = {"rooms": rooms, "organisations": orgs}
    if room is not None:
        r = by_id[room]
        applied = StatsFilters(filters.period_from, filters.period_to, r["organisation"] if user.role == "admin"
                               else None, room, filters.channel)
        return Scope("room", r["organisation"], room, r["name"], filters=applied, **common)
    if user.role == "mediator" and user.room in by_id:
        r = by_id[user.room]
        applied = StatsFilters(filters.period_from, filters.period_to, None, None, filters.channel)
        return Scope("room", r["organisation"], user.room, r["name"], filters=applied, **common)
    if user.role == "supervisor" and user.organisation is not None:
        applied = StatsFilters(filters.period_from, filters.period_to, None, None, filters.channel)
        return Scope("org", user.organisation, None, org_ids.get(user.organisation, {}).get("name", ""),
                     filters=applied, **common)
    if user.role == "admin":
        applied = StatsFilters(filters.period_from, filters.period_to, organisation, None, filters.channel)
        if organisation is None:
            return Scope("all", None, None, "全部组织", filters=applied, **common)
        return Scope("org", organisation, None, org_ids[organisation]["name"], filters=applied, **common)
    return Scope("none", label="", filters=StatsFilters(filters.period_from, filters.period_to), **common)


_SUMS = ", ".join(f"SUM(s.{m}) AS {m}" for m in MEASURES)


def _num(row: dict[str, Any]) -> dict[str, int]:
    return {m: int(row[m] or 0) for m in MEASURES}


@dataclass
class StatsData:
    """Aggregated numbers for one scope and period (measures keyed by rollup column)."""

    type_source: list[tuple[str, str, dict[str, int]]] = field(default_factory=list)
    trend: dict[int, dict[str, int]] = field(default_factory=dict)
    channels: dict[str, dict[str, int]] = field(default_factory=dict)
    units: list[tuple[int, dict[str, int]]] = field(default_factory=list)
    """(organisation or room id, measures): organisations for a province view, rooms for an organisation."""
    unit_kind: str = ""  # organisation | room | ""
    mediators: list[tuple[int, dict[str, int]]] = field(default_factory=list)
    indicators: dict[str, int] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)


read_snapshot = read_transaction
"""Kept for callers in this package: one read snapshot per page (see :func:`core.db.read_transaction`)."""


async def load_stats(scope: Scope, statistics: dict[str, StatisticDef], *, breakdowns: bool = True) -> StatsData:
    """Everything the statistics page and the exports show, in one statement (a ``UNION ALL`` of small
    ``GROUP BY``s over rollup rows)."""
    data = StatsData()
    where, params = scope.where()
    aw, ap = scope.where(dim="all")
    parts = [(f"SELECT 'ts' AS k, s.v1 AS a, s.v2 AS b, {_SUMS} FROM stats_rollup s WHERE {where} "
              "GROUP BY s.v1, s.v2", params),
             (f"SELECT 'p', CAST(s.period AS VARCHAR(16)), '', {_SUMS} FROM stats_rollup s WHERE {aw} "
              "GROUP BY s.period", ap)]
    if breakdowns:
        parts.append((f"SELECT 'ch', s.channel, '', {_SUMS} FROM stats_rollup s WHERE {aw} GROUP BY s.channel", ap))
        if scope.level in {"all", "org"}:
            data.unit_kind = "organisation" if scope.level == "all" else "room"
            col = "organisation" if scope.level == "all" else "room"
            uw, up = scope.where(dim="all", level="below")
            parts.append((f"SELECT 'u', CAST(s.{col} AS VARCHAR(16)), '', {_SUMS} FROM stats_rollup s WHERE {uw} "
                          f"GROUP BY s.{col}", up))
        if scope.level in {"room", "org"}:
            mw, mp = scope.where(dim="med")
            parts.append((f"SELECT 'm', s.v1, '', {_SUMS} FROM stats_rollup s WHERE {mw} GROUP BY s.v1", mp))
    iw, ip = scope.where("s", dim="")
    zeros = ", ".join(f"SUM(s.value) AS {m}" if i == 0 else f"0 AS {m}" for i, m in enumerate(MEASURES))
    parts.append((f"SELECT 'i', s.statistic, '', {zeros} FROM stats_indicator s WHERE {iw} GROUP BY s.statistic", ip))
    sql = " UNION ALL ".join(f"SELECT * FROM ({p}) q{i}" for i, (p, _) in enumerate(parts))
    live = [s for s in statistics.values() if s.sql]
    known, live_reads = _live_reads(scope, live) if live else ({}, [])
    # one batch: the rollups and the live statistics (one round trip on PostgreSQL, one hop on SQLite)
    rows, *live_rows = await fetch_many(Read(sql, tuple(x for _, ps in parts for x in ps)),
                                        *(read for _, read in live_reads))
    mediators = []
    for r in rows:
        k, num = r["k"], _num(r)
        if k == "ts":
            data.type_source.append((r["a"], r["b"], num))
        elif k == "p":
            data.trend[int(r["a"])] = num
        elif k == "ch":
            data.channels[r["a"]] = num
        elif k == "u":
            data.units.append((int(r["a"]), num))
        elif k == "m":
            mediators.append((int(r["a"]), num))
        elif k == "i":
            data.indicators[r["a"]] = num[MEASURES[0]]
    data.mediators = sorted(mediators, key=lambda x: -x[1]["settled"])
    if live:
        data.live = known
        for (group, _), found in zip(live_reads, live_rows, strict=True):
            row = found[0] if found else {}
            data.live.update({s.name: row.get(f"v{i}") or 0 for i, s in enumerate(group)})
    return data


def month_start(period: int) -> dt.datetime:
    """The first instant of month ``YYYYMM`` in China time."""
    return dt.datetime(period // 100, period % 100, 1, tzinfo=clock.TZ)


def _add_scope(scope: Scope, parts: list[str], params: list[Any]) -> None:
    """Add the conditions on ``core_case c`` that keep a query within ``scope``'s rooms."""
    if scope.level == "room":
        parts.append("c.room = {}")
        params.append(scope.room)
    elif scope.level == "org":
        parts.append("c.room IN (SELECT id FROM core_room WHERE organisation = {})")
        params.append(scope.organisation)
    elif scope.level == "none":
        parts.append("1 = 0")


def _live_reads(scope: Scope, stats: list[StatisticDef]) -> tuple[dict[str, Any], list[tuple[list[StatisticDef], Read]]]:
    """Statistics given as plain SQL aggregates over ``core_case c`` (not rolled up): cases registered
    in the period, within the scope; a channel's statistic reads only that channel's cases. Returns
    the values known without reading (0: another channel is filtered) and one statement per channel.

    The period is a range of ``registered_at`` (not a function of it), so that with the channel it is
    served by the index ``core_case (channel, registered_at)``."""
    f = scope.filters
    assert f is not None
    y, m = divmod(f.period_to, 100)
    start, end = month_start(f.period_from), month_start((y + m // 12) * 100 + m % 12 + 1)  # the month after
    known: dict[str, Any] = {}
    reads: list[tuple[list[StatisticDef], Read]] = []
    by_channel: dict[str, list[StatisticDef]] = {}
    for s in stats:
        by_channel.setdefault(s.channel, []).append(s)
    for channel, group in by_channel.items():
        if f.channel and channel not in ("core", f.channel):
            known.update({s.name: 0 for s in group})
            continue
        parts, params = ["c.registered_at >= {} AND c.registered_at < {}"], [start, end]
        if channel != "core" or f.channel:
            parts.append("c.channel = {}")
            params.append(f.channel or channel)
        _add_scope(scope, parts, params)
        cols = ", ".join(f"({s.sql}) AS v{i}" for i, s in enumerate(group))
        reads.append((group, Read(f"SELECT {cols} FROM core_case c WHERE {' AND '.join(parts)}", tuple(params))))
    return known, reads


async def naive_type_source(scope: Scope) -> list[dict[str, Any]]:
    """The naive way (benchmark baseline): ``GROUP BY`` straight over the case table, by month of
    registration. Not used by pages."""
    from core.statistics.dialect import current

    f, d = scope.filters, current()
    assert f is not None
    p = d.period("c.registered_at")
    parts, params = [f"{p} >= {{}} AND {p} <= {{}}"], [f.period_from, f.period_to]
    _add_scope(scope, parts, params)
    if f.channel:
        parts.append("c.channel = {}")
        params.append(f.channel)
    flags, criminal, group = "CAST(c.risk_flags AS TEXT)", "'\"may_turn_criminal\"'", "'\"group_dispute\"'"
    return await Rollup.raw(
        "SELECT c.dispute_type, c.source, COUNT(*) AS registered, "
        "SUM(CASE WHEN c.accepted_at IS NOT NULL THEN 1 ELSE 0 END) AS accepted, "
        "SUM(CASE WHEN c.outcome LIKE 'settled%' THEN 1 ELSE 0 END) AS settled, "
        "SUM(CASE WHEN c.outcome = 'settled_oral' THEN 1 ELSE 0 END) AS settled_oral, "
        "SUM(CASE WHEN c.outcome = 'not_settled' THEN 1 ELSE 0 END) AS not_settled, "
        "SUM(CASE WHEN c.outcome = 'withdrawn' THEN 1 ELSE 0 END) AS withdrawn, "
        "SUM(CASE WHEN c.outcome = 'declined' THEN 1 ELSE 0 END) AS declined, "
        f"SUM(CASE WHEN c.outcome LIKE 'settled%' THEN COALESCE({d.fen('a.amount')}, 0) ELSE 0 END) AS amount_fen, "
        f"SUM(CASE WHEN c.outcome LIKE 'settled%' AND {d.contains(flags, criminal)} "
        "THEN c.people_count ELSE 0 END) AS criminal_people, "
        f"SUM(CASE WHEN c.outcome LIKE 'settled%' AND {d.contains(flags, group)} "
        "THEN c.people_count ELSE 0 END) AS petition_people, "
        "SUM(CASE WHEN a.fulfilment = 'performed' THEN 1 ELSE 0 END) AS performed "
        'FROM core_case c LEFT JOIN core_agreement a ON a."case" = c.id '
        f"WHERE {' AND '.join(parts)} GROUP BY c.dispute_type, c.source",
        *params,
    )
