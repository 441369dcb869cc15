"""The subsidy engine (案件补贴、值班补贴): rules are deployment settings, evaluated in SQL.

Rules come from the ``[subsidies]`` section of the settings (README "Statistics" documents it)::

    [subsidies]
    exclude_public_employees = true     # 公职人员不领取案件补贴 (default true)
    duty_day_rate = 200                 # 值班补贴, yuan per mediator per duty day (default 0)
    monthly_cap = 0                     # cap on one mediator's case subsidies per month, yuan (0 = none)

    [subsidies.grades.major]            # a case is "major" when any criterion holds, else "general"
    flags_any = ["group_dispute", "petition_risk"]
    people_count_ge = 10

    [[subsidies.rules]]                 # the first rule that matches a concluded case pays it
    label = "访调对接重大案件"
    channels = ["petition"]
    grades = ["major"]
    outcomes = ["settled"]
    amount = 20000

    [[subsidies.rules]]
    label = "一般案件"
    outcomes = ["settled"]
    bands = [{ up_to = 10000, amount = 100 }, { up_to = 100000, amount = 500 }, { amount = 1000 }]
    cap = 2000

A rule matches on ``channels``, ``dispute_types`` (a code covers its sub-codes), ``grades`` and
``outcomes`` (``settled``, ``not_settled``, ``withdrawn``, ``declined``; default ``settled``); it pays
``amount`` or the first band whose ``up_to`` is not exceeded by ``band_on`` (``amount``, the agreement
amount in yuan, or ``people_count``), limited by ``cap``. Cases count in the month they concluded
(``stats_conclusion``), for the case's mediator; public employees (``core_mediator_profile``) get no case
subsidy; cases without a mediator pay nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core import clock
from core.access import UserCtx
from core.db import write_transaction
from core.statistics.definitions import CONCLUDED
from core.statistics.dialect import Dialect, current
from core.statistics.queries import Scope
from core.statistics.tables import DutyDay, Rollup
from core.tables import Room, User

__all__ = [
    "SubsidyError",
    "Band",
    "Rule",
    "SubsidyRules",
    "SubsidyLine",
    "load_rules",
    "subsidy_report",
    "record_duty_day",
    "set_public_employee",
]


class SubsidyError(ValueError):
    """A malformed ``[subsidies]`` section or a refused subsidy action; the message says which."""


@dataclass(frozen=True)
class Band:
    up_to: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class Rule:
    label: str
    channels: tuple[str, ...] = ()
    dispute_types: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ("settled",)
    amount: Decimal | None = None
    bands: tuple[Band, ...] = ()
    band_on: str = "amount"
    cap: Decimal | None = None


@dataclass(frozen=True)
class SubsidyRules:
    rules: tuple[Rule, ...] = ()
    grades: dict[str, dict[str, Any]] = field(default_factory=dict)
    exclude_public_employees: bool = True
    exclude_public_employees_from_duty: bool = False
    duty_day_rate: Decimal = Decimal(0)
    monthly_cap: Decimal = Decimal(0)

    @property
    def configured(self) -> bool:
        return bool(self.rules) or self.duty_day_rate > 0


def _money(value: Any, where: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unparsable value
        raise SubsidyError(f"{where} must be a number of yuan, got {value!r}") from None
    if not d.is_finite() or d < 0:
        raise SubsidyError(f"{where} must be a non-negative number of yuan, got {value!r}")
    return d


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SubsidyError(f"{where} must be a list of strings")


def load_rules(section: dict[str, Any] | None) -> SubsidyRules:
    """Parse ``settings.raw["subsidies"]``.

    Raises:
        SubsidyError: naming the offending key.
    """
    section = section or {}
    if not isinstance(section, dict):
        raise SubsidyError("[subsidies] must be a table")
    rules = []
    for i, raw in enumerate(section.get("rules", []), start=1):
        where = f"[[subsidies.rules]] #{i}"
        if not isinstance(raw, dict):
            raise SubsidyError(f"{where} must be a table")
        unknown = set(raw) - {"label", "channels", "dispute_types", "grades", "outcomes", "amount", "bands",
                              "band_on", "cap"}
        if unknown:
            raise SubsidyError(f"{where}: unknown keys {sorted(unknown)}")
        outcomes = _strings(raw.get("outcomes", ["settled"]), f"{where}.outcomes")
        if set(outcomes) - set(CONCLUDED):
            raise SubsidyError(f"{where}.outcomes must be among {list(CONCLUDED)}")
        if ("amount" in raw) == ("bands" in raw):
            raise SubsidyError(f"{where} needs exactly one of amount or bands")
        bands = []
        for k, b in enumerate(raw.get("bands", []), start=1):
            if not isinstance(b, dict) or "amount" not in b:
                raise SubsidyError(f"{where}.bands #{k} needs an amount")
            bands.append(Band(up_to=_money(b["up_to"], f"{where}.bands #{k}.up_to") if "up_to" in b else None,
                              amount=_money(b["amount"], f"{where}.bands #{k}.amount")))
        if bands and any(b.up_to is None for b in bands[:-1]):
            raise SubsidyError(f"{where}.bands: only the last band may omit up_to")
        band_on = raw.get("band_on", "amount")
        if band_on not in {"amount", "people_count"}:
            raise SubsidyError(f"{where}.band_on must be amount or people_count")
        rules.append(Rule(
            label=str(raw.get("label", f"规则{i}")),
            channels=_strings(raw.get("channels", []), f"{where}.channels"),
            dispute_types=_strings(raw.get("dispute_types", []), f"{where}.dispute_types"),
            grades=_strings(raw.get("grades", []), f"{where}.grades"),
            outcomes=outcomes,
            amount=_money(raw["amount"], f"{where}.amount") if "amount" in raw else None,
            bands=tuple(bands),
            band_on=band_on,
            cap=_money(raw["cap"], f"{where}.cap") if "cap" in raw else None,
        ))
    grades = section.get("grades", {})
    if not isinstance(grades, dict) or not all(isinstance(v, dict) for v in grades.values()):
        raise SubsidyError("[subsidies.grades.<grade>] must be tables")
    for name, crit in grades.items():
        unknown = set(crit) - {"flags_any", "people_count_ge", "amount_ge"}
        if unknown or not crit:
            raise SubsidyError(f"[subsidies.grades.{name}] takes flags_any, people_count_ge, amount_ge")
    return SubsidyRules(
        rules=tuple(rules),
        grades=grades,
        exclude_public_employees=bool(section.get("exclude_public_employees", True)),
        exclude_public_employees_from_duty=bool(section.get("exclude_public_employees_from_duty", False)),
        duty_day_rate=_money(section.get("duty_day_rate", 0), "subsidies.duty_day_rate"),
        monthly_cap=_money(section.get("monthly_cap", 0), "subsidies.monthly_cap"),
    )


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fen(yuan: Decimal) -> str:
    return str(int(yuan * 100))


def grade_sql(rules: SubsidyRules, d: Dialect) -> str:
    """The case grade of a ``stats_conclusion`` row ``f``."""
    branches = []
    for name, crit in rules.grades.items():
        ors = [d.contains("f.risk_flags", _q(f'"{flag}"')) for flag in crit.get("flags_any", [])]
        if "people_count_ge" in crit:
            ors.append(f"f.people_count >= {int(crit['people_count_ge'])}")
        if "amount_ge" in crit:
            ors.append(f"f.amount_fen >= {_fen(_money(crit['amount_ge'], name))}")
        branches.append(f"WHEN {' OR '.join(ors)} THEN {_q(name)}")
    return f"(CASE {' '.join(branches)} ELSE 'general' END)" if branches else "'general'"


def case_subsidy_sql(rules: SubsidyRules, d: Dialect) -> str:
    """A concluded case's subsidy in fen, before exclusions and monthly caps."""
    grade = grade_sql(rules, d)
    whens = []
    for r in rules.rules:
        conds = [f"f.status IN ({', '.join(map(_q, r.outcomes))})"]
        if r.channels:
            conds.append(f"f.channel IN ({', '.join(map(_q, r.channels))})")
        if r.dispute_types:
            conds.append("(" + " OR ".join(
                f"f.dispute_type = {_q(t)} OR substr(f.dispute_type, 1, {len(t) + 1}) = {_q(t + '.')}"
                for t in r.dispute_types) + ")")
        if r.grades:
            conds.append(f"{grade} IN ({', '.join(map(_q, r.grades))})")
        if r.amount is not None:
            amount = _fen(r.amount)
        else:
            key = "f.amount_fen" if r.band_on == "amount" else "f.people_count"
            scale = (lambda v: _fen(v)) if r.band_on == "amount" else (lambda v: str(int(v)))
            parts = [f"WHEN {key} <= {scale(b.up_to)} THEN {_fen(b.amount)}" for b in r.bands if b.up_to is not None]
            tail = next((b for b in r.bands if b.up_to is None), None)
            amount = f"(CASE {' '.join(parts)} ELSE {_fen(tail.amount) if tail else '0'} END)"
        if r.cap is not None:
            amount = f"(CASE WHEN {amount} > {_fen(r.cap)} THEN {_fen(r.cap)} ELSE {amount} END)"
        whens.append(f"WHEN {' AND '.join(conds)} THEN {amount}")
    return f"(CASE {' '.join(whens)} ELSE 0 END)" if whens else "0"


