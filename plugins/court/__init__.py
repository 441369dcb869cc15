"""The court channel (诉调对接): referrals from a people's court to a dispatched mediation room.

Only hookimpls live here; the data is in ``forms.py`` (intake kinds and transition forms),
``protocol.py`` (states, transitions, deadline rules with citations), ``statistics.py``, and the
court record in ``tables.py`` / ``records.py``; pages in ``views.py`` / ``routes.py`` / ``templates/``.

Deployment settings (``[channels.court]``):

- ``clock_start = "receipt"`` (default; 特邀调解规定 第二十七条: the mediation period runs from the
  signed receipt of the court's materials) or ``"acceptance"`` (人民法院在线调解规则 第二十四条: from
  the mediator's acceptance on the platform).
"""

from __future__ import annotations

from typing import Any

from core import hookimpl
from core.channels import Channel, RegistrationError

from plugins.court.forms import INTAKE_FORMS
from plugins.court.protocol import CLOCK_STARTS, PROTOCOL, deadline_rules
from plugins.court.statistics import STATISTICS

NAME = "court"
__version__ = "0.1.0"

CHANNEL = Channel(
    key="court",
    label="诉调对接",
    label_en="Court referral",
    case_source="referral.court",
    description="人民法院立案前委派、立案后委托人民调解组织调解的民事纠纷；调解协议可申请司法确认",
    partner_kind="court",
)


def _clock_start(settings: Any) -> str:
    value = settings.channel_settings("court").get("clock_start", "receipt")
    if value not in CLOCK_STARTS:
        raise RegistrationError(
            f"[channels.court] clock_start must be one of {sorted(CLOCK_STARTS)}, got {value!r}")
    return value


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
    return deadline_rules(_clock_start(settings))


@hookimpl
def fengqiao_register_statistics(settings):
    return list(STATISTICS)


@hookimpl
def fengqiao_register_documents(settings):
    from plugins.court.documents import DOCUMENTS

    return list(DOCUMENTS)


@hookimpl
def fengqiao_register_routes(settings):
    from plugins.court.routes import ROUTES

    return list(ROUTES)


@hookimpl
def fengqiao_case_registered(case, registry):
    """Create the court record in the registration's transaction (clock from the signed receipt);
    an awaitable for court cases, ``None`` for the others."""
    if case["channel"] != "court" or "court" not in registry.channels:
        return None
    from plugins.court.records import on_registered

    return on_registered(registry, case)


@hookimpl(tryfirst=True)
def fengqiao_case_transitioned(event, registry):
    """Keep the court record in step (an awaitable for court cases, ``None`` for the others). Runs
    first, so that the partner's payload carries the court's fields: the engine awaits the results in
    call order and the outbox writes the callback after this."""
    if event["channel"] != "court":
        return None
    from plugins.court.records import on_transitioned

    return on_transitioned(registry, event)


@hookimpl
def fengqiao_case_panels(case, user, registry):
    """The court record on the case page (an awaitable)."""
    if case.get("channel") != "court":
        return None
    from plugins.court.views import record_fragment

    async def panel():
        return {"title": "诉调对接", "html": await record_fragment(registry, case, user.get("csrf_token", ""))}

    return panel()
