"""The baseline for the case page: a bare Litestar + Jinja app that reads the same rows as Fengqiao's
case page (the case and its room, parties, sessions, agreement, event log) with plain SQL, and renders
them with one template. No sessions, CSRF, plugins, scope checks, clocks or audit — that difference is
what the benchmark measures. SQLite: one aiosqlite connection per request (as Piccolo opens
connections); PostgreSQL: an asyncpg pool of the same size as Fengqiao's."""

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

CASE = ("SELECT c.*, r.name AS room_name, r.room_id AS room_key FROM core_case c JOIN core_room r ON r.id = c.room "
        "WHERE c.id = {}")
PARTIES = ("SELECT cp.id, cp.role, cp.consent, p.kind, p.name, p.id_number_masked, p.phone_masked, p.address "
           'FROM core_case_party cp JOIN core_party p ON p.id = cp.party WHERE cp."case" = {} ORDER BY cp.id')
SESSIONS = ("SELECT s.*, u.display_name AS recorder FROM core_session s LEFT JOIN core_user u ON u.id = s.recorded_by "
            'WHERE s."case" = {} ORDER BY s.held_at')
AGREEMENT = 'SELECT * FROM core_agreement WHERE "case" = {}'
EVENTS = ("SELECT e.*, u.display_name AS actor_name FROM core_case_event e LEFT JOIN core_user u ON u.id = e.actor "
          'WHERE e."case" = {} ORDER BY e.id')


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

    async def read(case_id: int) -> dict[str, Any]:
        if sqlite:
            import aiosqlite

            async with aiosqlite.connect(unquote(url.removeprefix("sqlite:///"))) as con:
                con.row_factory = aiosqlite.Row

                async def q(sql: str) -> list[dict[str, Any]]:
                    async with con.execute(sql.replace("{}", "?"), (case_id,)) as cur:
                        return [dict(r) for r in await cur.fetchall()]

                return {"case": await q(CASE), "parties": await q(PARTIES), "sessions": await q(SESSIONS),
                        "agreement": await q(AGREEMENT), "events": await q(EVENTS)}
        async with state["pool"].acquire() as con:
            async def q(sql: str) -> list[dict[str, Any]]:
                return [dict(r) for r in await con.fetch(sql.replace("{}", "$1"), case_id)]

            return {"case": await q(CASE), "parties": await q(PARTIES), "sessions": await q(SESSIONS),
                    "agreement": await q(AGREEMENT), "events": await q(EVENTS)}

    @get("/cases/{case_id:int}", sync_to_thread=False)
    async def case_page(case_id: int) -> Template:
        data = await read(case_id)
        if not data["case"]:
            raise NotFoundException()
        return Template("bare_case.html", context={"case": data["case"][0], "parties": data["parties"],
                                                   "sessions": data["sessions"],
                                                   "agreement": (data["agreement"] or [None])[0],
                                                   "events": data["events"]})

    return Litestar(route_handlers=[case_page], on_startup=[startup], on_shutdown=[shutdown],
                    template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine))
