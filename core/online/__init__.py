"""Online services for parties (互联网+人民调解): follow a case, book a session, read and confirm the
agreement, answer the follow-up, apply online.

A built-in plugin, registered like any other (``core.plugins.DEFAULT_PLUGINS``). The domain lives in
``service`` (links, one-time codes, messages, slots, e-signatures) and ``video`` (links into the
deployment's video-conference system); the party pages and the staff pages are in ``web/party.py``.
SMS gateways are plugins (hook ``fengqiao_send_sms``); without one, messages wait on the room's
outbox page for a mediator to read out.
"""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl

NAME = "online"

__all__ = ["NAME"]


def _cipher(reg: Any) -> Any:
    from core.crypto import FieldCipher

    return FieldCipher.from_settings(reg.settings)


async def _panel(case: dict[str, Any], user: dict[str, Any], registry: Any) -> dict[str, Any] | None:
    from core.online import service
    from core.online.tables import Slot

    parties = await service.parties_with_phone(case["id"])
    links = await service.links_of_case(case["id"])
    signatures, slots = [], []
    if links:  # parties book and sign only through a link, so without one there is nothing else to show
        signatures = await service.signatures_of_case(case["id"])
        slots = await Slot.select().where(Slot.case == case["id"], Slot.cancelled == False).order_by(  # noqa: E712
            Slot.starts_at)
    return {
        "title": "在线服务",
        "template": "online/_panel.html",
        "context": {"case": case, "parties": parties, "links": links, "signatures": signatures, "slots": slots,
                    "csrf_token": user.get("csrf_token", ""), "open": case.get("status") != "archived"},
    }


@hookimpl
def fengqiao_case_page_reads(case_id: int) -> Any:
    """The links of the panel (read with the case page's own rows)."""
    from core.online.service import links_read

    return [links_read(case_id)]


@hookimpl
def fengqiao_case_panels(case: dict[str, Any], user: dict[str, Any], registry: Any) -> Any:
    """Links sent to parties, booked sessions and electronic confirmations (an awaitable)."""
    return _panel(case, user, registry)


@hookimpl
def fengqiao_register_event_labels(settings: Any) -> dict[str, str]:
    return {
        "online.link_sent": "发送在线服务链接",
        "online.party_verified": "当事人在线验证身份",
        "online.applied": "当事人在线申请",
        "online.slot_booked": "当事人预约调解",
        "online.slot_cancelled": "取消预约时段",
        "online.agreement_signed": "当事人电子确认协议",
    }


@hookimpl
def fengqiao_sweep(registry: Any) -> Any:
    """Text reminders to parties whose booked session starts within 24 hours."""
    from core.online.service import send_due_reminders

    return send_due_reminders(registry, _cipher(registry))