@dataclass(frozen=True)
class SubsidyLine:
    mediator: int
    name: str
    room: str
    public_employee: bool
    concluded: int
    settled: int
    case_subsidy: Decimal
    capped: bool
    duty_days: int
    duty_subsidy: Decimal
    note: str = ""

    @property
    def total(self) -> Decimal:
        return self.case_subsidy + self.duty_subsidy


def _scope_sql(scope: Scope, alias: str, *, room_col: str = "room", org_col: str | None = "organisation") -> str:
    if scope.level == "room":
        return f"{alias}.{room_col} = {int(scope.room or 0)}"
    if scope.level == "all":
        return "1 = 1"
    if scope.level == "org":
        if org_col:
            return f"{alias}.{org_col} = {int(scope.organisation)}"
        return f"{alias}.{room_col} IN (SELECT id FROM core_room WHERE organisation = {int(scope.organisation)})"
    return "1 = 0"


def _month_bounds(period_from: int, period_to: int) -> tuple[dt.date, dt.date]:
    first = dt.date(period_from // 100, period_from % 100, 1)
    y, m = period_to // 100, period_to % 100
    last = dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
    return first, last


async def subsidy_report(rules: SubsidyRules, scope: Scope) -> list[SubsidyLine]:
    """Subsidies per mediator for the scope's period: case subsidies from the cases they concluded in
    it (monthly caps per mediator applied month by month), plus duty days × the daily rate."""
    f, d = scope.filters, current()
    assert f is not None
    expr = case_subsidy_sql(rules, d)
    public = "COALESCE(p.public_employee, FALSE)"
    paid = f"CASE WHEN f.mediator = 0 THEN 0 WHEN {public} THEN 0 ELSE {expr} END" \
        if rules.exclude_public_employees else f"CASE WHEN f.mediator = 0 THEN 0 ELSE {expr} END"
    cap = _fen(rules.monthly_cap)
    channel = f" AND f.channel = {_q(f.channel)}" if f.channel else ""
    rows = await Rollup.raw(
        "SELECT t.mediator, t.room, SUM(t.concluded) AS concluded, SUM(t.settled) AS settled, "
        f"SUM(CASE WHEN {cap} > 0 AND t.paid > {cap} THEN {cap} ELSE t.paid END) AS paid, "
        f"SUM(CASE WHEN {cap} > 0 AND t.paid > {cap} THEN 1 ELSE 0 END) AS capped "
        "FROM (SELECT f.mediator, f.room, f.period, COUNT(*) AS concluded, "
        "SUM(CASE WHEN f.status = 'settled' THEN 1 ELSE 0 END) AS settled, "
        f"SUM({paid}) AS paid "
        'FROM stats_conclusion f LEFT JOIN core_mediator_profile p ON p."user" = f.mediator '
        f"WHERE f.period >= {{}} AND f.period <= {{}} AND {_scope_sql(scope, 'f')}{channel} "
        "GROUP BY f.mediator, f.room, f.period) t GROUP BY t.mediator, t.room",
        f.period_from, f.period_to,
    )
    first, last = _month_bounds(f.period_from, f.period_to)
    duty = await Rollup.raw(
        'SELECT d."user" AS mediator, COALESCE(d.room, 0) AS room, COUNT(*) AS days FROM stats_duty_day d '
        f"WHERE d.day >= {{}} AND d.day <= {{}} AND {_scope_sql(scope, 'd', org_col=None)} "
        'GROUP BY d."user", d.room',
        first, last,
    )
    lines: dict[tuple[int, int], dict[str, Any]] = {}
    for r in rows:
        lines[(int(r["mediator"]), int(r["room"]))] = {"concluded": int(r["concluded"]), "settled": int(r["settled"]),
                                                       "paid": int(r["paid"] or 0), "capped": int(r["capped"] or 0),
                                                       "days": 0}
    for r in duty:
        key = (int(r["mediator"]), int(r["room"]))
        lines.setdefault(key, {"concluded": 0, "settled": 0, "paid": 0, "capped": 0, "days": 0})["days"] += int(
            r["days"])
    ids = sorted({m for m, _ in lines if m}) or [-1]
    users = {u["id"]: u for u in await User.select(User.id, User.display_name).where(User.id.is_in(ids))}
    rooms = {r["id"]: r["name"] for r in await Room.select(Room.id, Room.name).where(
        Room.id.is_in(sorted({r for _, r in lines}) or [-1]))}
    from core.tables import MediatorProfile

    publics = {p["user"] for p in await MediatorProfile.select(MediatorProfile.user).where(
        MediatorProfile.user.is_in(ids), MediatorProfile.public_employee == True)}  # noqa: E712
    out = []
    for (mediator, room), v in lines.items():
        is_public = mediator in publics
        duty_paid = 0 if (is_public and rules.exclude_public_employees_from_duty) else v["days"]
        note = ""
        if not mediator:
            note = "未指派调解员的案件不计补贴"
        elif is_public and rules.exclude_public_employees:
            note = "公职人员，不领取案件补贴"
        elif v["capped"]:
            note = f"{v['capped']} 个月达到月度上限"
        out.append(SubsidyLine(
            mediator=mediator,
            name=users.get(mediator, {}).get("display_name", "") if mediator else "（未指派）",
            room=rooms.get(room, ""),
            public_employee=is_public,
            concluded=v["concluded"],
            settled=v["settled"],
            case_subsidy=(Decimal(v["paid"]) / 100).quantize(Decimal("0.01")),
            capped=bool(v["capped"]),
            duty_days=v["days"],
            duty_subsidy=(rules.duty_day_rate * duty_paid).quantize(Decimal("0.01")),
            note=note,
        ))
    out.sort(key=lambda x: (-x.total, x.room, x.name))
    return out


async def record_duty_day(actor: UserCtx, mediator_id: int, day: dt.date, note: str = "") -> None:
    """Record a duty day (idempotent per mediator and day); supervisors and admins, within scope."""
    from core.access import room_scope

    if actor.role not in {"supervisor", "admin"}:
        raise SubsidyError("只有督导或管理员可以登记值班")
    user = await User.select(User.id, User.room, User.role).where(User.id == mediator_id).first()
    visible = {r["id"] for r in await Room.select(Room.id).where(room_scope(actor))}
    if user is None or user["role"] != "mediator" or user["room"] not in visible:
        raise SubsidyError("调解员不存在或不在您的管辖范围内")
    async with write_transaction():
        await DutyDay.insert(DutyDay(user=mediator_id, room=user["room"], day=day, note=note[:200],
                                     recorded_by=actor.id, created_at=clock.now())
                             ).on_conflict(target=(DutyDay.user, DutyDay.day), action="DO NOTHING")


async def set_public_employee(actor: UserCtx, mediator_id: int, value: bool) -> None:
    """Set a mediator's public-employee flag in the core mediator profile (creating the profile)."""
    from core.access import room_scope
    from core.tables import MediatorProfile

    if actor.role not in {"supervisor", "admin"}:
        raise SubsidyError("只有督导或管理员可以修改")
    user = await User.select(User.id, User.room, User.role).where(User.id == mediator_id).first()
    visible = {r["id"] for r in await Room.select(Room.id).where(room_scope(actor))}
    if user is None or user["role"] != "mediator" or user["room"] not in visible:
        raise SubsidyError("调解员不存在或不在您的管辖范围内")
    async with write_transaction():
        if await MediatorProfile.exists().where(MediatorProfile.user == mediator_id):
            await MediatorProfile.update({MediatorProfile.public_employee: value,
                                          MediatorProfile.updated_at: clock.now()}).where(
                MediatorProfile.user == mediator_id)
        else:
            await MediatorProfile.insert(MediatorProfile(user=mediator_id, public_employee=value,
                                                         updated_at=clock.now()))
