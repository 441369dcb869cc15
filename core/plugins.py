"""The plugin manager: hookspecs, built-in plugins, entry points, blocking, tracing.

Built-in plugins are listed in :data:`DEFAULT_PLUGINS` and registered exactly like outside ones;
outside packages register through the entry-point group ``fengqiao``. A deployment blocks plugins
by name (``disabled_plugins``) and enables channels by key (``enabled_channels``): a plugin whose
channels are all disabled is blocked too, so its forms, routes and API kinds disappear.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from core import hookspecs
from core.hookspecs import NAME
from core.settings import Settings

__all__ = [
    "DEFAULT_PLUGINS",
    "PluginError",
    "PluginInfo",
    "await_each",
    "await_me_maybe",
    "build_plugin_manager",
    "call_each",
    "plugin_infos",
]

log = logging.getLogger("fengqiao.plugins")

DEFAULT_PLUGINS: tuple[str, ...] = (
    "core.builtin",
    "core.documents",
    "core.handoff",
    "core.statistics",
    "core.online",
    "plugins.general",
    "plugins.industry",
    "plugins.police",
    "plugins.court",
    "plugins.procuratorate",
    "plugins.petition",
)
"""Built-in plugins as importable module names; the plugin name is the last dotted part."""


class PluginError(RuntimeError):
    """A start-up error of the plugin system; the message names the plugins involved."""


async def await_me_maybe(value: Any) -> Any:
    """Await ``value`` if it is awaitable (hooks may answer sync or async)."""
    if inspect.isawaitable(value):
        return await value
    return value


async def await_each(results: list[Any]) -> list[Any]:
    """Await every hook result in order; if one raises, close the coroutines not yet awaited
    (so none is left "never awaited") and re-raise."""
    out = []
    for i, value in enumerate(results):
        try:
            out.append(await await_me_maybe(value))
        except BaseException:
            for rest in results[i + 1:]:
                if inspect.iscoroutine(rest):
                    rest.close()
            raise
    return out


def _origin(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    return f"{type(plugin).__module__}.{type(plugin).__qualname__}"


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    existing = pm.get_plugin(name)
    if existing is not None:
        raise PluginError(
            f"two plugins are named {name!r}: {_origin(existing)} and {_origin(plugin)}; "
            "rename one or block one with disabled_plugins"
        )
    if pm.is_registered(plugin):
        raise PluginError(f"plugin {_origin(plugin)} is registered twice (as {pm.get_name(plugin)!r} and {name!r})")
    pm.register(plugin, name=name)


def _entry_point_plugins() -> Iterable[tuple[str, object, str]]:
    for ep in metadata.entry_points(group=NAME):
        dist = ep.dist.name if ep.dist else "?"
        try:
            plugin = ep.load()
        except Exception as exc:  # an outside package that fails to import is a start-up error
            raise PluginError(f"entry point {ep.name!r} of {dist} failed to load: {exc!r}") from exc
        yield ep.name, plugin, dist


def build_plugin_manager(
    settings: Settings,
    plugins: Sequence[object | str] | None = None,
    *,
    entry_points: bool = True,
) -> pluggy.PluginManager:
    """Build a fresh plugin manager for ``settings``.

    Args:
        settings: deployment settings (``disabled_plugins``, ``enabled_channels``, ``trace_plugins``).
        plugins: the built-in plugin list; default :data:`DEFAULT_PLUGINS`. Items are modules,
            objects or dotted module names. Tests pass an explicit list.
        entry_points: also load outside plugins from the ``fengqiao`` entry-point group. Tests
            pass ``False``.

    Raises:
        PluginError: two plugins share a name, an entry point fails to load, or a plugin
            implements a hook that does not exist (``check_pending``).
    """
    pm = pluggy.PluginManager(NAME)
    pm.add_hookspecs(hookspecs)
    pm.hook.fengqiao_addhooks.call_historic(kwargs={"pluginmanager": pm})
    for name in settings.disabled_plugins:
        pm.set_blocked(name)
    for item in DEFAULT_PLUGINS if plugins is None else plugins:
        if isinstance(item, str):
            module = importlib.import_module(item)
            name = item.rsplit(".", 1)[-1]
            if not pm.is_blocked(name):
                _register(pm, module, name)
        else:
            name = getattr(item, "NAME", None) or (
                item.__name__.rsplit(".", 1)[-1] if isinstance(item, ModuleType) else type(item).__name__
            )
            if not pm.is_blocked(name):
                _register(pm, item, name)
    if entry_points:
        for name, plugin, dist in _entry_point_plugins():
            if pm.is_blocked(name):
                continue
            try:
                _register(pm, plugin, name)
            except PluginError as exc:
                raise PluginError(f"{exc} (entry point from {dist})") from None
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc
    _block_disabled_channels(pm, settings)
    if settings.trace_plugins:
        enable_tracing(pm)
    return pm


def _block_disabled_channels(pm: pluggy.PluginManager, settings: Settings) -> None:
    """Block every plugin whose channels are all outside ``enabled_channels``."""
    if settings.enabled_channels is None:
        return
    enabled = set(settings.enabled_channels)
    results = call_each(pm, "fengqiao_register_channels", settings=settings)
    installed = {c.key for _, result in results for c in (result or [])}
    unknown = enabled - installed
    if unknown:
        from core.channels import RegistrationError

        raise RegistrationError(
            f"enabled_channels names channels no installed plugin provides: {sorted(unknown)}; "
            f"installed: {sorted(installed)}"
        )
    for name, result in results:
        keys = {c.key for c in (result or [])}
        if keys and not keys & enabled:
            plugin = pm.get_plugin(name)
            pm.unregister(plugin, name=name)
            pm.set_blocked(name)
            log.info("plugin %s blocked: its channels %s are not enabled", name, sorted(keys))


def enable_tracing(pm: pluggy.PluginManager) -> None:
    """Log every hook call with its arguments and results (``FENGQIAO_TRACE_PLUGINS=1``)."""

    def before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        log.warning("hook %s(%s) → %s", hook_name, ", ".join(sorted(kwargs)), [i.plugin_name for i in impls])

    def after(outcome: Any, hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        exc = outcome.exception
        log.warning("hook %s done%s", hook_name, f" with {exc!r}" if exc else "")

    pm.add_hookcall_monitoring(before, after)
    pm._fengqiao_trace = True  # type: ignore[attr-defined]


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call ``hook_name`` on each plugin separately, returning ``(plugin_name, result)`` pairs.

    Registration uses this so that a duplicate can be reported with the names of both plugins.
    Order: registration order (built-ins first).
    """
    caller = getattr(pm.hook, hook_name)
    out = []
    for impl in reversed(caller.get_hookimpls()):
        args = {k: kwargs[k] for k in impl.argnames}
        if getattr(pm, "_fengqiao_trace", False):
            log.warning("hook %s on %s", hook_name, impl.plugin_name)
        out.append((impl.plugin_name, impl.function(**args)))
    return out


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    version: str
    hooks: tuple[str, ...]


def _version(module: str) -> str:
    """The version of the distribution that ships ``module`` (or the module's ``__version__``)."""
    mod = importlib.import_module(module)
    own = getattr(mod, "__version__", None)
    if own:
        return str(own)
    for dist in metadata.packages_distributions().get(module.split(".", 1)[0], []):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "-"


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """What is loaded: name, module, version and implemented hooks, sorted by name."""
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or []))
        infos.append(PluginInfo(name=name, module=module, version=_version(module), hooks=hooks))
    return sorted(infos, key=lambda i: i.name)
