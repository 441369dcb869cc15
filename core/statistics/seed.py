"""Bulk data generator (``fengqiao seed --cases N``): realistic cases across channels, dispute types,
rooms and years, written in bulk, then the rollups rebuilt in SQL.

Cases follow their channel's protocol (paths found in the protocol graph, so any channel works):
older cases are mostly concluded, closed and archived, recent ones still open. Each case gets two
parties, its event log, a mediation session when mediated, and an agreement when settled (most old
agreements performed). Party identity numbers and phones are synthetic masked values only (never
encrypted real data). Writes bypass the case engine on purpose — that is the point of a bulk load —
so :func:`core.statistics.rollups.rebuild_rollups` runs at the end.

Speed: SQLite gets ``executemany`` in large transactions on one connection; PostgreSQL gets
``COPY`` (asyncpg ``copy_records_to_table``). Ids are assigned here so related rows can be written
without reading anything back; sequences and case-number counters are moved past them at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import msgspec

from core import clock
from core.cases import format_number
from core.registry import Registry

__all__ = ["SeedResult", "seed", "SEED_PASSWORD"]

SEED_PASSWORD = "fengqiao-seed"
UTC = dt.timezone.utc

DISPUTE_WEIGHTS = {
    "neighbour": 20, "marriage_family": 18, "damages": 12, "contract": 10, "labour": 5, "labour.wage_arrears": 4,
    "housing_land": 7, "property_management": 5, "traffic": 5, "consumer": 3, "production_business": 3,
    "forest_land": 2, "land_acquisition": 2, "medical": 2, "environment": 1, "village_affairs": 1, "other": 3,
}
SUMMARIES = {
    "neighbour": "邻居之间因{x}发生纠纷，多次协商未果", "marriage_family": "家庭成员就{x}问题产生分歧",
    "damages": "双方因{x}引发人身损害赔偿争议", "contract": "双方就{x}合同履行发生争议",
    "labour": "劳动者与用工方就{x}发生争议", "labour.wage_arrears": "农民工被拖欠{x}工资",
    "housing_land": "因{x}宅基地界址发生争议", "property_management": "业主与物业公司就{x}发生纠纷",
    "traffic": "道路交通事故后就{x}赔偿协商未果", "consumer": "消费者与商家就{x}退换货发生争议",
}
TOPICS = ("噪音", "漏水", "赡养费", "抚养费", "借款", "房租", "装修款", "工程款", "医药费", "误工费", "停车位",
          "围墙", "树木遮挡", "排水沟", "彩礼", "遗产分配", "三个月", "半年")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国平红霞桂兰玉梅志刚德海春燕小龙文斌"
COUNTIES = ("城关", "东城", "西城", "南湖", "北山", "河口", "青石", "白沙", "桃源", "柳林", "石桥", "双河", "长岭",
            "新集", "高桥", "黄龙", "金山", "马鞍", "凤凰", "龙泉", "花园", "莲塘", "竹溪", "松林", "安乐", "永兴",
            "太平", "红旗", "和平", "胜利", "光明", "团结", "幸福", "兴隆", "丰收", "五里", "十里", "三岔", "七星", "九龙")


@dataclass
class SeedResult:
    cases: int = 0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0
    rebuild_seconds: float = 0.0
    rooms: int = 0
    organisations: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


# --- intake data -----------------------------------------------------------------------------------


def _sample_value(t: Any) -> Any:
    from msgspec import inspect as mi

    if isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.UnionType):
        t = next((x for x in t.types if not isinstance(x, mi.NoneType)), t.types[0])
        return _sample_value(t)
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    if isinstance(t, mi.StrType):
        n = max(t.min_length or 1, 1)
        return ("示例" * n)[: max(n, min(2, t.max_length or 2))]
    if isinstance(t, mi.BoolType):
        return True
    if isinstance(t, mi.IntType):
        return t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else 1)
    if isinstance(t, mi.DecimalType | mi.FloatType):
        return "1"
    if isinstance(t, mi.DateType):
        return clock.today().isoformat()
    if isinstance(t, mi.DateTimeType):
        return clock.now().isoformat()
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType):
        return []
    return None


def sample_intake(schema: type[msgspec.Struct]) -> str:
    """JSON of a schema-valid intake object: the schema's defaults, and for fields without one the
    simplest value their type and constraints allow (seeded cases need intake data of every channel,
    and a channel's required fields have no default)."""
    from msgspec import inspect as mi

    info = mi.type_info(schema)
    data = {f.encode_name: _sample_value(f.type) for f in info.fields if f.required}
    try:
        return msgspec.json.encode(msgspec.convert(data, schema, strict=False)).decode()
    except msgspec.ValidationError:  # e.g. a pattern the simple value does not match: keep it as data
        defaults = {f.encode_name: f.default for f in info.fields
                    if not f.required and f.default is not msgspec.NODEFAULT}
        return msgspec.json.encode({**defaults, **data}).decode()


# --- protocol paths --------------------------------------------------------------------------------


def _paths(protocol: Any) -> dict[str, list[Any]]:
    """Transition paths from the initial state to each outcome, found by BFS in the protocol graph."""
    def bfs(start: str, goal: Callable[[Any], bool], avoid: Callable[[Any], bool] = lambda s: False) -> list[Any] | None:
        seen, queue = {start}, [(start, [])]
        while queue:
            state, path = queue.pop(0)
            if path and goal(protocol.state(state)):
                return path
            for t in protocol.available(state):
                if t.target not in seen and not avoid(protocol.state(t.target)) and (
                        "mediator" in t.roles or "system" in t.roles or "supervisor" in t.roles):
                    seen.add(t.target)
                    queue.append((t.target, [*path, t]))
        return None

    def status(s: str) -> Callable[[Any], bool]:
        return lambda st: st.status.value == s

    out: dict[str, list[Any]] = {"registered": []}
    start = protocol.initial
    for key in ("accepted", "in_mediation", "declined"):
        if (p := bfs(start, status(key))) is not None:
            out[key] = p
    med = out.get("in_mediation")
    if med is not None:
        mid = med[-1].target
        for key in ("settled", "not_settled", "withdrawn"):
            if (p := bfs(mid, status(key))) is not None:
                out[key] = med + p
    if (p := bfs(start, status("withdrawn"), avoid=status("in_mediation"))) is not None:
        out["withdrawn_early"] = p
    if (p := bfs(start, status("not_settled"), avoid=status("in_mediation"))) is not None:
        out["not_settled_early"] = p
    for key in list(out):
        path = out[key]
        end = path[-1].target if path else start
        if protocol.state(end).status.value in {"settled", "not_settled", "withdrawn", "declined"}:
            if (c := bfs(end, status("closed"))) is not None:
                out[key + "+closed"] = path + c
                if (a := bfs(c[-1].target, status("archived"))) is not None:
                    out[key + "+archived"] = path + c + a
    return out


# --- rows ------------------------------------------------------------------------------------------


class _Writer:
    """Bulk rows into SQLite (executemany) or PostgreSQL (COPY)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite:///")
        self.con: Any = None
        self.fast_pg = False

    async def open(self) -> None:
        if self.sqlite:
            path = unquote(self.url.removeprefix("sqlite:///"))
            self.con = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=OFF")
            self.con.execute("PRAGMA cache_size=-200000")
            self.con.execute("PRAGMA temp_store=MEMORY")
        else:
            import asyncpg

            self.con = await asyncpg.connect(self.url)
            # Foreign-key triggers cost more than the inserts; a superuser may skip them for the load
            # (every reference is generated consistently). Others load with the checks on.
            self.fast_pg = bool(await self.con.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        if self.sqlite:
            return self.con.execute(sql).fetchall()
        return [tuple(r) for r in await self.con.fetch(sql)]

    async def execute(self, sql: str) -> None:
        if self.sqlite:
            self.con.execute(sql)
        else:
            await self.con.execute(sql)

    async def write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.sqlite:
            cols = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            self.con.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
        else:
            await self.con.copy_records_to_table(table, records=rows, columns=list(columns))

    async def write_chunk(self, batches: list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]) -> None:
        """Write several tables' rows in one transaction. SQLite writes in a worker thread (the sqlite3
        module releases the GIL while it works), so the next chunk is generated meanwhile."""
        if self.sqlite:
            def run() -> None:
                self.con.execute("BEGIN")
                for table, columns, rows in batches:
                    if rows:
                        cols = ", ".join(f'"{c}"' for c in columns)
                        marks = ", ".join("?" for _ in columns)
                        self.con.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
                self.con.execute("COMMIT")

            await asyncio.to_thread(run)
            return
        async with self.con.transaction():
            if self.fast_pg:
                await self.con.execute("SET LOCAL session_replication_role = replica")
            for table, columns, rows in batches:
                if rows:
                    await self.con.copy_records_to_table(table, records=rows, columns=list(columns))

    async def begin(self) -> None:
        await self.execute("BEGIN")

    async def commit(self) -> None:
        await self.execute("COMMIT")

    async def close(self) -> None:
        if self.con is not None:
            if self.sqlite:
                self.con.close()
            else:
                await self.con.close()


def _ts(w: _Writer, when: dt.datetime) -> Any:
    """A timestamptz value as Piccolo stores it (SQLite: UTC text; PostgreSQL: aware datetime).

    A naive ``when`` is UTC already: the SQLite generator works in naive UTC (see :func:`seed`), and its
    text is the aware value's ``isoformat`` exactly."""
    if when.tzinfo is None:
        return when.isoformat(" ") + "+00:00"
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    return when.isoformat(" ") if w.sqlite else when


