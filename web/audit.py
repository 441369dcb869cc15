"""ASGI middleware that writes the audit log for people's requests.

Recorded: every unsafe request of a signed-in user (``change``, or ``refused`` for 409/422, or
``denied`` for 401/403/404), every read of a case page or case document (``case.read`` / ``denied``).
Log-ins and log-outs are recorded by the auth handlers. The entry is written after the response has
been sent, so auditing never delays or breaks a page; a failed write is logged loudly. Entries of
concurrent requests are committed together (group commit, :func:`core.audit.record_grouped`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from core import audit

__all__ = ["AuditMiddleware"]

log = logging.getLogger("fengqiao.audit")
_CASE_READ = re.compile(r"^/cases/(\d+)(/documents/.*|/file)?$")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_SKIP = ("/static/", "/login", "/logout", "/api/", "/-/health")


class AuditMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_SKIP):
            await self.app(scope, receive, send)
            return
        status: dict[str, int] = {}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, send_wrapper)
        try:
            await self._record(scope, status.get("code", 0))
        except Exception:
            log.exception("could not write the audit log for %s %s", scope["method"], scope["path"])

    async def _record(self, scope: Any, code: int) -> None:
        method, path = scope["method"], scope["path"]
        user = (scope.get("state") or {}).get("fq_user")
        read = method in {"GET", "HEAD"} and _CASE_READ.match(path)
        if method not in _UNSAFE and not read:
            return
        if method not in _UNSAFE and user is None:
            return  # anonymous reads are redirected to the log-in page; nothing was read
        if code in {401, 403, 404}:
            action = "denied"
        elif read:
            action = "case.read" if code < 300 else ""
        elif code in {409, 422}:
            action = "refused"
        else:
            action = "change"
        if not action:
            return
        client = scope.get("client") or ("", 0)
        await audit.record_grouped(action, actor=user.username if user else "", target=f"{method} {path}",
                                   ip=client[0], detail={"status": code})
