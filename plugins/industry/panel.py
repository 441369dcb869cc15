"""The committee panel on a case page (a ``fengqiao_case_panels`` slot): sector body, notices,
consultations and the committee's own template."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from core.i18n import setup_jinja
from core import clock
from core.sql import fetch_many
from plugins.industry.model import Committee

__all__ = ["committee_panel", "notices_for", "render_own_template"]

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=32)
def _env(directory: str) -> jinja2.Environment:
    return setup_jinja(jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=True,
                                          undefined=jinja2.ChainableUndefined))


def render_own_template(path: Path, **context: Any) -> Markup:
    """Render a committee's own Jinja template (autoescaped) with ``context``."""
    path = Path(path)
    return Markup(_env(str(path.parent)).get_template(path.name).render(**context))


def notices_for(c: Committee, case: dict[str, Any]) -> list[str]:
    """The committee's advice for ``case`` (``overdue`` is added: the main clock's due date has passed)."""
    if c.notices is None:
        return []
    deadline = case.get("deadline")
    view = {**case, "overdue": bool(deadline and case.get("clock_started_on") and deadline < clock.today())}
    return list(c.notices(view))


async def committee_panel(registry: Any, c: Committee, case: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    from plugins.industry.experts import case_pool_read, consultations_for_case, consultations_read, pool_from

    notices = notices_for(c, case)
    # the committee is the case's channel: both by the case's id, as the case page's batch read them
    consultation_rows, pool_rows = await fetch_many(consultations_read(int(case["id"])), case_pool_read(int(case["id"])))
    consultations = await consultations_for_case(c, int(case["id"]), consultation_rows)
    own = render_own_template(c.panel_template, case=case, intake=case.get("intake") or {}, committee=c) if (
        c.panel_template) else Markup("")
    html = render_own_template(TEMPLATES / "_panel.html", case=case, committee=c, notices=notices, own=own,
                               consultations=consultations, pool=pool_from(c, pool_rows),
                               csrf_token=user.get("csrf_token", ""))
    return {"title": c.name, "html": html}
