"""Industry and professional committees (行业性专业性人民调解委员会): a host for committee sub-plugins.

Like devpi-web, this plugin defines hooks of its own (``plugins.industry.hookspecs``) that other
plugins implement: a committee is described as data (:class:`plugins.industry.model.Committee`) and
returned from ``fengqiao_industry_committees``; the host registers it with the core as a channel of
its own. The four built-in committees (medical, traffic, labour, property) are contributed by
``plugins.industry.committees`` exactly as an outside package contributes one through the
``fengqiao`` entry-point group. See docs/plugins.md.

Only the hook that installs the host lives here; the host's hookimpls are on
:class:`plugins.industry.host.IndustryHost` (one per plugin manager, because it keeps what the
committees registered).
"""

from core import hookimpl

NAME = "industry"
__version__ = "0.1.0"


@hookimpl
def fengqiao_addhooks(pluginmanager):
    from plugins.industry import committees, hookspecs
    from plugins.industry.host import IndustryHost

    pluginmanager.add_hookspecs(hookspecs)
    for plugin, name in ((IndustryHost(pluginmanager), IndustryHost.NAME), (committees, committees.NAME)):
        if not pluginmanager.is_blocked(name) and pluginmanager.get_plugin(name) is None:
            pluginmanager.register(plugin, name=name)
