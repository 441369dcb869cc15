"""The hooks of the industry host: how a committee (行业性专业性人民调解委员会) is contributed.

``plugins.industry`` adds these to the deployment's plugin manager (``fengqiao_addhooks``); any
plugin — a built-in module or an outside package in the ``fengqiao`` entry-point group — may then
implement them with :data:`core.hookimpl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.hookspecs import hookspec

if TYPE_CHECKING:
    from core.settings import Settings
    from plugins.industry.model import Committee

__all__ = ["fengqiao_industry_committees"]


@hookspec
def fengqiao_industry_committees(settings: Settings) -> list[Committee]:
    """Describe the industry committees this plugin provides, as data.

    Called once at start-up by the industry host. Each :class:`plugins.industry.model.Committee`
    becomes a channel of its own (channel key = committee key): its intake form, protocol, deadline
    rules, documents and statistics are registered for it, and ``enabled_channels`` switches it on.

    :param settings: the deployment settings (read ``[channels.<key>]`` from ``settings.raw``).
    :return: a list of :class:`~plugins.industry.model.Committee`; a key given twice is a start-up
        error naming both plugins.
    """
