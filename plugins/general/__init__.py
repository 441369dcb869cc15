"""The general channel (人民调解): walk-in applications and self-initiated mediation.

Only hookimpls live here; the data is in ``forms.py`` and ``protocol.py``.
"""

from core import hookimpl
from core.channels import Channel

from plugins.general.forms import INTAKE_FORMS
from plugins.general.protocol import PROTOCOL
from plugins.general.statistics import STATISTICS

NAME = "general"
__version__ = "0.1.0"

CHANNEL = Channel(
    key="general",
    label="人民调解",
    label_en="People's mediation",
    case_source="application",
    description="当事人申请调解或调解委员会主动调解的纠纷",
    self_application=True,
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
def fengqiao_register_statistics(settings):
    return list(STATISTICS)
