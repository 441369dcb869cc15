"""The performance work on the case page and the case list keeps behaviour: the (room, id) index
migration, the capped count counted in SQL, the supervisor scope as a room sub-query, Babel patterns
parsed once, the case file reused by the 卷宗 facts, the short-lived user cache (and its invalidation),
and the group-committed audit log."""

from __future__ import annotations

import asyncio
import datetime as dt

from babel import dates

import core.queries as queries
import core.users as users
from core import audit, clock, db
from core.documents.facts import load_facts
from core.queries import reusing_case_file
from core.queries import CaseFilters, case_file, list_cases
from core.tables import AuditEntry, User

from tests.test_documents import settled_case


# ------------------------------------------------------------------ the case list


def test_case_list_index_exists_after_migrating(database_url, arun):
    if database_url.startswith("sqlite"):
        rows = arun(db.engine().run_ddl(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name = 'core_case_room_id'"))
        assert rows and "(room, id)" in rows[0]["sql"]
    else:
        rows = arun(db.engine().run_ddl(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'core_case' AND indexname = 'core_case_room_id'"))
        assert rows and "(room, id)" in rows[0]["indexdef"]


def test_capped_count_counts_in_sql_and_caps(world, make_case, arun, monkeypatch):
    admin, sup, med_a = world["users"]["admin"], world["users"]["sup-1"], world["users"]["med-a"]
    for room, n in (("a", 3), ("b", 2), ("c", 2)):
        for _ in range(n):
            make_case(world["rooms"][room], med_a if room == "a" else admin)
    assert arun(list_cases(admin, CaseFilters()))[2] == 7
    assert arun(list_cases(sup, CaseFilters()))[2] == 5
    assert arun(list_cases(med_a, CaseFilters()))[2] == 3
    assert arun(list_cases(admin, CaseFilters(room=world["rooms"]["c"]["id"])))[2] == 2
    monkeypatch.setattr(queries, "COUNT_CAP", 4)
    assert arun(list_cases(admin, CaseFilters()))[2] == 5  # COUNT_CAP + 1 means "more than COUNT_CAP"
    assert arun(list_cases(med_a, CaseFilters()))[2] == 3


def test_supervisor_scope_sub_query_sees_exactly_the_organisations_rooms(world, make_case, arun):
    admin, sup = world["users"]["admin"], world["users"]["sup-1"]
    mine = {make_case(world["rooms"][r], admin)["id"] for r in ("a", "b", "a")}
    make_case(world["rooms"]["c"], admin)
    rows, cursor, total = arun(list_cases(sup, CaseFilters(), limit=2))
    seen = {r["id"] for r in rows}
    while cursor:
        rows, cursor, _ = arun(list_cases(sup, CaseFilters(), cursor, limit=2))
        seen |= {r["id"] for r in rows}
    assert seen == mine and total == 3
    assert {r["room_name"] for r in arun(list_cases(sup, CaseFilters()))[0]} == {"甲调解室", "乙调解室"}


# ------------------------------------------------------------------ date formatting


def _babel_format(value, loc):
    """What web.i18n.format_date did before its patterns were cached (Babel parsing each call)."""
    from web.i18n import _DATE_FORMATS

    date_fmt, datetime_fmt = _DATE_FORMATS.get(loc, ("medium", ""))
    if isinstance(value, dt.datetime):
        local = value.astimezone(clock.TZ) if value.tzinfo else value
        if datetime_fmt:
            return dates.format_datetime(local, datetime_fmt, locale=loc)
        return f"{dates.format_date(local.date(), date_fmt, locale=loc)} {dates.format_time(local.time(), 'HH:mm', locale=loc)}"
    return dates.format_date(value, date_fmt, locale=loc)


def test_format_date_with_cached_patterns_matches_babel():
    from web import i18n

    values = [dt.date(2026, 1, 3), dt.datetime(2026, 11, 22, 23, 59), dt.datetime(2026, 11, 22, 20, 5, tzinfo=dt.UTC),
              dt.datetime(2025, 2, 1, 0, 0, tzinfo=clock.TZ)]
    for loc in i18n.LOCALES:
        token = i18n._locale.set(loc)
        try:
            for v in values:
                assert i18n.format_date(v) == _babel_format(v, loc)
            assert i18n.format_date("2026-11-22T20:05:00+00:00") == _babel_format(
                dt.datetime(2026, 11, 22, 20, 5, tzinfo=dt.UTC), loc)
        finally:
            i18n._locale.reset(token)
    token = i18n._locale.set("zh_CN")
    try:
        assert i18n.format_date(dt.datetime(2026, 11, 22, 20, 5, tzinfo=dt.UTC)) == "2026-11-23 04:05"
        assert i18n.format_date(None) == "" and i18n.format_date("不是日期") == "不是日期"
    finally:
        i18n._locale.reset(token)


# ------------------------------------------------------------------ the case file reused by the facts


def test_facts_from_the_loaded_case_file_equal_the_facts_read_afresh(registry, world, make_case, arun):
    case = settled_case(registry, make_case, world, arun)
    from core.cases import load_case

    row = arun(load_case(case["id"], world["users"]["med-a"]))

    async def both():
        fresh = await load_facts(row)
        file = await case_file(case["id"])
        with reusing_case_file(case["id"], file):
            reused = await load_facts(row)
            other = await load_facts({**row, "id": -1})  # another case: read afresh, never the loaded file
        return fresh, reused, other

    fresh, reused, other = arun(both())
    assert fresh.sessions == 1 and fresh.agreement is not None and len(fresh.parties) == 2
    assert [dict(p) for p in reused.parties] == [dict(p) for p in fresh.parties]
    assert (reused.sessions, reused.agreement, reused.followups_done) == (
        fresh.sessions, fresh.agreement, fresh.followups_done)
    assert reused.recorded == fresh.recorded and reused.signatures == fresh.signatures
    assert other.parties == () and other.sessions == 0 and other.agreement is None


def test_case_page_still_shows_the_file_panel(registry, world, make_case, arun, client, login):
    case = settled_case(registry, make_case, world, arun)
    login(client, "med-a")
    page = client.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    assert "文书与卷宗" in page.text and "张三" in page.text and "李四" in page.text


# ------------------------------------------------------------------ the user cache


def test_deactivation_ends_the_session_at_once(world, client, login, arun):
    users.forget_user()
    login(client, "med-a")
    assert client.get("/").status_code == 200  # cached now
    uid = world["users"]["med-a"].id
    assert uid in users._user_cache
    assert arun(users.set_user_active(uid, False)) is True
    assert uid not in users._user_cache
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code in {302, 303, 401} and "/login" in resp.headers.get("location", "/login")
    assert arun(users.set_user_active(uid, True)) is True
    assert client.get("/").status_code == 200  # the session itself was never ended


def test_logout_drops_the_cached_user(world, client, login, csrf):
    users.forget_user()
    login(client, "med-a")
    assert client.get("/").status_code == 200
    uid = world["users"]["med-a"].id
    assert uid in users._user_cache
    assert client.post("/logout", data={"_csrf_token": csrf(client)}, follow_redirects=False).status_code == 303
    assert uid not in users._user_cache
    assert client.get("/", follow_redirects=False).status_code in {302, 303, 401}


def test_a_change_made_elsewhere_is_seen_within_the_cache_lifetime(world, client, login, arun, monkeypatch):
    """A deactivation written by another process (here: directly, bypassing set_user_active) is not
    seen while the entry is fresh, and is seen once it expires."""
    users.forget_user()
    login(client, "med-a")
    assert client.get("/").status_code == 200
    uid = world["users"]["med-a"].id
    arun(User.update({User.active: False}).where(User.id == uid))
    assert client.get("/").status_code == 200  # still within USER_CACHE_SECONDS
    expires, engine, user = users._user_cache[uid]
    assert expires - users.time.monotonic() <= users.USER_CACHE_SECONDS
    users._user_cache[uid] = (users.time.monotonic() - 0.001, engine, user)  # as if USER_CACHE_SECONDS had passed
    assert client.get("/", follow_redirects=False).status_code in {302, 303, 401}


def test_cache_never_answers_for_another_database(world, arun):
    uid = world["users"]["med-a"].id
    users.forget_user()
    assert arun(users.get_user_cached(uid)).username == "med-a"
    expires, _, user = users._user_cache[uid]
    users._user_cache[uid] = (expires, object(), None)  # an entry made against another engine
    assert arun(users.get_user_cached(uid)).username == "med-a"


# ------------------------------------------------------------------ the audit log's group commit


def test_grouped_audit_entries_form_one_valid_chain(world, arun):
    async def burst():
        first = await audit.record("login", actor="x")
        seqs = await asyncio.gather(*(audit.record_grouped("case.read", actor=f"u{i}", target=f"GET /cases/{i}")
                                      for i in range(30)))
        last = await audit.record("logout", actor="x")
        return first, seqs, last

    first, seqs, last = arun(burst())
    assert sorted(seqs) == list(range(first + 1, first + 31)) and last == first + 31
    rows = arun(AuditEntry.select(AuditEntry.seq, AuditEntry.actor).where(AuditEntry.action == "case.read"))
    assert {r["actor"] for r in rows} == {f"u{i}" for i in range(30)}
    assert arun(audit.verify()).ok


def test_grouped_audit_entry_does_not_join_the_callers_transaction(world, arun):
    async def go():
        try:
            async with db.write_transaction():
                await audit.record_grouped("case.read", actor="outside")
                raise RuntimeError("roll back the caller")
        except RuntimeError:
            pass
        return await AuditEntry.count().where(AuditEntry.actor == "outside")

    if not db.is_sqlite():  # on SQLite the caller's BEGIN IMMEDIATE would block the writer: not a supported use
        assert arun(go()) == 1


def test_case_read_is_audited_once_per_request(registry, world, make_case, arun, client, login):
    case = make_case(world["rooms"]["a"], world["users"]["med-a"])
    login(client, "med-a")
    for _ in range(3):
        assert client.get(f"/cases/{case['id']}").status_code == 200
    reads = arun(AuditEntry.select().where(AuditEntry.action == "case.read",
                                           AuditEntry.target == f"GET /cases/{case['id']}"))
    assert len(reads) == 3 and {r["actor"] for r in reads} == {"med-a"}
    assert arun(audit.verify()).ok


def test_format_money_with_a_cached_pattern_matches_babel():
    from decimal import Decimal

    from babel import numbers

    from web import i18n

    token = i18n._locale.set("zh_CN")
    try:
        for v in (Decimal("1200.5"), Decimal("0"), Decimal("1234567.899"), "88", 3):
            assert i18n.format_money(v) == f"{numbers.format_decimal(Decimal(v), '#,##0.00', locale='zh_CN')} 元"
        assert i18n.format_money(Decimal("1200.5")) == "1,200.50 元"
    finally:
        i18n._locale.reset(token)
