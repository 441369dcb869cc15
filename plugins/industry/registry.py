"""The committee registry (名册): which organisations are industry committees, their filing (备案),
annual inspections, statistics reports, and the dormant check.

Dormant check (北京市 plan, shared/seeds/003): a committee with **no mediation for three years** or
**no statistics reported for two years** is flagged for rectification (整改). Precisely, on ``today``:

- *no mediation*: founded at least three years ago, and no case of the committee's channel in the
  organisation's rooms was accepted (受理) on or after ``today`` minus three years;
- *no statistics*: founded before 1 January of ``today.year - 2``, and no report for either of the
  last two full years (``today.year - 1``, ``today.year - 2``).

A flag records the day and the reasons; a later check that finds neither clears it. Filing: a 医调委
files with the justice bureau within 30 working days of its founding (医疗纠纷预防和处理条例 第三十二条);
the filing number and date are the organisation's (``core.organisations``), shown here with "overdue"
when missing after that period.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core import clock
from core.access import UserCtx
from core.cases import Refused
from core.db import write_transaction
from core.forms import FormErrors
from core.organisations import org_in_scope, organisations_in_scope
from core.tables import Case, Organisation
from plugins.industry.tables import CommitteeRecord, Inspection, StatReport

if TYPE_CHECKING:
    from core.calendar import WorkCalendar
    from plugins.industry.model import Committee

__all__ = ["RegisterIn", "InspectionIn", "ReportIn", "register_committee", "record_inspection", "record_report",
           "dormant_check", "registry_rows", "DORMANT_MEDIATION_YEARS", "DORMANT_STATISTICS_YEARS", "FILING_DAYS", "REASONS"]

DORMANT_MEDIATION_YEARS = 3
DORMANT_STATISTICS_YEARS = 2
FILING_DAYS = 30
STAFF = {"supervisor", "admin"}
REASONS = {"no_mediation": "连续三年未开展调解工作", "no_statistics": "连续两年未报送统计数据"}


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    organisation: Annotated[int, Meta(title="调解组织", ge=1)]
    committee: Annotated[str, Meta(title="委员会类型", min_length=1, max_length=64)]
    founded_on: Annotated[dt.date, Meta(title="设立日期")]
    sector_body: Annotated[str, Meta(title="发起设立单位", max_length=200)] | None = None


class InspectionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    year: Annotated[int, Meta(title="检查年度", ge=2000, le=2100)]
    inspected_on: Annotated[dt.date, Meta(title="检查日期")]
    result: Annotated[Literal["passed", "rectify"], Meta(
        title="检查结论", extra={"labels": {"passed": "合格", "rectify": "限期整改"}})]
    notes: Annotated[str, Meta(title="检查意见", max_length=2000, extra={"widget": "textarea"})] | None = None


class ReportIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    year: Annotated[int, Meta(title="统计年度", ge=2000, le=2100)]
    reported_on: Annotated[dt.date, Meta(title="报送日期")]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


async def _record_for(actor: UserCtx, org_id: int) -> dict[str, Any]:
    await org_in_scope(actor, org_id)  # out of scope → NotFound before anything else
    if actor.role not in STAFF:
        raise Refused("只有督导或管理员可以维护行业性专业性调解委员会名册")
    rec = await CommitteeRecord.select().where(CommitteeRecord.organisation == org_id).first()
    if rec is None:
        raise Refused("该组织尚未登记为行业性专业性调解委员会")
    return rec


async def register_committee(committees: dict[str, Committee], actor: UserCtx, data: RegisterIn) -> int:
    await org_in_scope(actor, data.organisation)
    if actor.role not in STAFF:
        raise Refused("只有督导或管理员可以维护行业性专业性调解委员会名册")
    c = committees.get(data.committee)
    if c is None:
        raise FormErrors({"committee": "未启用此类委员会"})
    if data.founded_on > clock.today():
        raise FormErrors({"founded_on": "设立日期不能晚于今天"})
    async with write_transaction():
        if await CommitteeRecord.exists().where(CommitteeRecord.organisation == data.organisation):
            raise Refused("该组织已登记")
        rows = await CommitteeRecord.insert(CommitteeRecord(
            organisation=data.organisation, committee=c.key, sector_body=data.sector_body or c.sector_body,
            founded_on=data.founded_on, flag_reasons="[]", created_at=clock.now())).returning(CommitteeRecord.id)
        await Organisation.update({Organisation.kind: "industry"}).where(Organisation.id == data.organisation)
    return int(rows[0]["id"])


async def record_inspection(actor: UserCtx, org_id: int, data: InspectionIn) -> None:
    rec = await _record_for(actor, org_id)
    if data.inspected_on > clock.today():
        raise FormErrors({"inspected_on": "检查日期不能晚于今天"})
    async with write_transaction():
        await Inspection.insert(Inspection(record=rec["id"], year=data.year, inspected_on=data.inspected_on,
                                           result=data.result, notes=(data.notes or "").strip(),
                                           recorded_by=actor.id, created_at=clock.now()))


async def record_report(actor: UserCtx, org_id: int, data: ReportIn) -> None:
    rec = await _record_for(actor, org_id)
    if data.year > clock.today().year or data.reported_on > clock.today():
        raise FormErrors({"year": "不能登记未来年度或日期的报送"})
    async with write_transaction():
        if await StatReport.exists().where((StatReport.record == rec["id"]) & (StatReport.year == data.year)):
            raise FormErrors({"year": "该年度统计已登记报送"})
        await StatReport.insert(StatReport(record=rec["id"], year=data.year, reported_on=data.reported_on,
                                           recorded_by=actor.id, created_at=clock.now()))


async def _reasons(rec: dict[str, Any], today: dt.date) -> list[str]:
    reasons = []
    cutoff = _years_before(today, DORMANT_MEDIATION_YEARS)
    if rec["founded_on"] <= cutoff:
        since = dt.datetime.combine(cutoff, dt.time(), tzinfo=clock.TZ)
        mediated = await Case.exists().where(
            (Case.channel == rec["committee"]) & (Case.room.organisation == rec["organisation"])
            & (Case.accepted_at >= since))
        if not mediated:
            reasons.append("no_mediation")
    years = [today.year - k for k in range(1, DORMANT_STATISTICS_YEARS + 1)]
    if rec["founded_on"] < dt.date(today.year - DORMANT_STATISTICS_YEARS, 1, 1):
        reported = await StatReport.exists().where((StatReport.record == rec["id"]) & StatReport.year.is_in(years))
        if not reported:
            reasons.append("no_statistics")
    return reasons


async def dormant_check(actor: UserCtx | None, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Flag (or clear) every committee in ``actor``'s scope (``None`` = all); returns the flagged ones."""
    today = today or clock.today()
    if actor is not None and actor.role not in STAFF:
        raise Refused("只有督导或管理员可以进行休眠检查")
    scope = None if actor is None else [o["id"] for o in await organisations_in_scope(actor)]
    flagged = []
    async with write_transaction():
        query = CommitteeRecord.select()
        if scope is not None:
            query = query.where(CommitteeRecord.organisation.is_in(scope or [-1]))
        for rec in await query:
            reasons = await _reasons(rec, today)
            values = ({CommitteeRecord.flagged_on: rec["flagged_on"] or today,
                       CommitteeRecord.flag_reasons: msgspec.json.encode(reasons).decode()} if reasons else
                      {CommitteeRecord.flagged_on: None, CommitteeRecord.flag_reasons: "[]"})
            await CommitteeRecord.update(values).where(CommitteeRecord.id == rec["id"])
            if reasons:
                flagged.append({"organisation": rec["organisation"], "committee": rec["committee"], "reasons": reasons})
    return flagged


