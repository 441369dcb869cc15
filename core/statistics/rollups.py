"""Rollups: counters kept current inside the case engine's write transaction, and rebuilt from scratch.

Two paths compute the same numbers and the tests hold them equal:

- **incremental** — :func:`on_registered` and :func:`on_transitioned` run from the plugin's
  ``fengqiao_case_registered`` / ``fengqiao_case_transitioned`` hookimpls, inside the transaction
  that changes the case; each event adds its counters with a few ``INSERT … ON CONFLICT … DO
  UPDATE`` rows (room, organisation total, mediator). A rollup therefore commits or rolls back with
  the case change and is never stale;
- **from scratch** — :func:`rebuild_rollups` recomputes every rollup with ``GROUP BY`` over the case,
  event and agreement tables (after a bulk load, or to check the incremental path).

Counters are :class:`core.channels.StatisticDef` with ``counts``: core ones naming a ``measure``
land in the wide :class:`~core.statistics.tables.Rollup`; the others (channel indicators) in
:class:`~core.statistics.tables.Indicator`. Both paths evaluate the same ``when`` conditions
(``core.statistics.conditions``) — on the case as it is at the event (incremental) or as it is now
(rebuild). The fields they test do not change once a case concluded, except risk flags, which
``core.warnings.set_flags`` may still edit: flag-conditioned counters agree as long as flags are
edited only while a case is open.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core import clock
from core.channels import StatisticDef
from core.db import write_transaction
from core.registry import Registry
from core.statistics.conditions import case_facts, predicate, to_sql
from core.statistics.definitions import CONCLUDED
from core.statistics.dialect import Dialect, current
from core.statistics.tables import MEASURES, Conclusion, Rollup
from core.tables import CaseEvent

__all__ = [
    "Plan",
    "plan_for",
    "effective_when",
    "period_of",
    "on_registered",
    "on_transitioned",
    "sync_performed",
    "rebuild_rollups",
    "ALL_ORGS",
]

MED_TRIGGERS = frozenset({f"status:{s}" for s in CONCLUDED} | {"performed"})
"""Counters also broken down by mediator: those taken when a case concludes (its mediator is fixed
from then on) and the performed agreements."""
ROLLUP_KEY = "(dim, room, organisation, period, channel, v1, v2)"
INDICATOR_KEY = "(statistic, room, organisation, period, channel)"


@dataclass(frozen=True)
class Plan:
    """The counters of a registry, indexed by trigger (compiled once per registry)."""

    wide: dict[str, tuple[StatisticDef, ...]]
    narrow: dict[str, tuple[StatisticDef, ...]]
    checks: dict[str, Callable[[dict[str, Any]], bool]]
    status_of: dict[str, dict[str, str]]
    """channel → protocol state → core status."""

    @property
    def triggers(self) -> set[str]:
        return set(self.wide) | set(self.narrow)

    @property
    def indicators(self) -> tuple[StatisticDef, ...]:
        return tuple(s for defs in self.narrow.values() for s in defs)


def plan_for(reg: Registry) -> Plan:
    """The registry's counters, cached on ``reg.extra``."""
    plan = reg.extra.get("statistics.plan")
    if plan is None:
        wide: dict[str, list[StatisticDef]] = defaultdict(list)
        narrow: dict[str, list[StatisticDef]] = defaultdict(list)
        for s in reg.statistics.values():
            if not s.counts:
                continue
            if s.measure:
                if s.measure not in MEASURES:
                    raise ValueError(f"statistic {s.name}: unknown rollup measure {s.measure!r}")
                wide[s.counts].append(s)
            else:
                narrow[s.counts].append(s)
        plan = Plan(
            wide={k: tuple(v) for k, v in wide.items()},
            narrow={k: tuple(v) for k, v in narrow.items()},
            checks={s.name: predicate(effective_when(s)) for s in reg.statistics.values() if s.counts},
            status_of={ch: {st.key: st.status.value for st in p.states} for ch, p in reg.protocols.items()},
        )
        reg.extra["statistics.plan"] = plan
    return plan


def effective_when(s: StatisticDef) -> tuple[tuple[str, str, Any], ...]:
    """A channel's counter counts only that channel's cases; core counters count every case."""
    return s.when if s.channel == "core" else ((("channel", "=", s.channel),) + tuple(s.when))


