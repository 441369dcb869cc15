"""The petition channel (访调对接): the people's-mediation room inside a petition bureau
(人民调解参与信访问题化解工作室), after the Yunnan plan's eight steps. See docs/channels/petition.md.

Only hookimpls live here; the data is in ``forms.py``, ``protocol.py`` and ``statistics.py``; the
channel's own tables (``tables.py``) are a Piccolo app of their own (``piccolo_app.py``).
"""

from __future__ import annotations

from typing import Any

from core import hookimpl
from core.channels import Channel

from plugins.petition.forms import INTAKE_FORMS
from plugins.petition.protocol import DEADLINE_RULES, PROTOCOL
from plugins.petition.statistics import STATISTICS

NAME = "petition"
__version__ = "0.1.0"

CHANNEL = Channel(
    key="petition",
    label="访调对接",
    label_en="Petition linkage",
    case_source="referral.petition",
    partner_kind="petition_bureau",
    description="信访部门人民调解工作室：接谈、评析、委托、办理、处理意见、引导解决、协调救助、立卷归档",
)


@hookimpl
def fengqiao_register_channels(settings):
    return [CHANNEL]


@hookimpl
def fengqiao_register_intake_forms(settings):
    return list(INTAKE_FORMS)


@hookimpl
def fengqiao_register_handoff_protocols(settings):
    return [PROTOCOL]


@hookimpl
def fengqiao_register_deadline_rules(settings):
    return list(DEADLINE_RULES)


@hookimpl
def fengqiao_register_statistics(settings):
    return list(STATISTICS)


@hookimpl
def fengqiao_register_routes(settings):
    from plugins.petition.routes import ROUTES

    return list(ROUTES)


@hookimpl
def fengqiao_case_transitioned(event: dict[str, Any], registry: Any) -> Any:
    if event.get("channel") != "petition":
        return None
    from plugins.petition.service import on_transitioned

    return on_transitioned(event, registry)


@hookimpl
def fengqiao_case_panels(case: dict[str, Any], user: dict[str, Any], registry: Any) -> Any:
    if case.get("channel") != "petition":
        return None
    from plugins.petition.panel import petition_panel

    return petition_panel(case, user, registry)
