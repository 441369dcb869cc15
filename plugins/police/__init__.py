"""The police channel (警调对接): transfers from a police station to the room dispatched into it.

Only hookimpls live here; the data is in ``forms.py``, ``protocol.py`` and ``statistics.py``, the rules
that read the database in ``rules.py``, the panel and pages in ``web.py`` and ``templates/police/``.
"""

from core import hookimpl
from core.channels import Channel
from core.documents.model import AgreementRequirement

from plugins.police.forms import INTAKE_FORMS
from plugins.police.protocol import DEADLINE_RULES, PROTOCOL
from plugins.police.statistics import STATISTICS

NAME = "police"
__version__ = "0.1.0"

CHANNEL = Channel(
    key="police",
    label="警调对接",
    label_en="Police station linkage",
    case_source="referral.police",
    partner_kind="police",
    description="派出所移交的因民间纠纷引起的轻微治安案件和出警遇到的民间纠纷（驻所调解室，“矛盾不出所”）",
)


def _performance_deadline(check):
    if check.agreement.get("performance_deadline"):
        return None
    return "治安调解协议须写明履行期限（公安机关办理行政案件程序规定 第一百八十四条）"


AGREEMENT_REQUIREMENTS = (
    AgreementRequirement(
        key="police_performance_deadline",
        label="履行期限",
        check=_performance_deadline,
        field="performance_deadline",
        channels=("police",),
        kinds=("public_order",),
        citation="公安机关办理行政案件程序规定 第一百八十四条",
    ),
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
def fengqiao_register_agreement_requirements(settings):
    return list(AGREEMENT_REQUIREMENTS)


@hookimpl
def fengqiao_register_documents(settings):
    from plugins.police.documents import DOCUMENTS

    return list(DOCUMENTS)


@hookimpl
def fengqiao_register_routes(settings):
    from plugins.police.web import ROUTES

    return list(ROUTES)


@hookimpl
def fengqiao_case_panels(case, user, registry):
    if case.get("channel") != "police":
        return None
    from plugins.police.web import police_panel

    return police_panel(case, user, registry)


@hookimpl
def fengqiao_check_session(case, session, sessions, registry):
    from plugins.police.rules import check_session

    return check_session(registry, case, session, sessions)


@hookimpl
def fengqiao_case_registered(case, registry):
    if case.get("channel") != "police" or case.get("kind") != "public_order":
        return None
    from plugins.police.rules import return_if_excluded

    return return_if_excluded(registry, case)


@hookimpl
def fengqiao_case_transitioned(event, registry):
    if event.get("channel") != "police" or event.get("transition") != "accept":
        return None
    from plugins.police.rules import pause_for_appraisal

    return pause_for_appraisal(registry, event)


@hookimpl
def fengqiao_agreement_fulfilment_changed(case_id, registry):
    from plugins.police.rules import performance_event

    return performance_event(registry, case_id)