async def registry_rows(actor: UserCtx, committees: dict[str, Committee], calendar: WorkCalendar) -> list[dict[str, Any]]:
    """The registered committees in ``actor``'s scope with filing, last inspection, reports and flag."""
    orgs = {o["id"]: o for o in await organisations_in_scope(actor)}
    recs = await CommitteeRecord.select().where(CommitteeRecord.organisation.is_in(list(orgs) or [-1])).order_by(
        CommitteeRecord.id).output(load_json=True)
    ids = [r["id"] for r in recs] or [-1]
    inspections = await Inspection.select().where(Inspection.record.is_in(ids)).order_by(Inspection.inspected_on)
    reports = await StatReport.select().where(StatReport.record.is_in(ids)).order_by(StatReport.year)
    today = clock.today()
    out = []
    for r in recs:
        org = orgs[r["organisation"]]
        c = committees.get(r["committee"])
        due = calendar.add_workdays(r["founded_on"], FILING_DAYS)
        out.append({**r, "org": org, "committee_label": c.name if c else r["committee"],
                    "filing_due": due, "filing_overdue": not org["filed_on"] and today > due,
                    "inspections": [i for i in inspections if i["record"] == r["id"]],
                    "reports": [p for p in reports if p["record"] == r["id"]],
                    "reason_labels": [REASONS.get(x, x) for x in r["flag_reasons"] or []]})
    return out