def period_of(when: dt.datetime) -> int:
    """``YYYYMM`` of an instant, in China time."""
    local = when.astimezone(clock.TZ)
    return local.year * 100 + local.month


def _fen(amount: Any) -> int:
    if amount in (None, ""):
        return 0
    return int((Decimal(str(amount)) * 100).to_integral_value())


async def _case_row(case_id: int) -> dict[str, Any]:
    rows = await Rollup.raw(
        "SELECT c.id, c.room, COALESCE(r.organisation, 0) AS organisation, c.channel, c.kind, c.dispute_type, "
        "c.source, c.outcome, c.suggested_route, c.people_count, CAST(c.risk_flags AS TEXT) AS risk_flags, "
        "c.partner_id, COALESCE(c.mediator, 0) AS mediator, a.fulfilment "
        'FROM core_case c JOIN core_room r ON r.id = c.room LEFT JOIN core_agreement a ON a."case" = c.id '
        "WHERE c.id = {}",
        case_id,
    )
    return dict(rows[0])


def _value(s: StatisticDef, facts: dict[str, Any], amount_fen: int) -> int:
    if s.value == "people":
        return int(facts.get("people_count") or 0)
    if s.value == "amount":
        return amount_fen
    return 1


def _deltas(
    plan: Plan, triggers: Iterable[str], facts: dict[str, Any], amount_fen: int, sign: int = 1
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """(wide measures, mediator measures, indicators) to add for these triggers."""
    wide: dict[str, int] = defaultdict(int)
    med: dict[str, int] = defaultdict(int)
    narrow: dict[str, int] = defaultdict(int)
    for trig in triggers:
        for s in plan.wide.get(trig, ()):
            if plan.checks[s.name](facts) and (v := _value(s, facts, amount_fen)):
                wide[s.measure] += sign * v
                if trig in MED_TRIGGERS:
                    med[s.measure] += sign * v
        for s in plan.narrow.get(trig, ()):
            if plan.checks[s.name](facts) and (v := _value(s, facts, amount_fen)):
                narrow[s.name] += sign * v
    return wide, med, narrow


ALL_ORGS = -1
"""``organisation`` of the province-wide totals (``room`` 0)."""


def _levels(org: int, room: int) -> tuple[tuple[int, int], ...]:
    """(organisation, room) of the rows an event adds to: its room, its organisation, everything."""
    return ((org, room), (org, 0), (ALL_ORGS, 0))


async def _bump(period: int, row: dict[str, Any], wide: dict[str, int], med: dict[str, int],
                narrow: dict[str, int]) -> None:
    """Add the deltas at room level, to the organisation's and to the overall totals, and by mediator —
    one statement per table."""
    org, room, channel = int(row["organisation"]), int(row["room"]), row["channel"]
    keys: list[tuple[tuple[Any, ...], dict[str, int]]] = []
    if any(wide.values()):
        for o, r in _levels(org, room):
            keys.append(((period, o, r, channel, "ts", row["dispute_type"], row["source"]), wide))
            keys.append(((period, o, r, channel, "all", "", ""), wide))
    if any(med.values()):
        keys.append(((period, org, room, channel, "med", str(row["mediator"]), ""), med))
    if keys:
        cols = sorted({c for _, d in keys for c in d})
        values, params = [], []
        for key, d in keys:
            values.append("(" + ", ".join(["{}"] * (len(key) + len(cols))) + ")")
            params.extend([*key, *(d.get(c, 0) for c in cols)])
        await Rollup.raw(
            f"INSERT INTO stats_rollup (period, organisation, room, channel, dim, v1, v2, {', '.join(cols)}) "
            f"VALUES {', '.join(values)} ON CONFLICT {ROLLUP_KEY} DO UPDATE SET "
            + ", ".join(f"{c} = stats_rollup.{c} + excluded.{c}" for c in cols),
            *params,
        )
    items = [(name, v) for name, v in narrow.items() if v]
    if items:
        values, params = [], []
        for name, v in items:
            for o, r in _levels(org, room):
                values.append("({}, {}, {}, {}, {}, {})")
                params.extend([name, period, o, r, channel, v])
        await Rollup.raw(
            "INSERT INTO stats_indicator (statistic, period, organisation, room, channel, value) "
            f"VALUES {', '.join(values)} ON CONFLICT {INDICATOR_KEY} DO UPDATE SET "
            "value = stats_indicator.value + excluded.value",
            *params,
        )


async def on_registered(reg: Registry, case: dict[str, Any]) -> None:
    """Count a new case (inside the registration's transaction)."""
    plan = plan_for(reg)
    if "registered" not in plan.triggers:
        return
    row = await _case_row(case["id"])
    wide, med, narrow = _deltas(plan, ["registered"], case_facts(row), 0)
    await _bump(period_of(case["registered_at"]), row, wide, med, narrow)


async def on_transitioned(reg: Registry, event: dict[str, Any]) -> None:
    """Count a state change (inside the transition's transaction); record a conclusion."""
    plan = plan_for(reg)
    states = plan.status_of.get(event["channel"], {})
    before, after = states.get(event["from_state"]), event["status"]
    triggers = [f"event:{event['type']}"]
    if before != after:
        triggers.append(f"status:{after}")
    concludes = before != after and after in CONCLUDED
    if not concludes and not any(t in plan.triggers for t in triggers):
        return
    row = await _case_row(event["case_id"])
    created = await CaseEvent.select(CaseEvent.created_at).where(CaseEvent.id == event["event_id"]).first()
    period = period_of(created["created_at"] if created else clock.now())
    amount_fen = _fen(((event.get("data") or {}).get("agreement") or {}).get("amount")) if after == "settled" else 0
    # only the step into settled counts an already performed agreement (a later settled → settled
    # protocol step, e.g. reporting to the partner, must not count it again)
    performed = concludes and after == "settled" and row.get("fulfilment") == "performed"
    if performed:
        triggers.append("performed")
    facts = case_facts(row)
    wide, med, narrow = _deltas(plan, triggers, facts, amount_fen)
    await _bump(period, row, wide, med, narrow)
    if concludes:
        await Conclusion.insert(
            Conclusion(
                case=row["id"], period=period, organisation=row["organisation"], room=row["room"],
                channel=row["channel"], kind=row["kind"], dispute_type=row["dispute_type"], source=row["source"],
                mediator=row["mediator"], status=after, outcome=row["outcome"] or "", amount_fen=amount_fen,
                people_count=row["people_count"], risk_flags=row["risk_flags"] or "[]", performed=performed,
            )
        )


async def sync_performed(reg: Registry, case_id: int) -> int:
    """Bring the performed-agreement counters of one case in line with its agreement's fulfilment.

    Call it (inside the transaction) wherever an agreement's ``fulfilment`` changes; idempotent.
    Returns the change applied: +1, -1 or 0.
    """
    plan = plan_for(reg)
    concl = await Conclusion.select(Conclusion.id, Conclusion.period, Conclusion.performed).where(
        (Conclusion.case == case_id) & (Conclusion.status == "settled")
    ).first()
    if concl is None:
        return 0
    row = await _case_row(case_id)
    now = row.get("fulfilment") == "performed"
    if now == bool(concl["performed"]):
        return 0
    sign = 1 if now else -1
    await Conclusion.update({Conclusion.performed: now}).where(Conclusion.id == concl["id"])
    wide, med, narrow = _deltas(plan, ["performed"], case_facts(row), 0, sign)
    await _bump(int(concl["period"]), row, wide, med, narrow)
    return sign


# --- from scratch ---------------------------------------------------------------------------------


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _status_sql(plan: Plan, state_col: str) -> str:
    """SQL mapping ``(c.channel, state_col)`` to the core status."""
    branches = []
    for channel, states in sorted(plan.status_of.items()):
        inner = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in sorted(states.items()))
        branches.append(f"WHEN {_lit(channel)} THEN (CASE {state_col} {inner} END)")
    return f"(CASE c.channel {' '.join(branches)} END)" if branches else "NULL"


