"""The staff action of the handoff: resend a failed callback (``POST``, CSRF-protected)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect

from core.plugin_http import signed_in_user
from core import cases
from core.access import UserCtx
from core.handoff.outbox import resend

__all__ = ["resend_delivery"]


async def _user(request: Request) -> UserCtx:
    return signed_in_user(request)  # set by the app's log-in guard on plugin routes


@post("/cases/{case_id:int}/deliveries/{event_id:str}/resend", name="handoff_resend", include_in_schema=False,
      status_code=303)
async def resend_delivery(request: Request, case_id: FromPath[int], event_id: FromPath[str]) -> Any:
    """Put a failed callback back in the queue; only staff who may see the case may do so."""
    user = await _user(request)
    try:
        await cases.load_case(case_id, user)
    except cases.NotFound as exc:
        raise NotFoundException(exc.message) from exc
    if user.role not in {"mediator", "supervisor", "admin"}:
        raise PermissionDeniedException("无权操作")
    if not await resend(case_id, event_id):
        raise NotFoundException("没有可重新发送的失败通知")
    return Redirect(path=f"/cases/{case_id}", status_code=303)
