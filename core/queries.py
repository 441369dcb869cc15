"""Read-side queries for pages: case lists with filters and keyset pagination, the dashboard,
and the full case file. Every query is scoped with :func:`core.access.case_scope`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString

from core import clock
from core.access import UserCtx, case_scope, room_scope
from core.followups import followups_read
from core.lifecycle import OPEN_STATUSES
from core.sql import Read, fetch, fetch_many, rows_read
from core.tables import Agreement, Case, CaseEvent, CaseParty, MediationSession, Room

__all__ = ["CaseFilters", "list_cases", "dashboard", "case_file", "reusing_case_file", "visible_rooms", "PAGE_SIZE"]

PAGE_SIZE = 25
COUNT_CAP = 10_000
NULL_DEADLINES_LAST = QueryString('"core_case"."deadline" IS NULL')
LIST_COLUMNS = (
    Case.id, Case.number, Case.channel, Case.kind, Case.status, Case.state, Case.dispute_type,
    Case.summary, Case.deadline, Case.registered_at, Case.amount, Case.room.name.as_alias("room_name"),
)


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""
    channel: str = ""
    dispute_type: str = ""
    room: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    urgent: bool = False
    """Only open cases that are overdue or due within 3 days."""
    sort: str = "newest"  # newest | deadline


def _scope(user: UserCtx) -> Any:
    """:func:`core.access.case_scope`, with a supervisor's organisation as a sub-query over rooms rather
    than a join, so PostgreSQL can walk the ``(room, id)`` index instead of joining every case to its room
    (same rows: ``room`` is never null)."""
    if user.role == "supervisor" and user.organisation is not None:
        return Case.room.is_in(Room.select(Room.id).where(Room.organisation == user.organisation))
    return case_scope(user)


def _where(user: UserCtx, f: CaseFilters) -> list[Any]:
    clauses = [_scope(user)]
    if f.status == "open":
        clauses.append(Case.status.is_in([s.value for s in OPEN_STATUSES]))
    elif f.status:
        clauses.append(Case.status == f.status)
    if f.channel:
        clauses.append(Case.channel == f.channel)
    if f.dispute_type:
        clauses.append(Case.dispute_type == f.dispute_type)
    if f.room is not None:
        clauses.append(Case.room == f.room)
    if f.date_from:
        clauses.append(Case.registered_at >= dt.datetime.combine(f.date_from, dt.time(), clock.TZ))
    if f.date_to:
        clauses.append(Case.registered_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time(), clock.TZ))
    if f.urgent:
        clauses.append(Case.status.is_in([s.value for s in OPEN_STATUSES]))
        clauses.append(Case.deadline <= clock.today() + dt.timedelta(days=3))
    if f.q:
        like = "%" + f.q.replace("%", "").replace("_", "") + "%"
        party_cases = CaseParty.select(CaseParty.case).where(CaseParty.party.name.like(like))
        clauses.append((Case.number.like(like)) | (Case.summary.like(like)) | (Case.id.is_in(party_cases)))
    return clauses


def _encode_cursor(row: dict[str, Any], sort: str) -> str:
    key = f"{row['deadline'] or ''}|{row['id']}" if sort == "deadline" else str(row["id"])
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if sort == "deadline":
            d, _, i = raw.partition("|")
            return (dt.date.fromisoformat(d) if d else None, int(i))
        return int(raw)
    except (ValueError, UnicodeDecodeError):
        return None


async def list_cases(
    user: UserCtx, f: CaseFilters, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], str | None, int]:
    """One page of cases, the cursor of the next page (or ``None``) and the total count (capped at
    ``COUNT_CAP + 1``, meaning "more than COUNT_CAP").

    Keyset pagination: ``newest`` orders by id descending; ``deadline`` by due date ascending
    (cases without a deadline last), then id.
    """
    clauses = _where(user, f)
    # a capped count: exact up to COUNT_CAP, then shown as "COUNT_CAP+" (a full COUNT(*) over a
    # province's millions of cases would cost more than the keyset page itself)
    total = await _capped_count(clauses)
    query = Case.select(*LIST_COLUMNS).where(*clauses)
    pos = _decode_cursor(cursor, f.sort) if cursor else None
    if f.sort == "deadline":
        # deadline NULLs sort last: split into (has deadline) then (no deadline)
        if pos is not None:
            d, i = pos
            if d is None:
                query = query.where(Case.deadline.is_null(), Case.id > i)
            else:
                query = query.where(
                    (Case.deadline.is_null())
                    | (Case.deadline > d)
                    | ((Case.deadline == d) & (Case.id > i))
                )
        rows = await query.order_by(NULL_DEADLINES_LAST).order_by(Case.deadline, Case.id).limit(limit + 1)
    else:
        if isinstance(pos, int):
            query = query.where(Case.id < pos)
        rows = await query.order_by(Case.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1], f.sort) if more and rows else None), total


async def _capped_count(clauses: list[Any]) -> int:
    """``min(COUNT(*), COUNT_CAP + 1)`` counted by the database (fetching up to 10,001 ids to count them in
    Python cost ~30 ms at a million cases)."""
    inner = Case.select(Case.id).where(*clauses).limit(COUNT_CAP + 1)
    rows = await Case._meta.db.run_querystring(
        QueryString("SELECT COUNT(*) AS n FROM ({}) AS capped", inner.querystrings[0]))
    return int(rows[0]["n"])


async def dashboard(user: UserCtx, limit: int = 50) -> dict[str, Any]:
    """Open cases of the user's scope, most urgent first, with counts for the day."""
    today = clock.today()
    scope = case_scope(user)
    open_ = Case.status.is_in([s.value for s in OPEN_STATUSES])
    rows = await (
        Case.select(*LIST_COLUMNS)
        .where(scope, open_)
        .order_by(NULL_DEADLINES_LAST)
        .order_by(Case.deadline, Case.id)
        .limit(limit)
    )
    counts = {
        "open": await Case.count().where(scope, open_),
        "overdue": await Case.count().where(scope, open_, Case.deadline < today),
        "due_today": await Case.count().where(scope, open_, Case.deadline == today),
        "due_soon": await Case.count().where(
            scope, open_, Case.deadline > today, Case.deadline <= today + dt.timedelta(days=3)
        ),
        "to_accept": await Case.count().where(scope, Case.status == "registered"),
    }
    return {"cases": rows, "counts": counts, "today": today}