_OCC_COLUMNS = (
    "c.room, COALESCE(r.organisation, 0) AS organisation, COALESCE(c.mediator, 0) AS mediator, c.channel, c.kind, "
    "c.dispute_type, c.source, c.outcome, c.suggested_route, c.people_count, c.risk_flags, c.partner_id"
)


def _occurrences(plan: Plan, d: Dialect, triggers: set[str], *, conclusions_only: bool = False) -> str:
    """One row per counted event: its trigger, month, amount and the case's fields (aliased ``c``)."""
    parts = []
    statuses = sorted(t[7:] for t in triggers if t.startswith("status:"))
    if conclusions_only:
        statuses = [s for s in statuses if s in CONCLUDED]
        if statuses:
            parts.append(
                f"SELECT 'status:' || f.status AS trig, f.period AS period, f.amount_fen AS amount_fen, {_OCC_COLUMNS} "
                'FROM stats_conclusion f JOIN core_case c ON c.id = f."case" JOIN core_room r ON r.id = c.room '
                f"WHERE f.status IN ({', '.join(map(_lit, statuses))})"
            )
    else:
        if "registered" in triggers:
            parts.append(
                f"SELECT 'registered' AS trig, {d.period('c.registered_at')} AS period, 0 AS amount_fen, {_OCC_COLUMNS} "
                "FROM core_case c JOIN core_room r ON r.id = c.room"
            )
        if statuses:
            st, sf = _status_sql(plan, "e.to_state"), _status_sql(plan, "e.from_state")
            parts.append(
                f"SELECT 'status:' || {st} AS trig, {d.period('e.created_at')} AS period, "
                f"CASE WHEN {st} = 'settled' THEN COALESCE({d.fen('a.amount')}, 0) ELSE 0 END AS amount_fen, "
                f"{_OCC_COLUMNS} FROM core_case_event e JOIN core_case c ON c.id = e.\"case\" "
                'JOIN core_room r ON r.id = c.room LEFT JOIN core_agreement a ON a."case" = c.id '
                f"WHERE e.transition <> '' AND {st} <> {sf} AND {st} IN ({', '.join(map(_lit, statuses))})"
            )
        types = sorted(t[6:] for t in triggers if t.startswith("event:"))
        if types:
            parts.append(
                f"SELECT 'event:' || e.type AS trig, {d.period('e.created_at')} AS period, 0 AS amount_fen, "
                f"{_OCC_COLUMNS} FROM core_case_event e JOIN core_case c ON c.id = e.\"case\" "
                "JOIN core_room r ON r.id = c.room "
                f"WHERE e.transition <> '' AND e.type IN ({', '.join(map(_lit, types))})"
            )
    if "performed" in triggers:
        parts.append(
            f"SELECT 'performed' AS trig, f.period AS period, 0 AS amount_fen, {_OCC_COLUMNS} "
            'FROM stats_conclusion f JOIN core_case c ON c.id = f."case" JOIN core_room r ON r.id = c.room '
            "WHERE f.performed = TRUE"
        )
    return " UNION ALL ".join(parts)


