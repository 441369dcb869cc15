"""The bulk generator: coherent data the app can work with, rollups that match, numbering that continues."""

from __future__ import annotations

from core.statistics.queries import StatsFilters, naive_type_source
from core.statistics.report import monthly_report
from core.statistics.seed import parse_years, seed
from core.statistics.testing import rebuilt_snapshot, rollup_snapshot


def test_seed_builds_coherent_cases_and_rollups(registry, world, database_url, make_case, arun):
    from core.tables import Agreement, Case, CaseEvent, CaseParty

    result = arun(seed(registry, database_url, 400, first_year=2025, last_year=2026, chunk=150))
    assert result.cases == 400 and result.rooms >= 6 and result.logins[0][0] == "seed-admin"
    assert arun(Case.count()) == 400 and arun(CaseParty.count()) == 800
    statuses = {r["status"] for r in arun(Case.select(Case.status).distinct())}
    assert {"archived", "registered"} <= statuses
    assert arun(Agreement.count()) > 100 and arun(CaseEvent.count()) > 1200
    numbers = [r["number"] for r in arun(Case.select(Case.number))]
    assert len(set(numbers)) == 400
    # every case sits in a state of its own channel's protocol (a case not yet moved: the initial state)
    for r in arun(Case.select(Case.channel, Case.state).distinct()):
        assert registry.protocol(r["channel"]).state(r["state"]), r
    # the rollups agree with what the case table says, and with a rebuild
    admin = world["users"]["admin"]

    async def totals():
        scope, report = await monthly_report(registry, admin, StatsFilters(202501, 202612))
        naive = await naive_type_source(scope)
        return report, naive

    report, naive = arun(totals())
    assert report.total.values["core_registered_cases"] == 400 == sum(int(r["registered"]) for r in naive)
    by_type = {}
    for r in naive:
        key = r["dispute_type"].split(".")[0]
        by_type[key] = by_type.get(key, 0) + int(r["registered"])
    assert {row.code: row.values["core_registered_cases"] for row in report.rows if row.values["core_registered_cases"]} \
        == by_type
    settled = arun(Case.count().where(Case.outcome.like("settled%")))
    assert report.totals["core_settled_cases"] == settled
    assert arun(rollup_snapshot()) == arun(rebuilt_snapshot(registry))
    # the engine carries on after a bulk load: the next number follows the seeded ones, rollups stay equal
    seeded_room = arun(Case.select(Case.room).where(Case.id == 1).first())["room"]
    from core.tables import Room, User
    from core.access import UserCtx

    room = arun(Room.select().where(Room.id == seeded_room).first())
    mediator = UserCtx.from_row(arun(User.select().where(User.room == seeded_room, User.role == "mediator").first()))
    created = make_case(room, mediator)
    assert created["number"] not in numbers and created["id"] == 401
    assert arun(rollup_snapshot()) == arun(rebuilt_snapshot(registry))


def test_seeded_case_pages_render(client, registry, database_url, login, arun):
    arun(seed(registry, database_url, 60, first_year=2026, last_year=2026))
    login(client, "seed-admin", "fengqiao-seed")
    from core.tables import Case

    for row in arun(Case.select(Case.id)):  # every channel's seeded cases render (multi-choice fields too)
        assert client.get(f"/cases/{row['id']}").status_code == 200, row
    page = client.get("/statistics?from=2026-01&to=2026-12")
    assert page.status_code == 200 and "县人民调解委员会" in page.text


def test_cli_seed(settings, monkeypatch, capsys):
    from web.cli import main

    monkeypatch.setenv("FENGQIAO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FENGQIAO_SECRET_KEY", settings.secret_key)
    assert main(["seed", "--cases", "30", "--years", "2026"]) == 0
    out = capsys.readouterr().out
    assert "seeded 30 cases" in out and "seed-admin" in out
    assert main(["seed", "--cases", "0"]) == 1
    assert main(["seed", "--cases", "5", "--years", "1999-2000"]) == 1


def test_parse_years():
    import datetime as dt

    import pytest

    today = dt.date(2026, 11, 22)
    assert parse_years(None, today) == (2024, 2026)
    assert parse_years("2022-2026", today) == (2022, 2026) and parse_years("2025", today) == (2025, 2025)
    for bad in ("2026-2022", "x", "2030"):
        with pytest.raises(ValueError):
            parse_years(bad, today)
