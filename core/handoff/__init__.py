"""The partner handoff: referral API, signed result callbacks and the durable outbox.

A built-in plugin, registered like any other (``core.plugins.DEFAULT_PLUGINS``). It implements the
public contract ``shared/protocol/HANDOFF.md`` (version 1):

- ``partners`` — partner systems, their tokens (hashed) and signing secrets (encrypted);
- ``referrals`` — validating and storing ``POST /api/v1/referrals`` idempotently;
- ``outbox`` — callbacks written in the state change's transaction and delivered by a worker;
- ``panel`` / ``routes`` — the deliveries panel on the case page and the staff "resend" action.

The JSON API itself lives in ``web/api.py``.
"""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl

NAME = "handoff"

__all__ = ["NAME"]


@hookimpl
def fengqiao_case_transitioned(event: dict[str, Any]) -> Any:
    """Queue the partner's callback in the same transaction as the state change (an awaitable the
    case engine awaits before commit; ``None`` when the partner need not hear of it)."""
    if not (event.get("partner_event") and event.get("partner_id")):
        return None
    from core.handoff.outbox import enqueue

    return enqueue(event)


@hookimpl
def fengqiao_case_panels(case: dict[str, Any], user: dict[str, Any]) -> Any:
    """The deliveries of a referred case, with "resend" for failed ones (an awaitable)."""
    if not case.get("partner_id"):
        return None
    from core.handoff.panel import deliveries_panel

    return deliveries_panel(case, user.get("csrf_token", ""))


@hookimpl
def fengqiao_register_routes(settings: Any) -> list[Any]:
    from core.handoff.routes import resend_delivery

    return [resend_delivery]