CN = dt.timedelta(hours=8)
"""China time's offset from UTC (fixed since 1991): generated instants are UTC, local dates add this."""


def _d(w: _Writer, day: dt.date | None) -> Any:
    if day is None:
        return None
    return day.isoformat() if w.sqlite else day


def _money(w: _Writer, value: Decimal | None) -> Any:
    if value is None:
        return None
    return str(value) if w.sqlite else value


CASE_COLS = ("id", "number", "room", "channel", "kind", "status", "state", "dispute_type", "code_list_version",
             "source", "summary", "claims", "amount", "people_count", "risk_flags", "intake", "deadline",
             "deadline_rule", "clock_started_on", "mediator", "created_by", "outcome", "outcome_reason",
             "suggested_route", "year", "seq", "registered_at", "accepted_at", "closed_at", "archived_at", "updated_at")
PARTY_COLS = ("id", "kind", "name", "id_number_masked", "phone_masked", "address", "created_at")
CASE_PARTY_COLS = ("id", "case", "party", "role", "consent")
EVENT_COLS = ("id", "case", "type", "transition", "from_state", "to_state", "actor", "actor_label", "data",
              "partner_event", "created_at")
SESSION_COLS = ("id", "case", "held_at", "place", "online", "attendees", "record", "outcome", "recorded_by",
                "created_at")
