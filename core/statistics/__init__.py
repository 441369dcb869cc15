"""Statistics, reports and subsidies — a built-in plugin (``core.plugins.DEFAULT_PLUGINS``).

- ``definitions`` — the monthly people's-mediation report's statistics, registered as data;
- ``rollups`` — counters kept current inside the case engine's transaction (this module's
  ``fengqiao_case_registered`` / ``fengqiao_case_transitioned``), and rebuilt from scratch;
- ``queries`` / ``report`` — scoped reads of the rollups and the report's layout;
- ``charts`` / ``exports`` — server-side SVG charts (pygal), XLSX (openpyxl) and CSV;
- ``subsidies`` — the subsidy engine, its rules read from ``[subsidies]`` in the settings;
- ``seed`` — the bulk data generator behind ``fengqiao seed``.

Pages and exports live in ``web/statistics.py`` (imported lazily by :func:`fengqiao_register_routes`).
"""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl

NAME = "statistics"

__all__ = ["NAME"]


@hookimpl
def fengqiao_register_statistics(settings: Any) -> list[Any]:
    from core.statistics.definitions import CORE_STATISTICS

    return list(CORE_STATISTICS)


@hookimpl
async def fengqiao_case_registered(case: dict[str, Any], registry: Any) -> None:
    """Count the new case in the registration's transaction."""
    from core.statistics.rollups import on_registered

    await on_registered(registry, case)


@hookimpl
async def fengqiao_case_transitioned(event: dict[str, Any], registry: Any) -> None:
    """Count the state change in the transition's transaction."""
    from core.statistics.rollups import on_transitioned

    await on_transitioned(registry, event)


@hookimpl(optionalhook=True)
async def fengqiao_agreement_fulfilment_changed(case_id: int, registry: Any) -> None:
    """Proposed hook (not in ``core.hookspecs`` yet): an agreement's fulfilment changed.

    Keeps the performed-agreement counters current once the follow-up engine calls it inside its
    transaction; until then :func:`core.statistics.rollups.rebuild_rollups` brings them up to date.
    """
    from core.statistics.rollups import sync_performed

    await sync_performed(registry, case_id)


@hookimpl
def fengqiao_register_routes(settings: Any) -> list[Any]:
    from web.statistics import ROUTES

    return list(ROUTES)
