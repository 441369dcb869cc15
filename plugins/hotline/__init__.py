"""The 12345 hotline channel (“12345+网格员+人民调解”): work orders in, results back.

An outside-style plugin: it is not in ``core.plugins.DEFAULT_PLUGINS`` but registered through the
``fengqiao`` entry-point group (``pyproject.toml``: ``hotline = "plugins.hotline"``), and it needs no
change to ``core/`` or ``web/``. Only hookimpls live here; the data is in ``forms.py``,
``protocol.py`` and ``statistics.py``, the bookkeeping in ``orders.py``, the report in
``report.py`` and the pages in ``routes.py``.
"""

from __future__ import annotations

from typing import Any

from core import hookimpl
from core.channels import Channel, RegistrationError

from plugins.hotline.forms import INTAKE_FORMS
from plugins.hotline.protocol import DEADLINE_RULES, PROTOCOL
from plugins.hotline.statistics import STATISTICS

NAME = "hotline"
__version__ = "0.1.0"

CHANNEL = Channel(
    key="hotline",
    label="12345 热线",
    label_en="12345 government hotline",
    case_source="referral.hotline",
    description="12345 政务服务便民热线派单至人民调解组织：签收、调解、反馈结果并回访来电人",
    partner_kind="hotline",
)


@hookimpl
def fengqiao_register_channels(settings: Any) -> list[Channel]:
    from plugins.hotline.orders import response_hours

    try:
        response_hours(settings)
    except ValueError as exc:
        raise RegistrationError(f"plugin 'hotline': {exc}") from None
    return [CHANNEL]


@hookimpl
def fengqiao_register_intake_forms(settings: Any) -> list[Any]:
    return list(INTAKE_FORMS)


@hookimpl
def fengqiao_register_handoff_protocols(settings: Any) -> list[Any]:
    return [PROTOCOL]


@hookimpl
def fengqiao_register_deadline_rules(settings: Any) -> list[Any]:
    return list(DEADLINE_RULES)


@hookimpl
def fengqiao_register_statistics(settings: Any) -> list[Any]:
    return list(STATISTICS)


@hookimpl
def fengqiao_register_routes(settings: Any) -> list[Any]:
    from plugins.hotline.routes import ROUTES

    return list(ROUTES)


@hookimpl
def fengqiao_case_registered(case: dict[str, Any], registry: Any) -> Any:
    """Refuse a caller already in the petition track; fix the order's deadlines (same transaction)."""
    if case.get("channel") != "hotline":
        return None
    from plugins.hotline.orders import on_registered

    return on_registered(case, registry)


@hookimpl(tryfirst=True)
def fengqiao_case_transitioned(event: dict[str, Any], registry: Any) -> Any:
    """Track response, result and callback; runs first so the outbox's callback carries the facts."""
    if event.get("channel") != "hotline":
        return None
    from plugins.hotline.orders import on_transitioned

    return on_transitioned(event, registry)


@hookimpl
def fengqiao_case_panels(case: dict[str, Any], user: dict[str, Any], registry: Any) -> Any:
    """The work order card on the case page: deadlines, response, result and callback."""
    if case.get("channel") != "hotline":
        return None
    from plugins.hotline.routes import order_panel

    return order_panel(case)
