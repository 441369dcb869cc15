"""The industry host: collects committees from ``fengqiao_industry_committees`` and registers each
with the core (channel, intake form, protocol, deadline rules, statistics, documents, routes, panel)."""

from __future__ import annotations

from typing import Any

import pluggy

from core import hookimpl
from core.channels import RegistrationError
from core.plugins import call_each
from core.settings import Settings
from plugins.industry.model import Committee

__all__ = ["IndustryHost", "committees_of"]


class IndustryHost:
    """One per plugin manager: the committees described by the plugins of that manager."""

    NAME = "industry_host"

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._committees: dict[str, Committee] | None = None
        self.owners: dict[str, str] = {}

    def committees(self, settings: Settings) -> dict[str, Committee]:
        """Every described committee by key (validated once; a duplicate key names both plugins)."""
        if self._committees is None:
            out: dict[str, Committee] = {}
            for plugin_name, result in call_each(self.pm, "fengqiao_industry_committees", settings=settings):
                if not isinstance(result, list | tuple):
                    raise RegistrationError(f"plugin {plugin_name!r}: fengqiao_industry_committees must return a list")
                for c in result:
                    if not isinstance(c, Committee):
                        raise RegistrationError(f"plugin {plugin_name!r}: {c!r} is not a plugins.industry.model.Committee")
                    if c.key in out:
                        raise RegistrationError(f"committee {c.key!r} is described twice: by plugin "
                                                f"{self.owners[c.key]!r} and by plugin {plugin_name!r}")
                    out[c.key] = c
                    self.owners[c.key] = plugin_name
            self._committees = out
        return self._committees

    # ------------------------------------------------------------------ registration hooks
    @hookimpl
    def fengqiao_register_channels(self, settings: Settings) -> list[Any]:
        return [c.channel() for c in self.committees(settings).values()]

    @hookimpl
    def fengqiao_register_intake_forms(self, settings: Settings) -> list[Any]:
        return [c.intake_form() for c in self.committees(settings).values()]

    @hookimpl
    def fengqiao_register_handoff_protocols(self, settings: Settings) -> list[Any]:
        return [c.protocol for c in self.committees(settings).values()]

    @hookimpl
    def fengqiao_register_deadline_rules(self, settings: Settings) -> list[Any]:
        return [r for c in self.committees(settings).values() for r in c.rules]

    @hookimpl
    def fengqiao_register_statistics(self, settings: Settings) -> list[Any]:
        return [s for c in self.committees(settings).values() for s in c.all_statistics()]

    @hookimpl
    def fengqiao_register_documents(self, settings: Settings) -> list[Any]:
        from plugins.industry.documents import opinions_document

        committees = self.committees(settings)
        own = [d for c in committees.values() for d in c.documents]
        return [*own, opinions_document(tuple(committees))] if committees else own

    @hookimpl
    def fengqiao_register_agreement_requirements(self, settings: Settings) -> list[Any]:
        return [r for c in self.committees(settings).values() for r in c.agreement_requirements]

    @hookimpl
    def fengqiao_register_routes(self, settings: Settings) -> list[Any]:
        from plugins.industry.routes import routes

        return routes(list(self.committees(settings).values()))

    # ------------------------------------------------------------------ case-time hooks
    @hookimpl
    def fengqiao_case_registered(self, case: dict[str, Any], registry: Any) -> Any:
        c = committees_of(registry).get(case["channel"])
        if c is None:
            return None
        from plugins.industry.cases import on_registered

        return on_registered(registry, c, case)

    @hookimpl
    def fengqiao_case_page_reads(self, case_id: int, registry: Any) -> Any:
        """The consultations and expert pool of the committee panel (any case: the channel is not known
        yet; for a case of no committee the statements find nothing)."""
        if not committees_of(registry):
            return None
        from plugins.industry.experts import case_pool_read, consultations_read

        return [consultations_read(case_id), case_pool_read(case_id)]

    @hookimpl
    def fengqiao_case_panels(self, case: dict[str, Any], user: dict[str, Any], registry: Any) -> Any:
        c = committees_of(registry).get(case.get("channel", ""))
        if c is None:
            return None
        from plugins.industry.panel import committee_panel

        return committee_panel(registry, c, case, user)


def committees_of(registry: Any) -> dict[str, Committee]:
    """The enabled committees of a running deployment's registry (empty when the host is blocked)."""
    host = registry.pm.get_plugin(IndustryHost.NAME)
    if host is None:
        return {}
    return {k: c for k, c in host.committees(registry.settings).items() if k in registry.channels}