_PARTY_SECRET = ("id_number_enc", "phone_enc", "id_number_index")


@functools.cache
def _parties_sql() -> str:
    from core.tables import Party

    cols = [c._meta.db_column_name for c in Party._meta.columns if c._meta.db_column_name not in _PARTY_SECRET]
    return ("SELECT cp.id, cp.role, cp.consent, " + ", ".join(f'p."{c}" AS "party.{c}"' for c in cols)
            + ' FROM core_case_party cp LEFT JOIN core_party p ON p.id = cp.party WHERE cp."case" = {} ORDER BY cp.id')


_loaded: ContextVar[tuple[int, Mapping[str, Any]] | None] = ContextVar("fq_loaded_case_file", default=None)


@contextmanager
def reusing_case_file(case_id: int, file: Mapping[str, Any]) -> Iterator[None]:
    """Within this block, :func:`case_file` of ``case_id`` returns ``file`` (what it returned before,
    read in the same snapshot) instead of reading it again: the case page wraps its panels and
    transition guards in it, and each of them asks for the parts of the file it needs."""
    token = _loaded.set((int(case_id), file))
    try:
        yield
    finally:
        _loaded.reset(token)


def case_file_reads(case_id: int) -> tuple[Read, ...]:
    """The statements of :func:`case_file`, to batch with others (the case page adds its own)."""
    return (
        Read(_parties_sql(), (case_id,)),
        rows_read(MediationSession, "case", case_id, user_names=[("recorder", "recorded_by")], order_by="held_at"),
        rows_read(Agreement, "case", case_id, order_by="", limit=1),
        rows_read(CaseEvent, "case", case_id, user_names=[("actor_name", "actor")], load_json=True),
        followups_read(case_id),
    )


def assemble_case_file(rows: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """The case file from the rows of :func:`case_file_reads`, in their order."""
    party_rows, sessions, agreement, events, followups = rows
    parties = []
    for row in party_rows:
        party = {k[6:]: v for k, v in row.items() if k.startswith("party.")}
        parties.append({"id": row["id"], "role": row["role"], "consent": row["consent"], "party": party})
    return {"parties": parties, "sessions": sessions, "agreement": (agreement or [None])[0], "events": events,
            "followups": followups}


async def case_file(case_id: int) -> Mapping[str, Any]:
    """Parties, sessions, agreement, timeline and follow-ups (回访, with the visitor's name) of a case
    already loaded with scope checks.

    Plain SQL (``core.sql``), in one batch: this runs on every view of the case page. Parties come
    nested (``party``: the person, without the encrypted columns), as Piccolo's ``output(nested=True)``
    gave them. Inside :func:`reusing_case_file` for this case, the file given there.
    """
    loaded = _loaded.get()
    if loaded is not None and loaded[0] == int(case_id):
        return loaded[1]
    return assemble_case_file(await fetch_many(*case_file_reads(case_id)))


async def visible_rooms(user: UserCtx) -> list[dict[str, Any]]:
    return await Room.select().where(room_scope(user)).order_by(Room.name)
