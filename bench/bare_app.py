"""The baseline for the case page: a bare Litestar + Jinja app that reads the same rows as Fengqiao's
case page with plain SQL and renders them with one template.

"The same rows" means every row set the case page reads for a case (its SQL log, see
``bench/casepage.py --log``): the case and its room, parties, sessions, agreement, event log, follow-ups,
risk warnings and their notices, recusals, the mediator's name, clock entries, the 卷宗 items,
signature records and archive seal, the online-service links; for an industry committee's case its
consultations and expert pool; for an open case the assignment suggestions (the organisation's
mediators, their profiles and open caseloads). No sessions, CSRF, plugins, scope checks, clocks,
translations or audit — that difference is what the benchmark measures. Connections are reused as
Fengqiao reuses them: SQLite, aiosqlite connections kept after each request (``core.db``'s pool),
one read transaction per page; PostgreSQL, an asyncpg pool of the same size as Fengqiao's."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

HERE = Path(__file__).parent

CASE = ("SELECT c.*, r.name AS room_name, r.room_id AS room_key, r.organisation AS organisation FROM core_case c "
        "JOIN core_room r ON r.id = c.room WHERE c.id = {}")
PER_CASE = {
    "parties": ("SELECT cp.id, cp.role, cp.consent, p.kind, p.name, p.gender, p.ethnicity, p.id_number_masked, "
                "p.phone_masked, p.credit_code, p.address FROM core_case_party cp JOIN core_party p "
                'ON p.id = cp.party WHERE cp."case" = {} ORDER BY cp.id'),
    "sessions": ("SELECT s.*, u.display_name AS recorder FROM core_session s LEFT JOIN core_user u "
                 'ON u.id = s.recorded_by WHERE s."case" = {} ORDER BY s.held_at'),
    "agreement": 'SELECT * FROM core_agreement WHERE "case" = {} LIMIT 1',
    "events": ("SELECT e.*, u.display_name AS actor_name FROM core_case_event e LEFT JOIN core_user u "
               'ON u.id = e.actor WHERE e."case" = {} ORDER BY e.id'),
    "followups": ("SELECT f.*, u.display_name AS visitor_name FROM core_followup f LEFT JOIN core_user u "
                  'ON u.id = f.visitor WHERE f."case" = {} ORDER BY f.id'),
    "warnings": ("SELECT w.*, u.display_name AS raiser FROM core_risk_warning w LEFT JOIN core_user u "
                 'ON u.id = w.raised_by WHERE w."case" = {} ORDER BY w.id'),
    "notices": ("SELECT n.* FROM core_warning_notice n JOIN core_risk_warning w ON w.id = n.warning "
                'WHERE w."case" = {} ORDER BY n.id'),
    "recusals": ('SELECT r.reason, r.created_at, r."user", u.display_name AS name FROM core_recusal r '
                 'LEFT JOIN core_user u ON u.id = r."user" WHERE r."case" = {} ORDER BY r.id'),
    "clock": ("SELECT k.*, u.display_name AS recorder FROM core_case_clock_entry k LEFT JOIN core_user u "
              'ON u.id = k.recorded_by WHERE k."case" = {} ORDER BY k.id'),
    "file_items": 'SELECT * FROM documents_file_item WHERE "case" = {} ORDER BY id',
    "signatures": 'SELECT * FROM documents_signature WHERE "case" = {} ORDER BY id',
    "archive": 'SELECT sha256 FROM documents_archive WHERE "case" = {} LIMIT 1',
    "links": ("SELECT l.id, l.case_party, l.created_at, l.expires_at, l.revoked, l.verified_at, p.name "
              "FROM online_party_link l LEFT JOIN core_case_party cp ON cp.id = l.case_party "
              'LEFT JOIN core_party p ON p.id = cp.party WHERE l."case" = {} ORDER BY l.id'),
}
MEDIATOR = "SELECT display_name FROM core_user WHERE id = {}"
CONSULTATIONS = 'SELECT * FROM industry_consultation WHERE "case" = {} ORDER BY id'
EXPERTS = "SELECT category, COUNT(*) AS n FROM industry_expert WHERE committee = {} AND active = {} GROUP BY category"
MEDIATORS = ("SELECT u.id, u.display_name, r.name AS room_name FROM core_user u JOIN core_room r ON r.id = u.room "
             "WHERE u.role = 'mediator' AND u.active = {} AND (r.id = {} OR r.organisation = "
             "(SELECT organisation FROM core_room WHERE id = {}))")
PROFILES = 'SELECT * FROM core_mediator_profile WHERE "user" IN ({})'
LOADS = ("SELECT mediator, COUNT(*) AS n FROM core_case WHERE status IN ('registered', 'accepted', 'in_mediation') "
         "AND mediator IN ({}) GROUP BY mediator")
INDUSTRY = {"medical", "traffic", "labour", "property", "tourism"}
OPEN = {"registered", "accepted", "in_mediation"}


def create(url: str) -> Litestar:
    sqlite = url.startswith("sqlite:///")
    state: dict[str, Any] = {}

    async def startup() -> None:
        if not sqlite:
            import asyncpg

            state["pool"] = await asyncpg.create_pool(url, min_size=1, max_size=20)

    async def shutdown() -> None:
        if "pool" in state:
            await state["pool"].close()
        for con in state.get("idle", []):
            await con.close()

    async def read(case_id: int) -> dict[str, Any]:
        if sqlite:
            import aiosqlite

            idle = state.setdefault("idle", [])
            con = idle.pop() if idle else await aiosqlite.connect(unquote(url.removeprefix("sqlite:///")))
            con.row_factory = aiosqlite.Row

            async def q(sql: str, *args: Any) -> list[dict[str, Any]]:
                return [dict(r) for r in await con.execute_fetchall(sql.replace("{}", "?"), args)]

            await con.execute("BEGIN DEFERRED")
            try:
                return await gather(q, case_id)
            finally:
                await con.execute("COMMIT")
                idle.append(con)
        async with state["pool"].acquire() as con:
            async def q(sql: str, *args: Any) -> list[dict[str, Any]]:
                n = iter(range(1, 100))
                text = "".join(part + (f"${next(n)}" if i < sql.count("{}") else "")
                               for i, part in enumerate(sql.split("{}")))
                return [dict(r) for r in await con.fetch(text, *args)]

            async with con.transaction(isolation="repeatable_read", readonly=True):
                return await gather(q, case_id)

    async def gather(q: Any, case_id: int) -> dict[str, Any]:
        rows = await q(CASE, case_id)
        if not rows:
            return {}
        case = rows[0]
        data: dict[str, Any] = {"case": case}
        for key, sql in PER_CASE.items():
            data[key] = await q(sql, case_id)
        data["mediator"] = await q(MEDIATOR, case["mediator"]) if case["mediator"] else []
        if case["channel"] in INDUSTRY:
            data["consultations"] = await q(CONSULTATIONS, case_id)
            data["experts"] = await q(EXPERTS, case["channel"], True)
        if case["status"] in OPEN:
            mediators = await q(MEDIATORS, True, case["room"], case["room"])
            ids = [m["id"] for m in mediators] or [-1]
            marks = ", ".join("{}" for _ in ids)
            data["profiles"] = await q(PROFILES.format(marks), *ids)
            data["loads"] = await q(LOADS.format(marks), *ids)
            data["mediators"] = mediators
        return data

    @get("/cases/{case_id:int}")
    async def case_page(case_id: int) -> Template:
        data = await read(case_id)
        if not data:
            raise NotFoundException()
        return Template("bare_case.html", context={**data, "agreement": (data["agreement"] or [None])[0]})

    return Litestar(route_handlers=[case_page], on_startup=[startup], on_shutdown=[shutdown],
                    template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine))