def _term(s: StatisticDef, d: Dialect) -> str:
    """What one occurrence (aliased ``c``) adds to counter ``s``."""
    value = {"people": "c.people_count", "amount": "c.amount_fen"}.get(s.value, "1")
    return f"CASE WHEN c.trig = {_lit(s.counts)} AND {to_sql(effective_when(s), d)} THEN {value} ELSE 0 END"


def _sum_expr(defs: Iterable[StatisticDef], d: Dialect) -> str:
    terms = [_term(s, d) for s in defs]
    return "SUM(" + " + ".join(terms) + ")" if terms else "0"


def _indicator_columns(indicators: tuple[StatisticDef, ...], d: Dialect) -> tuple[list[str], list[str]]:
    """The indicator columns of ``stats_rebuild``: their ``SUM(…) AS name`` and, per indicator, the name.

    A channel's indicator counts only that channel's cases (:func:`effective_when`), and
    ``stats_rebuild`` groups by channel: in any of its rows only the indicators of the row's channel
    can be non-zero. So the k-th indicators of all channels share one column, ``j_k`` — a ``CASE
    c.channel`` picks the channel's own — and the GROUP BY keeps ~10 sums per row instead of ~60
    (SQLite spends most of that statement calling the aggregate step of every column for every
    occurrence). Core indicators (every channel) keep a column each. Read ``j_k`` only for rows of
    the indicator's channel.
    """
    cols: list[str] = []
    name_of: list[str] = []
    per_channel: dict[str, list[StatisticDef]] = defaultdict(list)
    for i, s in enumerate(indicators):
        if s.channel == "core":
            cols.append(f"SUM({_term(s, d)}) AS i_{i}")
            name_of.append(f"i_{i}")
        else:
            name_of.append(f"j_{len(per_channel[s.channel])}")
            per_channel[s.channel].append(s)
    for k in range(max((len(v) for v in per_channel.values()), default=0)):
        branches = " ".join(f"WHEN {_lit(ch)} THEN ({_term(defs[k], d)})"
                            for ch, defs in sorted(per_channel.items()) if k < len(defs))
        cols.append(f"SUM(CASE c.channel {branches} ELSE 0 END) AS j_{k}")
    return cols, name_of


