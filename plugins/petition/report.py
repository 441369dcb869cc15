"""The petition channel's subsidy report (个案补贴) and statistics, on top of the core engines.

Subsidies: the rules are the deployment's ``[subsidies]`` settings, evaluated by the core subsidy engine
(``core.statistics.subsidies``): the grade (``grade_sql``), the per-case amount (``case_subsidy_sql``) and
which rule (band) paid it, over the core's record of concluded cases (``stats_conclusion``). What is
petition-specific is who receives and who pays:

- the amount of a case is the dedicated team's package (经费包干, one case one team); it is split evenly
  among the team's members and the shares of public employees (公职人员) are withheld — they receive no
  case subsidy;
- the payer is the unit that caused the petition, recorded at entrustment; where no unit is responsible
  (or it cannot pay) the same-level treasury (同级财政) pays;
- duty days (值班补贴) come from the core duty-day records at the deployment's daily rate, paid by the
  same-level treasury.

Statistics: the channel's counters (``plugins.petition.statistics``) from the rollups, the intake trend
per month, plus a few live counts from the channel's own tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.access import UserCtx, case_scope
from core.statistics.dialect import current
from core.statistics.queries import Scope, StatsFilters, load_stats, month_range, resolve_scope
from core.statistics.subsidies import SubsidyRules, case_subsidy_sql, grade_sql, load_rules, subsidy_report
from core.tables import Case, CaseEvent, MediatorProfile

from plugins.petition.tables import PetitionFile, TeamMember, WorkRecord

__all__ = ["TREASURY", "CaseLine", "DutyLine", "SubsidyReport", "petition_subsidies", "report_rows",
           "REPORT_HEADERS", "petition_statistics"]

TREASURY = "同级财政"
GRADE_LABELS = {"general": "一般案件", "major": "重大疑难复杂"}
OUTCOME_LABELS = {"settled": "调解成功", "not_settled": "引导诉讼仲裁复议/调解不成", "withdrawn": "撤回",
                  "declined": "不予受理"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CaseLine:
    period: int
    team: str
    case_number: str
    grade: str
    outcome: str
    band: str
    package: Decimal
    members: int
    eligible: int
    paid: Decimal
    share: Decimal
    payer: str


@dataclass(frozen=True)
class DutyLine:
    name: str
    room: str
    days: int
    amount: Decimal
    payer: str = TREASURY


@dataclass
class SubsidyReport:
    scope: Scope
    cases: list[CaseLine] = field(default_factory=list)
    duty: list[DutyLine] = field(default_factory=list)
    configured: bool = True

    @property
    def by_payer(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for c in self.cases:
            out[c.payer] = out.get(c.payer, Decimal(0)) + c.paid
        for d in self.duty:
            out[d.payer] = out.get(d.payer, Decimal(0)) + d.amount
        return dict(sorted(out.items(), key=lambda kv: (kv[0] == TREASURY, kv[0])))

    @property
    def total(self) -> Decimal:
        return sum((c.paid for c in self.cases), Decimal(0)) + sum((d.amount for d in self.duty), Decimal(0))


def _rule_number_sql(rules: SubsidyRules) -> str:
    """1-based number of the first rule that pays a case (0: none), by asking the core engine, one rule at a
    time, whether that rule alone would pay a cent."""
    d = current()
    whens = []
    for i, rule in enumerate(rules.rules, start=1):
        probe = dataclasses.replace(rule, amount=CENT, bands=(), cap=None)
        one = SubsidyRules(rules=(probe,), grades=rules.grades)
        whens.append(f"WHEN {case_subsidy_sql(one, d)} > 0 THEN {i}")
    return f"(CASE {' '.join(whens)} ELSE 0 END)" if whens else "0"


def _scope_where(scope: Scope) -> str:
    if scope.level == "room":
        return f"f.room = {int(scope.room or 0)}"
    if scope.level == "org":
        return f"f.organisation = {int(scope.organisation or 0)}"
    return "1 = 1" if scope.level == "all" else "1 = 0"


async def petition_subsidies(settings: Any, user: UserCtx, period_from: int, period_to: int) -> SubsidyReport:
    """Case subsidies per period and team, and duty-day subsidies, for what ``user`` may see."""
    rules = load_rules(settings.raw.get("subsidies"))
    scope = await resolve_scope(user, StatsFilters(period_from, period_to, channel="petition"))
    report = SubsidyReport(scope=scope, configured=rules.configured)
    d = current()
    rows = await PetitionFile.raw(
        f"SELECT f.\"case\" AS case_id, f.period, f.status, {case_subsidy_sql(rules, d)} AS fen, "
        f"{_rule_number_sql(rules)} AS rule_no, {grade_sql(rules, d)} AS grade, p.id AS file_id, "
        "p.number AS team, p.payer, p.grade AS own_grade, c.number AS case_number "
        "FROM stats_conclusion f JOIN petition_file p ON p.\"case\" = f.\"case\" "
        "JOIN core_case c ON c.id = f.\"case\" "
        f"WHERE f.channel = 'petition' AND f.period >= {{}} AND f.period <= {{}} AND {_scope_where(scope)} "
        "ORDER BY f.period, c.number",
        period_from, period_to,
    )
    file_ids = [r["file_id"] for r in rows] or [-1]
    members = await TeamMember.select(TeamMember.file, TeamMember.user, TeamMember.public_employee).where(
        TeamMember.file.is_in(file_ids))
    users = sorted({m["user"] for m in members if m["user"]}) or [-1]
    public_users = {p["user"] for p in await MediatorProfile.select(MediatorProfile.user).where(
        MediatorProfile.user.is_in(users), MediatorProfile.public_employee == True)}  # noqa: E712
    for r in rows:
        team = [m for m in members if m["file"] == r["file_id"]]
        eligible = sum(1 for m in team if not (m["public_employee"] or m["user"] in public_users))
        package = (Decimal(int(r["fen"] or 0)) / 100).quantize(CENT)
        share = (package / len(team)).quantize(CENT, ROUND_HALF_UP) if team else Decimal(0)
        paid = (package * eligible / len(team)).quantize(CENT, ROUND_HALF_UP) if team else Decimal(0)
        rule_no = int(r["rule_no"] or 0)
        report.cases.append(CaseLine(
            period=int(r["period"]), team=r["team"] or "", case_number=r["case_number"],
            grade=r["grade"], outcome=r["status"],
            band=rules.rules[rule_no - 1].label if rule_no else "（无适用规则）",
            package=package, members=len(team), eligible=eligible, paid=paid, share=share,
            payer=r["payer"] or TREASURY,
        ))
    if rules.duty_day_rate > 0:
        for line in await subsidy_report(rules, scope):
            if line.duty_days:
                report.duty.append(DutyLine(name=line.name, room=line.room, days=line.duty_days,
                                            amount=line.duty_subsidy))
    return report


REPORT_HEADERS = ["月份", "专调小组编号", "案件编号", "案件等级", "办理结果", "补贴规则（档次）", "包干金额（元）",
                  "小组人数", "可领取人数", "实发金额（元）", "每人份额（元）", "承担单位"]


def report_rows(report: SubsidyReport) -> list[list[Any]]:
    """The report as table rows (case lines, duty lines, totals per payer) for the exports."""
    rows: list[list[Any]] = []
    for c in report.cases:
        rows.append([f"{c.period // 100}-{c.period % 100:02d}", c.team, c.case_number, GRADE_LABELS.get(c.grade, c.grade),
                     OUTCOME_LABELS.get(c.outcome, c.outcome), c.band, c.package, c.members, c.eligible, c.paid,
                     c.share, c.payer])
    for dl in report.duty:
        rows.append(["", "值班补贴", f"{dl.name}（{dl.room}）", "", f"值班 {dl.days} 天", "值班补贴", dl.amount,
                     1, 1, dl.amount, dl.amount, dl.payer])
    for payer, amount in report.by_payer.items():
        rows.append(["合计", "", "", "", "", "", None, None, None, amount, None, payer])
    return rows


# -------------------------------------------------------------------------------------------- statistics


def _bounds(period_from: int, period_to: int) -> tuple[dt.datetime, dt.datetime]:
    from core import clock

    first = dt.datetime(period_from // 100, period_from % 100, 1, tzinfo=clock.TZ)
    y, m = period_to // 100, period_to % 100
    last = dt.datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=clock.TZ)
    return first, last


async def petition_statistics(reg: Any, user: UserCtx, period_from: int, period_to: int) -> dict[str, Any]:
    """The channel's indicators, the monthly intake trend and live counts from the channel's tables."""
    scope = await resolve_scope(user, StatsFilters(period_from, period_to, channel="petition"))
    stats = {k: s for k, s in reg.statistics.items() if s.channel == "petition"}
    data = await load_stats(scope, stats, breakdowns=False)
    values: dict[str, Any] = {}
    for name, s in sorted(stats.items(), key=lambda kv: kv[1].order):
        if s.ratio:
            continue
        values[name] = int(data.indicators.get(name, 0))
    for name, s in stats.items():
        if s.ratio:
            num, den = values.get(s.ratio[0], 0), values.get(s.ratio[1], 0)
            values[name] = None if not den else round(Decimal(num) * 100 / Decimal(den), 1)
    trend = [(p, int(data.trend.get(p, {}).get("registered", 0))) for p in month_range(period_from, period_to)]
    first, last = _bounds(period_from, period_to)
    visible = Case.select(Case.id).where(case_scope(user), Case.channel == "petition")
    if scope.level == "room":
        visible = visible.where(Case.room == scope.room)
    ids = [r["id"] for r in await visible] or [-1]
    events = await CaseEvent.select(CaseEvent.transition, CaseEvent.data).where(
        CaseEvent.case.is_in(ids), CaseEvent.transition.is_in(["guide", "resolve"]),
        CaseEvent.created_at >= first, CaseEvent.created_at < last).output(load_json=True)
    records = await WorkRecord.select(WorkRecord.kind).where(
        WorkRecord.case.is_in(ids), WorkRecord.kind.is_in(["consultation", "appraisal_request"]),
        WorkRecord.created_at >= first, WorkRecord.created_at < last)
    majors = await PetitionFile.count().where(PetitionFile.case.is_in(ids), PetitionFile.grade == "major",
                                              PetitionFile.created_at >= first, PetitionFile.created_at < last)
    live = {
        "major_accepted": majors,
        "consultations": sum(1 for r in records if r["kind"] == "consultation"),
        "appraisals": sum(1 for r in records if r["kind"] == "appraisal_request"),
        "legal_aid_referrals": sum(1 for e in events if e["transition"] == "guide" and (e["data"] or {}).get("legal_aid")),
        "notarisations": sum(1 for e in events if e["transition"] == "resolve"
                             and (e["data"] or {}).get("enforceable_notarisation")),
    }
    return {"scope": scope, "statistics": stats, "values": values, "trend": trend, "live": live}
