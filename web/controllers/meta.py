"""The ``/-/`` pages: loaded plugins, health."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from core.access import UserCtx
from core.deadlines import rule_table
from core.plugins import plugin_infos
from web.auth import current_user, requires_login
from web.rendering import render
from web.state import app_state

__all__ = ["plugins_page", "health"]


@get("/-/plugins", name="plugins", guards=[requires_login])
async def plugins_page(request: Request) -> Template:
    user: UserCtx = await current_user(request)
    reg = app_state(request).registry
    return render(
        request,
        "pages/plugins.html",
        None,
        {
            "user": user,
            "plugins": plugin_infos(reg.pm),
            "channels": reg.channels,
            "owners": reg.owners,
            "forms": reg.forms,
            "rules": rule_table(reg.deadline_rules.values()),
        },
    )


@get("/-/health", name="health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}