async def _run(sql: str) -> None:
    await Rollup.raw(sql)


async def _drop_secondary_indexes(d: Dialect, tables: tuple[str, ...]) -> list[str]:
    """SQLite: drop the tables' non-unique indexes (inside the rebuild's transaction); returns their
    ``CREATE INDEX`` statements, to run once the tables are filled.

    Rows arrive grouped by statistic or by case, so an index on another key (the conclusions'
    period, …) would take a random B-tree descent per row; building it at the end is one sort. The
    definitions are read from ``sqlite_master``, so any index a migration adds is put back exactly;
    unique indexes stay (they are the tables' keys). A failed rebuild rolls the drop back with it.
    PostgreSQL keeps its indexes.
    """
    if not d.sqlite:
        return []
    rows = await Rollup.raw(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ("
        + ", ".join(_lit(t) for t in tables) + ")"
    )
    deferred = []
    for row in rows:
        if not row["sql"].lstrip().upper().startswith("CREATE UNIQUE"):
            await _run(f'DROP INDEX "{row["name"]}"')
            deferred.append(row["sql"])
    return deferred


async def rebuild_rollups(reg: Registry) -> dict[str, int]:
    """Recompute every rollup from the case tables with SQL ``GROUP BY`` (one transaction).

    Used after a bulk load (``fengqiao seed``) and by the tests, which hold the incremental rollups
    equal to it. Returns the row counts written.
    """
    plan, d = plan_for(reg), current()
    measures = {m: [s for defs in plan.wide.values() for s in defs if s.measure == m] for m in MEASURES}
    measures = {m: defs for m, defs in measures.items() if defs}
    indicators = plan.indicators
    async with write_transaction():
        for table in ("stats_rollup", "stats_indicator", "stats_conclusion"):
            await _run(f"DELETE FROM {table}")
        deferred = await _drop_secondary_indexes(d, ("stats_rollup", "stats_indicator", "stats_conclusion"))
        st, sf = _status_sql(plan, "e.to_state"), _status_sql(plan, "e.from_state")
        if plan.status_of:
            await _run(
                'INSERT INTO stats_conclusion ("case", period, organisation, room, channel, kind, dispute_type, '
                "source, mediator, status, outcome, amount_fen, people_count, risk_flags, performed) "
                f"SELECT c.id, {d.period('e.created_at')}, COALESCE(r.organisation, 0), c.room, c.channel, c.kind, "
                f"c.dispute_type, c.source, COALESCE(c.mediator, 0), {st}, c.outcome, "
                f"CASE WHEN {st} = 'settled' THEN COALESCE({d.fen('a.amount')}, 0) ELSE 0 END, c.people_count, "
                f"CAST(c.risk_flags AS TEXT), CASE WHEN {st} = 'settled' AND a.fulfilment = 'performed' "
                "THEN TRUE ELSE FALSE END "
                'FROM core_case_event e JOIN core_case c ON c.id = e."case" JOIN core_room r ON r.id = c.room '
                'LEFT JOIN core_agreement a ON a."case" = c.id '
                f"WHERE e.transition <> '' AND {st} <> {sf} AND {st} IN ({', '.join(map(_lit, CONCLUDED))})"
            )
        occ = _occurrences(plan, d, plan.triggers)
        if occ:
            cols = [f"{_sum_expr(defs, d)} AS m_{m}" for m, defs in measures.items()]
            indicator_cols, indicator_col = _indicator_columns(indicators, d)
            cols += indicator_cols
            await _run("DROP TABLE IF EXISTS stats_rebuild")
            await _run(
                "CREATE TEMP TABLE stats_rebuild AS SELECT c.period AS period, c.organisation AS organisation, "
                "c.room AS room, c.channel AS channel, c.dispute_type AS v1, c.source AS v2, "
                f"{', '.join(cols) or '0 AS nothing'} FROM ({occ}) c "
                "GROUP BY c.period, c.organisation, c.room, c.channel, c.dispute_type, c.source"
            )
            if measures:
                names = list(measures)
                nonzero = " OR ".join(f"g.{m} <> 0" for m in names)
                sums = ", ".join(f"SUM(m_{m}) AS {m}" for m in names)
                for dim, v1, v2 in (("ts", "v1", "v2"), ("all", "''", "''")):
                    for org_expr, room_expr, group in (
                            ("organisation", "room", "period, organisation, room, channel"),
                            ("organisation", "0", "period, organisation, channel"),
                            (str(ALL_ORGS), "0", "period, channel")):
                        grp = f"{group}, v1, v2" if dim == "ts" else group
                        await _run(
                            f"INSERT INTO stats_rollup (period, organisation, room, channel, dim, v1, v2, "
                            f"{', '.join(names)}) SELECT * FROM (SELECT period, {org_expr} AS organisation, "
                            f"{room_expr} AS room, channel, '{dim}' AS dim, {v1} AS v1, {v2} AS v2, {sums} "
                            f"FROM stats_rebuild GROUP BY {grp}) g WHERE {nonzero}"
                        )
            if indicators:
                # Every indicator needs three GROUP BYs (room, organisation, everything). Run over
                # stats_rebuild (one row per month, room, channel, dispute type and source: ~0.7 M rows
                # at 1 M cases) that is 3 scans per indicator, ~180 scans in all — a third of the
                # rebuild. The indicators do not depend on dispute type and source, so they are summed
                # once, in one pass, to room level (~20 k rows); the three levels are grouped from that
                # small table. Integer sums of sums: the same numbers.
                await _run("DROP TABLE IF EXISTS stats_rebuild_room")
                await _run(
                    "CREATE TEMP TABLE stats_rebuild_room AS SELECT period, organisation, room, channel, "
                    + ", ".join(f"SUM({c}) AS {c}" for c in dict.fromkeys(indicator_col))
                    + " FROM stats_rebuild GROUP BY period, organisation, room, channel"
                )
                for i, s in enumerate(indicators):
                    # a shared j_k column holds this indicator only in rows of its channel
                    where = "" if s.channel == "core" else f"WHERE channel = {_lit(s.channel)} "
                    for org_expr, room_expr, group in (("organisation", "room", "period, organisation, room, channel"),
                                                       ("organisation", "0", "period, organisation, channel"),
                                                       (str(ALL_ORGS), "0", "period, channel")):
                        await _run(
                            "INSERT INTO stats_indicator (statistic, period, organisation, room, channel, value) "
                            f"SELECT * FROM (SELECT {_lit(s.name)} AS statistic, period, {org_expr} AS organisation, "
                            f"{room_expr} AS room, channel, SUM({indicator_col[i]}) AS value FROM stats_rebuild_room "
                            f"{where}GROUP BY {group}) g WHERE g.value <> 0"
                        )
                await _run("DROP TABLE IF EXISTS stats_rebuild_room")
            await _run("DROP TABLE IF EXISTS stats_rebuild")
        med_triggers = plan.triggers & MED_TRIGGERS
        med_occ = _occurrences(plan, d, med_triggers, conclusions_only=True)
        med_measures = {m: [s for s in defs if s.counts in MED_TRIGGERS] for m, defs in measures.items()}
        med_measures = {m: defs for m, defs in med_measures.items() if defs}
        if med_occ and med_measures:
            names = list(med_measures)
            await _run(
                f"INSERT INTO stats_rollup (period, organisation, room, channel, dim, v1, v2, {', '.join(names)}) "
                "SELECT * FROM (SELECT c.period, c.organisation, c.room, c.channel, 'med' AS dim, "
                "CAST(c.mediator AS VARCHAR(64)) AS v1, '' AS v2, "
                + ", ".join(f"{_sum_expr(defs, d)} AS {m}" for m, defs in med_measures.items())
                + f" FROM ({med_occ}) c GROUP BY c.period, c.organisation, c.room, c.channel, c.mediator) g "
                f"WHERE {' OR '.join(f'g.{m} <> 0' for m in names)}"
            )
        for sql in deferred:
            await _run(sql)
        counts = {}
        for table in ("stats_rollup", "stats_indicator", "stats_conclusion"):
            rows = await Rollup.raw(f"SELECT COUNT(*) AS n FROM {table}")
            counts[table] = int(rows[0]["n"])
    return counts
