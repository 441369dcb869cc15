"""Statistics against a small dataset whose expected values are worked out by hand below.

The dataset (China time; rooms A and B belong to organisation 1, room C to organisation 2):

| case | room | type | source | registered | then | amount | people, flags |
|---|---|---|---|---|---|---|---|
| A1 | A | neighbour | application | 09-03 | accepted 09-04, mediation 09-05, settled (written) 09-10 | 1000.00 | 3, may_turn_criminal |
| A2 | A | marriage_family | self_initiated | 09-15 | accepted 09-16, mediation 09-20, settled (oral) 10-02 | – | 2 |
| A3 | A | labour.wage_arrears | application | 09-20 | accepted 09-21, mediation 09-22, settled 10-05 | 25000.50 | 12 → group_dispute |
| A4 | A | contract | application | 10-08 | accepted 10-09, not settled 10-12 (litigation) | | 2 |
| A5 | A | neighbour | application | 10-10 | declined 10-11 | | 2 |
| B1 | B | damages | application | 09-25 | accepted 09-26, mediation 09-27, withdrawn 10-03 | | 2 |
| B2 | B | neighbour | application | 10-20 | (registered) | | 2 |
| C1 | C | neighbour | self_initiated | 09-05 | accepted 09-06, mediation 09-07, settled 09-08 | 300.00 | 2, may_turn_criminal |
| C2 | C | traffic | application | 10-15 | accepted 10-16, mediation 10-17, not settled 10-25 (arbitration) | | 2 |

Every counter counts in the month its event happened.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.statistics.queries import StatsFilters, resolve_scope
from core.statistics.report import monthly_report
from core.statistics.testing import at, register, rebuilt_snapshot, rollup_snapshot, settle, step

SEP_OCT = StatsFilters(202609, 202610)


async def _build(reg, world, cipher):
    u, r = world["users"], world["rooms"]
    ids = {}
    ma, mb, mc = u["med-a"], u["med-b"], u["med-c"]

    async def walk(cid, user, *steps):
        for key, when, *data in steps:
            await step(reg, cid, key, user, when, data[0] if data else None)

    ids["A1"] = await register(reg, r["a"], ma, cipher, when=at(2026, 9, 3), people_count=3)
    await walk(ids["A1"], ma, ("accept", at(2026, 9, 4)), ("start_mediation", at(2026, 9, 5)))
    from core.warnings import set_flags

    await set_flags(reg, ids["A1"], ma, ["may_turn_criminal"], "双方曾有肢体冲突")
    await settle(reg, ids["A1"], ma, at(2026, 9, 10), amount="1000.00")

    ids["A2"] = await register(reg, r["a"], ma, cipher, when=at(2026, 9, 15), dispute_type="marriage_family",
                               source="self_initiated")
    await walk(ids["A2"], ma, ("accept", at(2026, 9, 16)), ("start_mediation", at(2026, 9, 20)))
    await settle(reg, ids["A2"], ma, at(2026, 10, 2), oral=True)

    ids["A3"] = await register(reg, r["a"], ma, cipher, when=at(2026, 9, 20), dispute_type="labour.wage_arrears",
                               amount="30000", people_count=12)
    await walk(ids["A3"], ma, ("accept", at(2026, 9, 21)), ("start_mediation", at(2026, 9, 22)))
    await settle(reg, ids["A3"], ma, at(2026, 10, 5), amount="25000.50")

    ids["A4"] = await register(reg, r["a"], ma, cipher, when=at(2026, 10, 8), dispute_type="contract")
    await walk(ids["A4"], ma, ("accept", at(2026, 10, 9)),
               ("not_settle", at(2026, 10, 12), {"reason": "分歧较大", "route": "litigation"}))

    ids["A5"] = await register(reg, r["a"], ma, cipher, when=at(2026, 10, 10))
    await walk(ids["A5"], ma, ("decline", at(2026, 10, 11), {"reason": "已起诉至法院"}))

    ids["B1"] = await register(reg, r["b"], mb, cipher, when=at(2026, 9, 25), dispute_type="damages")
    await walk(ids["B1"], mb, ("accept", at(2026, 9, 26)), ("start_mediation", at(2026, 9, 27)),
               ("withdraw", at(2026, 10, 3), {"reason": "双方自行和解"}))
    ids["B2"] = await register(reg, r["b"], mb, cipher, when=at(2026, 10, 20))

    ids["C1"] = await register(reg, r["c"], mc, cipher, when=at(2026, 9, 5), source="self_initiated")
    await walk(ids["C1"], mc, ("accept", at(2026, 9, 6)), ("start_mediation", at(2026, 9, 7)))
    await set_flags(reg, ids["C1"], mc, ["may_turn_criminal"], "有激化可能")
    await settle(reg, ids["C1"], mc, at(2026, 9, 8), amount="300.00")

    ids["C2"] = await register(reg, r["c"], mc, cipher, when=at(2026, 10, 15), dispute_type="traffic")
    await walk(ids["C2"], mc, ("accept", at(2026, 10, 16)), ("start_mediation", at(2026, 10, 17)),
               ("not_settle", at(2026, 10, 25), {"reason": "赔偿数额分歧", "route": "arbitration"}))
    return ids


@pytest.fixture
def dataset(registry, world, cipher, arun):
    return arun(_build(registry, world, cipher))


def _report(arun, registry, user, filters=SEP_OCT):
    async def go():
        scope, report = await monthly_report(registry, user, filters)
        return scope, None, report

    return arun(go())


def test_every_statistic_of_the_monthly_report(registry, world, dataset, arun):
    scope, data, report = _report(arun, registry, world["users"]["admin"])
    t = report.total.values
    assert scope.level == "all" and scope.organisation is None
    assert t["core_registered_cases"] == 9
    assert t["core_accepted_cases"] == 7
    assert (t["source:主动调解"], t["source:申请调解"], t["source:接受委托移送调解"]) == (2, 5, 0)
    assert t["core_settled_cases"] == 4
    assert t["core_oral_settled_cases"] == 1
    assert t["core_not_settled_cases"] == 2
    assert t["core_success_rate_percent"] == Decimal("57.1")  # 4 / 7
    assert t["core_agreement_amount_yuan"] == Decimal("26300.50")  # 1000.00 + 25000.50 + 300.00
    assert (t["core_criminal_prevented_cases"], t["core_criminal_prevented_people"]) == (2, 5)  # A1 (3), C1 (2)
    assert (t["core_petition_prevented_cases"], t["core_petition_prevented_people"]) == (1, 12)  # A3
    assert t["core_performed_cases"] == 0
    rows = {r.code: r.values for r in report.rows}
    assert [r.label for r in report.rows][:3] == ["婚姻家庭", "邻里", "房屋宅基地"]
    assert rows["neighbour"]["core_registered_cases"] == 4  # A1 A5 B2 C1
    assert rows["neighbour"]["core_accepted_cases"] == 2  # A1 C1
    assert rows["neighbour"]["core_agreement_amount_yuan"] == Decimal("1300.00")
    assert rows["neighbour"]["source:主动调解"] == 1 and rows["neighbour"]["source:申请调解"] == 1
    assert rows["labour"]["core_settled_cases"] == 1  # the wage-arrears sub-code folds into 劳动争议
    assert rows["labour"]["core_petition_prevented_people"] == 12
    assert rows["marriage_family"]["core_oral_settled_cases"] == 1
    assert rows["marriage_family"]["core_success_rate_percent"] == Decimal("100.0")
    assert rows["contract"]["core_success_rate_percent"] == Decimal("0.0")
    assert rows["housing_land"]["core_success_rate_percent"] is None  # nothing accepted: no rate
    assert sum(r["core_registered_cases"] for r in rows.values()) == 9
    # by month: each event counts in its own month
    trend = dict(report.trend)
    assert [trend[202609][k] for k in ("core_registered_cases", "core_accepted_cases", "core_settled_cases")] == [5, 5, 2]
    assert [trend[202610][k] for k in ("core_registered_cases", "core_accepted_cases", "core_settled_cases")] == [4, 2, 2]
    assert trend[202610]["core_withdrawn_cases"] == 1 and trend[202610]["core_declined_cases"] == 1
    # by organisation
    units = dict(report.units)
    assert report.unit_kind == "organisation"
    assert units["一号调委会"]["core_registered_cases"] == 7 and units["二号调委会"]["core_registered_cases"] == 2
    # channel indicators (general channel)
    ind = {s.name: v for s, v in report.indicators}
    assert ind["general_group_disputes_cases"] == 1 and ind["general_group_disputes_people"] == 12
    assert ind["general_not_settled_cases"] == 2 and ind["general_legal_track_cases"] == 2
    assert ind["general_legal_track_percent"] == Decimal("100.0")


def test_a_single_month(registry, world, dataset, arun):
    _, _, report = _report(arun, registry, world["users"]["admin"], StatsFilters(202609, 202609))
    t = report.total.values
    assert (t["core_registered_cases"], t["core_accepted_cases"], t["core_settled_cases"]) == (5, 5, 2)
    assert t["core_agreement_amount_yuan"] == Decimal("1300.00")
    assert (t["core_criminal_prevented_cases"], t["core_petition_prevented_cases"]) == (2, 0)
    assert report.period_label == "2026年9月"


def test_scope_mediator_supervisor_admin(registry, world, dataset, arun):
    users = world["users"]
    _, _, mine = _report(arun, registry, users["med-a"])
    t = mine.total.values
    assert (t["core_registered_cases"], t["core_accepted_cases"], t["core_settled_cases"]) == (5, 4, 3)
    assert t["core_agreement_amount_yuan"] == Decimal("26000.50")
    assert (mine.totals["core_declined_cases"], mine.totals["core_not_settled_cases"]) == (1, 1)
    # a mediator asking for another room or organisation still sees only their own room
    c_room = world["rooms"]["c"]["id"]
    _, _, still_mine = _report(arun, registry, users["med-a"],
                               StatsFilters(202609, 202610, organisation=world["orgs"][1]["id"], room=c_room))
    assert still_mine.total.values == t
    _, _, org = _report(arun, registry, users["sup-1"])
    t = org.total.values
    assert (t["core_registered_cases"], t["core_accepted_cases"], org.totals["core_withdrawn_cases"]) == (7, 5, 1)
    assert org.unit_kind == "room" and {name for name, _ in org.units} == {"甲调解室", "乙调解室"}
    meds = {m: v for m, v in org.mediators}
    assert meds["med-a"]["core_settled_cases"] == 3 and meds["med-a"]["core_declined_cases"] == 1
    assert meds["med-b"]["core_withdrawn_cases"] == 1
    # the supervisor cannot reach room C either
    _, _, org2 = _report(arun, registry, users["sup-1"], StatsFilters(202609, 202610, room=c_room))
    assert org2.total.values["core_registered_cases"] == 7
    # an admin can narrow to a room or an organisation
    _, _, room_c = _report(arun, registry, users["admin"], StatsFilters(202609, 202610, room=c_room))
    assert room_c.total.values["core_registered_cases"] == 2
    _, _, org_one = _report(arun, registry, users["admin"],
                            StatsFilters(202609, 202610, organisation=world["orgs"][0]["id"]))
    assert org_one.total.values["core_registered_cases"] == 7


def test_performed_agreements_count_in_the_month_of_settlement(registry, world, dataset, arun):
    from core.followups import FollowUpIn, record_followup
    from core.statistics.rollups import sync_performed

    user = world["users"]["med-a"]
    import datetime as dt

    arun(record_followup(registry, dataset["A1"], user, FollowUpIn(done_on=dt.date(2026, 11, 1),
                                                                   performance="performed",
                                                                   satisfaction="satisfied")))
    # the fulfilment hook already brought the rollup up to date inside record_followup's transaction
    assert arun(sync_performed(registry, dataset["A1"])) == 0
    _, _, report = _report(arun, registry, world["users"]["admin"], StatsFilters(202609, 202609))
    assert report.total.values["core_performed_cases"] == 1
    assert arun(rollup_snapshot()) == arun(rebuilt_snapshot(registry))


def test_incremental_rollups_equal_a_rebuild(registry, dataset, arun):
    before = arun(rollup_snapshot())
    assert before["rollup"] and before["indicator"] and len(before["conclusion"]) == 8
    assert arun(rebuilt_snapshot(registry)) == before


def test_a_failed_change_leaves_the_rollups_alone(registry, world, dataset, arun):
    from core.cases import Refused

    before = arun(rollup_snapshot())
    with pytest.raises(Refused):
        arun(step(registry, dataset["B2"], "settle", world["users"]["med-b"], at(2026, 10, 21)))
    assert arun(rollup_snapshot()) == before


def test_naive_group_by_agrees_with_the_rollups_on_cohort_counts(registry, world, dataset, arun):
    from core.statistics.queries import naive_type_source

    async def go():
        scope = await resolve_scope(world["users"]["admin"], SEP_OCT)
        return await naive_type_source(scope)

    rows = arun(go())
    assert sum(int(r["registered"]) for r in rows) == 9
    assert sum(int(r["settled"]) for r in rows) == 4
    assert sum(int(r["amount_fen"]) for r in rows) == 2630050


RULES = {
    "duty_day_rate": 200,
    "grades": {"major": {"people_count_ge": 10}},
    "rules": [
        {"label": "重大案件", "grades": ["major"], "amount": 3000},
        {"label": "一般案件", "bands": [{"up_to": 500, "amount": 50}, {"up_to": 10000, "amount": 100}, {"amount": 500}],
         "cap": 2000},
        {"label": "调解不成", "outcomes": ["not_settled"], "amount": 30},
    ],
}


def test_subsidies_per_mediator(registry, world, dataset, arun):
    """med-a: A1 1000.00 → band 100, A2 no amount → 50, A3 12 people (major) → 3000, A4 not settled → 30,
    A5 declined → 0 = 3180; med-b: B1 withdrawn → 0; med-c: C1 300.00 → 50 + C2 not settled → 30 = 80,
    but med-c is a public employee → 0. Duty days at 200: med-a 2 (a repeat and a November day do not
    count), med-b 1."""
    import datetime as dt

    from core.statistics.subsidies import load_rules, record_duty_day, set_public_employee, subsidy_report

    users = world["users"]
    sup, admin = users["sup-1"], users["admin"]
    for who, day in ((users["med-a"], dt.date(2026, 9, 10)), (users["med-a"], dt.date(2026, 9, 10)),
                     (users["med-a"], dt.date(2026, 9, 11)), (users["med-a"], dt.date(2026, 11, 1)),
                     (users["med-b"], dt.date(2026, 10, 1))):
        arun(record_duty_day(sup, who.id, day))
    arun(set_public_employee(admin, users["med-c"].id, True))

    def lines(user, rules=RULES, filters=SEP_OCT):
        async def go():
            scope = await resolve_scope(user, filters)
            return {x.name: x for x in await subsidy_report(load_rules(rules), scope)}

        return arun(go())

    got = lines(admin)
    a, b, c = got["med-a"], got["med-b"], got["med-c"]
    assert (a.concluded, a.settled, a.case_subsidy, a.duty_days, a.duty_subsidy, a.total) == (
        5, 3, Decimal("3180.00"), 2, Decimal("400.00"), Decimal("3580.00"))
    assert (b.concluded, b.settled, b.case_subsidy, b.duty_days, b.total) == (1, 0, Decimal("0.00"), 1, Decimal("200.00"))
    assert (c.concluded, c.settled, c.case_subsidy, c.public_employee) == (2, 1, Decimal("0.00"), True)
    assert "公职人员" in c.note and a.room == "甲调解室"
    # a monthly cap of 2000: September 100, October 50 + 3000 + 30 = 3080 → 2000
    capped = lines(admin, {**RULES, "monthly_cap": 2000})["med-a"]
    assert capped.case_subsidy == Decimal("2100.00") and capped.capped and "上限" in capped.note
    # without the public-employee exclusion med-c is paid
    assert lines(admin, {**RULES, "exclude_public_employees": False})["med-c"].case_subsidy == Decimal("80.00")
    # scope: the supervisor sees organisation 1, a mediator their room
    assert set(lines(sup)) == {"med-a", "med-b"}
    assert set(lines(users["med-c"])) == {"med-c"}
    # September only: A1 (100) and C1 (public employee)
    assert lines(admin, filters=StatsFilters(202609, 202609))["med-a"].case_subsidy == Decimal("100.00")
    # no rules: nothing paid, still listed
    assert lines(admin, {})["med-a"].total == Decimal("0.00")


def test_subsidy_actions_are_for_supervisors_in_scope(registry, world, arun):
    import datetime as dt

    from core.statistics.subsidies import SubsidyError, record_duty_day, set_public_employee

    users = world["users"]
    with pytest.raises(SubsidyError):
        arun(record_duty_day(users["med-a"], users["med-a"].id, dt.date(2026, 9, 1)))
    with pytest.raises(SubsidyError):  # room C is outside organisation 1
        arun(record_duty_day(users["sup-1"], users["med-c"].id, dt.date(2026, 9, 1)))
    with pytest.raises(SubsidyError):
        arun(set_public_employee(users["sup-1"], users["med-c"].id, True))
    arun(set_public_employee(users["sup-1"], users["med-a"].id, True))
    arun(set_public_employee(users["sup-1"], users["med-a"].id, False))


@pytest.mark.parametrize("section,message", [
    ({"rules": [{"label": "x"}]}, "exactly one of amount or bands"),
    ({"rules": [{"amount": 1, "bands": [{"amount": 1}]}]}, "exactly one of amount or bands"),
    ({"rules": [{"amount": -5}]}, "non-negative"),
    ({"rules": [{"amount": 5, "outcomes": ["won"]}]}, "outcomes must be among"),
    ({"rules": [{"amount": 5, "colour": "red"}]}, "unknown keys"),
    ({"rules": [{"bands": [{"amount": 1}, {"up_to": 5, "amount": 2}]}]}, "only the last band"),
    ({"grades": {"major": {"size": 3}}}, "takes flags_any"),
    ({"duty_day_rate": "lots"}, "number of yuan"),
])
def test_subsidy_rules_are_validated(section, message):
    from core.statistics.subsidies import SubsidyError, load_rules

    with pytest.raises(SubsidyError, match=message):
        load_rules(section)