AGREEMENT_COLS = ("id", "case", "number", "form", "facts", "terms", "amount", "performance_method",
                  "performance_deadline", "signed_by_parties", "signed_by_mediator", "sealed", "signed_on",
                  "fulfilment", "created_at", "updated_at")


async def _ensure_world(reg: Registry, w: _Writer, n_cases: int, rng: random.Random) -> tuple[list[dict[str, Any]], int, list[tuple[str, str, str]]]:
    """Organisations (counties), rooms per enabled channel and users, created once (by code)."""
    from core.users import _hasher

    n_orgs = max(2, min(len(COUNTIES), n_cases // 30000 + 2))
    rooms_per_org = 3 if n_cases < 20000 else 10
    now = clock.now()
    channels = list(reg.channels)
    password_hash = None
    existing_orgs = {r[1]: r[0] for r in await w.fetch("SELECT id, code FROM core_organisation")}
    existing_rooms = {r[1]: r for r in await w.fetch("SELECT id, room_id, channel, number_prefix, organisation FROM core_room")}
    existing_users = {r[1]: r[0] for r in await w.fetch("SELECT id, username FROM core_user")}
    max_id = {t: (await w.fetch(f'SELECT COALESCE(MAX(id), 0) FROM "{t}"'))[0][0]
              for t in ("core_organisation", "core_room", "core_user")}
    orgs, rooms, users = [], [], []
    room_list = []
    for i in range(n_orgs):
        code = f"seed-county-{i + 1:02d}"
        if code not in existing_orgs:
            max_id["core_organisation"] += 1
            existing_orgs[code] = max_id["core_organisation"]
            orgs.append((existing_orgs[code], code, f"{COUNTIES[i]}县人民调解委员会", "township", f"{COUNTIES[i]}县",
                         _ts(w, now)))
        org_id = existing_orgs[code]
        for k in range(rooms_per_org):
            room_code = f"seed-{i + 1:02d}-{k + 1:02d}"
            channel = channels[k % len(channels)]
            if room_code in existing_rooms:
                rid, _, channel, prefix, _ = existing_rooms[room_code]
            else:
                max_id["core_room"] += 1
                rid = max_id["core_room"]
                prefix = f"{COUNTIES[i]}{k + 1}人调"
                rooms.append((rid, room_code, f"{COUNTIES[i]}县第{k + 1}调解室", org_id, channel, "", prefix, True,
                              _ts(w, now)))
            room_list.append({"id": rid, "room_id": room_code, "channel": channel, "prefix": prefix,
                              "organisation": org_id, "mediators": [], "weight": rng.uniform(0.3, 2.0)})
    logins: list[tuple[str, str, str]] = []

    def user(username: str, role: str, room: int | None, org: int | None, name: str) -> int:
        nonlocal password_hash
        if username in existing_users:
            return existing_users[username]
        if password_hash is None:
            password_hash = _hasher.hash(SEED_PASSWORD)
        max_id["core_user"] += 1
        existing_users[username] = max_id["core_user"]
        users.append((max_id["core_user"], username, name, password_hash, role, room, org, True, _ts(w, now)))
        return max_id["core_user"]

    user("seed-admin", "admin", None, None, "省级管理员（生成数据）")
    logins.append(("seed-admin", SEED_PASSWORD, "admin, every organisation"))
    for i in range(n_orgs):
        org_id = existing_orgs[f"seed-county-{i + 1:02d}"]
        first_room = next(r for r in room_list if r["organisation"] == org_id)
        user(f"seed-sup-{i + 1:02d}", "supervisor", first_room["id"], org_id, f"{COUNTIES[i]}县督导")
    logins.append(("seed-sup-01", SEED_PASSWORD, "supervisor of the first county"))
    for r in room_list:
        for m in range(3):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            r["mediators"].append(user(f"{r['room_id']}-m{m + 1}", "mediator", r["id"], r["organisation"],
                                       f"{name}（调解员）"))
    logins.append((f"{room_list[0]['room_id']}-m1", SEED_PASSWORD, "mediator of the first room"))
    await w.begin()
    await w.write("core_organisation", ("id", "code", "name", "kind", "region", "created_at"), orgs)
    await w.write("core_room", ("id", "room_id", "name", "organisation", "channel", "partner_agency", "number_prefix",
                                "active", "created_at"), rooms)
    await w.write("core_user", ("id", "username", "display_name", "password_hash", "role", "room", "organisation",
                                "active", "created_at"), users)
    await w.commit()
    return room_list, n_orgs, logins


async def _drop_random_indexes(w: _Writer) -> list[str]:
    """SQLite: drop the case table's non-unique indexes for the bulk load; returns their ``CREATE
    INDEX`` statements, to run after it (and before ``ANALYZE``).

    Their keys (room, channel, status, dispute type, deadline …) are random in load order, so each
    inserted case descends into a cold page of every one of them; building an index afterwards is
    one sort. The child tables' indexes are on the case id, which grows with the load: appended in
    order, they cost little to keep and stay. The definitions are read from ``sqlite_master``, so
    whatever the migrations define is put back exactly; unique indexes stay (they guard the data).
    PostgreSQL keeps its indexes (COPY into them is fast enough).
    """
    if not w.sqlite:
        return []
    rows = await w.fetch("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'core_case' "
                         "AND sql IS NOT NULL")
    deferred = []
    for name, sql in rows:
        if not sql.lstrip().upper().startswith("CREATE UNIQUE"):
            await w.execute(f'DROP INDEX "{name}"')
            deferred.append(sql)
    return deferred


async def _analyze_stats(url: str) -> None:
    """Planner statistics for the freshly rebuilt rollup tables."""
    w = _Writer(url)
    await w.open()
    try:
        for table in ("stats_rollup", "stats_indicator", "stats_conclusion"):
            await w.execute(f"ANALYZE {table}")
    finally:
        await w.close()


_names = random.Random(1)
NAMES = tuple(_names.choice(SURNAMES) + _names.choice(GIVEN) + (_names.choice(GIVEN) if _names.random() < 0.7 else "")
              for _ in range(5000))
COMPANIES = tuple(f"{c}{k}某某有限公司" for c in COUNTIES for k in ("建筑", "物业", "商贸", "运输"))


async def seed(
    reg: Registry,
    url: str,
    n_cases: int,
    *,
    first_year: int | None = None,
    last_year: int | None = None,
    rng_seed: int = 20261122,
    chunk: int = 20000,
    progress: Callable[[int], None] | None = None,
    rebuild: bool = True,
) -> SeedResult:
    """Write ``n_cases`` cases (and everything around them) into the database at ``url``.

    ``url`` must be the database the tables are configured for (``core.db.configure``): the rollups
    are rebuilt through it at the end.
    """
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    now = clock.now()
    last_year = last_year or now.year
    first_year = first_year or last_year - 2
    now = now.astimezone(UTC)
    t0 = dt.datetime(first_year, 1, 1, tzinfo=clock.TZ).astimezone(UTC)
    t1 = min(dt.datetime(last_year + 1, 1, 1, tzinfo=clock.TZ).astimezone(UTC), now)
    span = (t1 - t0).total_seconds()
    if span <= 0:
        raise ValueError("the years given lie in the future")
    w = _Writer(url)
    await w.open()
    if w.sqlite:
        # The generator process bounds the load, and ~14 timestamps per case are turned into text:
        # isoformat() of an aware datetime costs twice that of a naive one (it asks its tzinfo each
        # time). SQLite gets UTC text anyway, so its cases are generated in naive UTC — the same
        # instants, the same text (_ts appends "+00:00"). PostgreSQL keeps aware datetimes for COPY.
        t0, now = t0.replace(tzinfo=None), now.replace(tzinfo=None)
    result = SeedResult()
    try:
        rooms, result.organisations, result.logins = await _ensure_world(reg, w, n_cases, rng)
        result.rooms = len(rooms)
        paths = {ch: _paths(reg.protocol(ch)) for ch in reg.channels}
        initials = {ch: reg.protocol(ch).initial for ch in reg.channels}  # a case not yet moved stays here
        forms = {ch: reg.forms_for(ch) for ch in reg.channels}
        intake = {(f.channel, f.kind): sample_intake(f.schema) for fl in forms.values() for f in fl}
        sources = {ch: c.case_source for ch, c in reg.channels.items()}
        codes = [c for c in DISPUTE_WEIGHTS if reg.codes.has("dispute_type", c)]
        weights = list(itertools.accumulate(DISPUTE_WEIGHTS[c] for c in codes))  # cumulative
        room_weights = list(itertools.accumulate(r["weight"] for r in rooms))
        ids = {t: (await w.fetch(f'SELECT COALESCE(MAX(id), 0) FROM "{t}"'))[0][0] for t in
               ("core_case", "core_party", "core_case_party", "core_case_event", "core_session", "core_agreement")}
        counters = {r[0]: r[1] for r in await w.fetch("SELECT key, last FROM core_case_counter")}
        version = reg.codes.version
        rule_of = {(f.channel, f.kind): f.deadline_rule for fl in forms.values() for f in fl}
        statuses = {ch: {st.key: st.status.value for st in p.states} for ch, p in reg.protocols.items()}
        done = 0
        def generate(size: int, done: int) -> dict[str, list[tuple[Any, ...]]]:
            # registration instants of this chunk, ascending (ids grow with time, as in real use)
            lo, hi = done / n_cases, (done + size) / n_cases
            instants = sorted(t0 + dt.timedelta(seconds=span * (lo + (hi - lo) * rng.random())) for _ in range(size))
            rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            for reg_at in instants:
                _one_case(w, rng, reg_at, now, rooms, room_weights, paths, forms, intake, sources, codes, weights,
                          ids, counters, rows, version, rule_of, reg.settings.case_number_format, statuses,
                          initials)
            return rows

        # Generation runs in a forked process (the data it needs is inherited, not pickled) while this
        # one writes: on two cores the Python work and the database work overlap.
        import multiprocessing

        mp = multiprocessing.get_context("fork")
        queue = mp.Queue(maxsize=4)

        def produce() -> None:
            made = 0
            while made < n_cases:
                size = min(chunk, n_cases - made)
                queue.put((size, dict(generate(size, made))))
                made += size
            queue.put((0, {"counters": counters}))

        child = mp.Process(target=produce, daemon=True)
        child.start()
        deferred = await _drop_random_indexes(w)
        # With the generator this fast, this process bounds the load: it unpickles a chunk, then
        # writes it. The next chunk is fetched (and unpickled, in a thread) while this one is written
        # — SQLite releases the GIL while it works.
        pending: asyncio.Future[Any] | None = asyncio.ensure_future(asyncio.to_thread(queue.get))
        try:
            while True:
                assert pending is not None
                size, rows = await pending
                pending = None
                if not size:
                    counters.update(rows["counters"])
                    break
                pending = asyncio.ensure_future(asyncio.to_thread(queue.get))
                await w.write_chunk([
                    ("core_case", CASE_COLS, rows.get("core_case", [])),
                    ("core_party", PARTY_COLS, rows.get("core_party", [])),
                    ("core_case_party", CASE_PARTY_COLS, rows.get("core_case_party", [])),
                    ("core_case_event", EVENT_COLS, rows.get("core_case_event", [])),
                    ("core_session", SESSION_COLS, rows.get("core_session", [])),
                    ("core_agreement", AGREEMENT_COLS, rows.get("core_agreement", []))])
                for table, r in rows.items():
                    result.rows[table] += len(r)
                done += size
                if progress:
                    progress(size)
        finally:
            if pending is not None:  # a failed write: stop the generator, release the waiting thread
                child.terminate()
                queue.put((0, {"counters": {}}))
                await asyncio.wait({pending}, timeout=30)  # best effort: never mask the failure
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
            for sql in deferred:  # also after a failure: the schema stays whole
                await w.execute(sql)
        await w.begin()
        for key, last in counters.items():
            if w.sqlite:
                await w.execute(f"INSERT INTO core_case_counter (key, last) VALUES ('{key}', {last}) "
                                f"ON CONFLICT (key) DO UPDATE SET last = MAX(core_case_counter.last, excluded.last)")
            else:
                await w.con.execute("INSERT INTO core_case_counter (key, last) VALUES ($1, $2) ON CONFLICT (key) "
                                    "DO UPDATE SET last = GREATEST(core_case_counter.last, excluded.last)", key, last)
        await w.commit()
        if not w.sqlite:
            for table in ("core_organisation", "core_room", "core_user", *ids):
                await w.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        if not w.sqlite:
            # mark the freshly loaded pages all-visible, so that index-only scans (the live statistics'
            # covering index on core_case) need not visit the heap; autovacuum would get there later
            await w.execute("VACUUM core_case")
        await w.execute("ANALYZE")
    finally:
        await w.close()
    result.cases = n_cases
    if rebuild:
        from core.statistics.rollups import rebuild_rollups

        r0 = time.perf_counter()
        await rebuild_rollups(reg)
        await _analyze_stats(url)
        result.rebuild_seconds = time.perf_counter() - r0
    result.seconds = time.perf_counter() - started
    return result


def _one_case(w: _Writer, rng: random.Random, reg_at: dt.datetime, now: dt.datetime, rooms: list[dict[str, Any]],
              room_weights: list[float], paths: dict[str, dict[str, list[Any]]], forms: dict[str, list[Any]],
              intake: dict[tuple[str, str], str], sources: dict[str, str], codes: list[str], weights: list[int],
              ids: dict[str, int], counters: dict[str, int], rows: dict[str, list[tuple[Any, ...]]], version: str,
              rule_of: dict[tuple[str, str], str], number_format: str, statuses: dict[str, dict[str, str]],
              initials: dict[str, str]) -> None:
    random_ = rng.random
    room = rng.choices(rooms, cum_weights=room_weights)[0]
    channel = room["channel"]
    form = rng.choice(forms[channel])
    dispute = rng.choices(codes, cum_weights=weights)[0]
    source = sources[channel]
    if channel == "general" and random_() < 0.3:
        source = "self_initiated"
    age_days = (now - reg_at).total_seconds() / 86400
    # how far the case got: older cases are concluded, recent ones often still open
    p_open = 0.85 if age_days < 7 else 0.45 if age_days < 30 else 0.12 if age_days < 90 else 0.0
    channel_paths = paths[channel]
    u = random_()
    if u < p_open:
        target = rng.choice(("registered", "accepted", "in_mediation", "in_mediation"))
    else:
        v = random_()
        target = ("settled" if v < 0.72 else "not_settled" if v < 0.83 else "not_settled_early" if v < 0.86
                  else "withdrawn" if v < 0.90 else "withdrawn_early" if v < 0.93 else "declined")
        if age_days > 60:
            target += "+archived" if age_days > 120 else "+closed"
    path = channel_paths.get(target) or channel_paths.get(target.split("+")[0]) or []
    people = 2 if random_() < 0.8 else rng.randint(3, 6) if random_() < 0.85 else rng.randint(10, 60)
    flags = []
    if people >= 10:
        flags.append("group_dispute")
    if dispute in ("damages", "neighbour", "marriage_family") and random_() < 0.05:
        flags.append("may_turn_criminal")
    if random_() < 0.03:
        flags.append("may_escalate")
    claimed = None
    if random_() < 0.65:
        claimed = Decimal(f"{int(rng.lognormvariate(8.5, 1.2))}.{int(random_() * 100):02d}")
    mediators = room["mediators"]
    mediator = rng.choice(mediators)
    year = (reg_at + CN).year
    key = f"{room['prefix']}|{year}"
    seq = counters.get(key, 0) + 1
    counters[key] = seq
    ids["core_case"] += 1
    case_id = ids["core_case"]
    number = format_number(number_format, year=year, prefix=room["prefix"], seq=seq)
    # events
    events = rows["core_case_event"]
    ts = _ts
    reg_ts = ts(w, reg_at)
    ids["core_case_event"] += 1
    events.append((ids["core_case_event"], case_id, "case.registered", "", "", path[0].sources[0] if path else initials[channel],
                   mediator, "", f'{{"number":"{number}","channel":"{channel}","kind":"{form.kind}"}}', False, reg_ts))
    at = reg_at
    accepted_at = closed_at = archived_at = None
    outcome = outcome_reason = route = ""
    agreement_amount = None
    state = path[0].sources[0] if path else initials[channel]
    status = "registered"
    for t in path:
        at = at + dt.timedelta(hours=rng.uniform(2, 24 * (10 if t.target in ("settled", "not_settled") else 3)))
        if at > now:
            break
        data: dict[str, Any] = {}
        new_status = statuses[channel][t.target]
        if new_status == "in_mediation" and status != "in_mediation":
            held = at + dt.timedelta(hours=rng.uniform(1, 72))
            if held < now:
                ids["core_session"] += 1
                rows["core_session"].append((ids["core_session"], case_id, ts(w, held), "调解室", False,
                                             "双方当事人、调解员", "双方陈述各自意见，调解员释法明理。", "continue",
                                             mediator, ts(w, held)))
                ids["core_case_event"] += 1
                events.append((ids["core_case_event"], case_id, "case.session_recorded", "", "", "", mediator, "",
                               "{}", False, ts(w, held)))
                at = max(at, held)
        if new_status == "accepted":
            accepted_at = at
        elif new_status == "declined":
            outcome, outcome_reason = "declined", "不属于人民调解受理范围"
            data = {"reason": outcome_reason, "advice": "建议向有关部门反映"}
        elif new_status == "not_settled":
            outcome, outcome_reason = "not_settled", "双方分歧较大"
            route = rng.choice(("litigation", "litigation", "arbitration", "administrative_review", "other"))
            data = {"reason": outcome_reason, "route": route}
        elif new_status == "withdrawn":
            outcome, outcome_reason = "withdrawn", "当事人自行和解"
            data = {"reason": outcome_reason}
        elif new_status == "settled" and status != "settled":  # not again on settled → settled steps (备案 …)
            oral = random_() < 0.25
            outcome = "settled_oral" if oral else "settled_written"
            if claimed is not None and random_() < 0.85:
                agreement_amount = (claimed * Decimal(50 + int(random_() * 51)) / 100).quantize(Decimal("0.01"))
            signed = (at + CN).date()
            deadline = signed + dt.timedelta(days=rng.choice((7, 10, 15, 30)))
            age = (now - at).days
            fulfilment = ("performed" if random_() < 0.88 else rng.choice(("partial", "breached", "pending"))) \
                if age > 45 else ("performed" if random_() < 0.3 else "pending")
            ids["core_agreement"] += 1
            a_number = number.replace("字第", "协字第", 1) if "字第" in number else number + "-协"
            rows["core_agreement"].append((
                ids["core_agreement"], case_id, a_number, "oral" if oral else "written",
                "" if oral else "双方确认纠纷事实及各自责任", "双方自愿达成协议，" + (
                    f"一方于{deadline}前支付{agreement_amount}元" if agreement_amount else "互相谅解、停止侵害"),
                _money(w, agreement_amount), "" if oral else "一次性支付", _d(w, deadline), True, True, not oral,
                _d(w, signed), fulfilment, ts(w, at), ts(w, at)))
            data = {"agreement": {"number": a_number, "date": signed.isoformat(), "terms": "",
                                  "amount": None if agreement_amount is None else f"{agreement_amount:.2f}",
                                  "performance_deadline": deadline.isoformat()}}
        elif new_status == "closed":
            closed_at = at
        elif new_status == "archived":
            archived_at = at
        ids["core_case_event"] += 1
        events.append((ids["core_case_event"], case_id, t.event, t.key, state, t.target, mediator, "",
                       msgspec.json.encode(data).decode(), False, ts(w, at)))
        state, status = t.target, new_status
    rule = rule_of.get((channel, form.kind), "")
    started = (accepted_at + CN).date() if accepted_at else None
    deadline = (started or (reg_at + CN).date()) + dt.timedelta(days=30)
    summary = SUMMARIES.get(dispute, "当事人就{x}问题发生纠纷，申请调解").format(x=rng.choice(TOPICS))
    rows["core_case"].append((
        case_id, number, room["id"], channel, form.kind, status, state, dispute, version, source, summary,
        "请求调解解决" if random_() < 0.5 else "", _money(w, claimed), people, msgspec.json.encode(flags).decode(),
        intake[(channel, form.kind)], _d(w, deadline), rule, _d(w, started),
        mediator if accepted_at or status != "registered" else None, mediator, outcome, outcome_reason, route,
        year, seq, reg_ts, ts(w, accepted_at) if accepted_at else None, ts(w, closed_at) if closed_at else None,
        ts(w, archived_at) if archived_at else None, ts(w, at)))
    applicant = NAMES[int(random_() * len(NAMES))]
    respondent = NAMES[int(random_() * len(NAMES))] if random_() < 0.85 else COMPANIES[int(random_() * len(COMPANIES))]
    for role, name in (("applicant", applicant), ("respondent", respondent)):
        ids["core_party"] += 1
        person = not name.endswith("公司")
        rows["core_party"].append((ids["core_party"], "person" if person else "organization", name,
                                   f"4203**********{1000 + int(random_() * 9000)}" if person else "",
                                   f"138****{1000 + int(random_() * 9000)}", "", reg_ts))
        ids["core_case_party"] += 1
        rows["core_case_party"].append((ids["core_case_party"], case_id, ids["core_party"], role, "agreed"))



def parse_years(value: str | None, today: dt.date | None = None) -> tuple[int, int]:
    """``"2022-2026"``, ``"2025"`` or ``None`` (the last three years, this one included)."""
    today = today or clock.today()
    if not value:
        return today.year - 2, today.year
    first, _, last = value.partition("-")
    try:
        a, b = int(first), int(last or first)
    except ValueError:
        raise ValueError(f"--years must look like 2022-2026 or 2025, got {value!r}") from None
    if not 2000 <= a <= b <= today.year:
        raise ValueError(f"--years must lie between 2000 and {today.year}, first year first")
    return a, b


async def seed_with_progress(reg: Registry, url: str, cases: int, years: str | None = None,
                             rng_seed: int = 20261122) -> SeedResult:
    """:func:`seed` with a rich progress bar and a summary on the terminal (``fengqiao seed``)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    first, last = parse_years(years)
    console = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"cases {first}–{last}", total=cases)
        result = await seed(reg, url, cases, first_year=first, last_year=last, rng_seed=rng_seed,
                            progress=lambda n: progress.advance(task, n), rebuild=False)
        task2 = progress.add_task("statistics rollups", total=1)
        from core.statistics.rollups import rebuild_rollups

        r0 = time.perf_counter()
        await rebuild_rollups(reg)
        await _analyze_stats(url)
        result.rebuild_seconds = time.perf_counter() - r0
        result.seconds += result.rebuild_seconds
        progress.advance(task2, 1)
    return result
