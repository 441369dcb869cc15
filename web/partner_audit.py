"""ASGI middleware that writes the audit log for partner API calls (``/api/``).

People's requests are audited by :mod:`web.audit`; this does the same for partner systems, whose
calls read case state (``GET /api/v1/referrals/…``) and create cases. Every call is recorded after
the response has been sent (so auditing never delays or breaks a call):

- ``api.read`` — a successful read; ``api.change`` — a successful write (a referral created or
  repeated);
- ``denied`` — 401/403/404 (a bad token, a foreign channel, another partner's referral);
- ``refused`` — 400/409/413/422 (malformed or invalid referrals);
- ``api.error`` — 5xx (including 503 while the database is unavailable; that write then fails and
  is logged instead).

The actor is ``partner:<partner_id>`` for a valid token, else ``anonymous``. Only method, path and
status are stored — never the body, which holds personal data.
"""

from __future__ import annotations

import logging
from typing import Any

from core import audit

__all__ = ["PartnerAuditMiddleware"]

log = logging.getLogger("fengqiao.audit")


def _action(method: str, code: int) -> str:
    if code >= 500:
        return "api.error"
    if code in {401, 403, 404}:
        return "denied"
    if code >= 400:
        return "refused"
    return "api.read" if method in {"GET", "HEAD"} else "api.change"


class PartnerAuditMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
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
        from core.handoff.partners import authenticate

        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        partner = await authenticate(authorization) if authorization and code < 500 else None
        actor = f"partner:{partner.partner_id}" if partner is not None else "anonymous"
        client = scope.get("client") or ("", 0)
        await audit.record(_action(scope["method"], code), actor=actor, target=f"{scope['method']} {scope['path']}",
                           ip=client[0], detail={"status": code, "api": True})
