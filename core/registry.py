"""The frozen registry of everything plugins registered, validated once at start-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from core.channels import Channel, HandoffProtocol, IntakeForm, RegistrationError, StatisticDef
from core.calendar import WorkCalendar
from core.codes import CodeLists, load_code_lists
from core.deadlines import DeadlineRule, apply_overrides
from core.plugins import build_plugin_manager, call_each
from core.settings import Settings

__all__ = ["Registry", "build_registry"]


@dataclass(frozen=True)
class Registry:
    """What the running deployment knows: enabled channels with their forms and protocols."""

    settings: Settings
    pm: pluggy.PluginManager
    channels: dict[str, Channel]
    forms: dict[tuple[str, str], IntakeForm]
    protocols: dict[str, HandoffProtocol]
    statistics: dict[str, StatisticDef]
    owners: dict[str, str]
    """channel key → name of the plugin that registered it."""
    codes: CodeLists
    deadline_rules: dict[str, DeadlineRule]
    calendar: WorkCalendar
    documents: dict[str, Any] = field(default_factory=dict)
    """document key → :class:`core.documents.model.DocumentDef` (enabled channels only)."""
    agreement_requirements: dict[str, Any] = field(default_factory=dict)
    """key → :class:`core.documents.model.AgreementRequirement` (enabled channels only)."""
    extra: dict[str, Any] = field(default_factory=dict)
    event_labels: dict[str, str] = field(default_factory=dict)
    """Labels of case-log event types: the core's (``core.lifecycle.EVENT_LABELS``) and the plugins'."""

    def channel(self, key: str) -> Channel | None:
        return self.channels.get(key)

    def form(self, channel: str, kind: str) -> IntakeForm | None:
        return self.forms.get((channel, kind))

    def forms_for(self, channel: str) -> list[IntakeForm]:
        return [f for (c, _), f in self.forms.items() if c == channel]

    def protocol(self, channel: str) -> HandoffProtocol:
        return self.protocols[channel]

    def documents_for(self, case: dict[str, Any]) -> list[Any]:
        """The registered documents that apply to ``case``, in display order."""
        return sorted((d for d in self.documents.values() if d.applies_to(case)), key=lambda d: (d.order, d.key))


def _collect(pm: pluggy.PluginManager, hook: str, settings: Settings) -> list[tuple[str, Any]]:
    out = []
    for plugin_name, result in call_each(pm, hook, settings=settings):
        if result is None:
            continue
        if not isinstance(result, list | tuple):
            raise RegistrationError(f"plugin {plugin_name!r}: {hook} must return a list, got {type(result).__name__}")
        out.extend((plugin_name, item) for item in result)
    return out


def _unique(items: list[tuple[str, Any]], key: Any, what: str) -> dict[Any, tuple[str, Any]]:
    seen: dict[Any, tuple[str, Any]] = {}
    for plugin_name, item in items:
        k = key(item)
        if k in seen:
            raise RegistrationError(
                f"{what} {k!r} is registered twice: by plugin {seen[k][0]!r} and by plugin {plugin_name!r}"
            )
        seen[k] = (plugin_name, item)
    return seen


def _event_labels(pm: pluggy.PluginManager, settings: Settings) -> dict[str, str]:
    """The core's event labels plus every plugin's; one type labelled by two plugins is a start-up error."""
    from core.lifecycle import EVENT_LABELS
    from core.plugins import call_each

    labels, owner = dict(EVENT_LABELS), dict.fromkeys(EVENT_LABELS, "core")
    for plugin_name, result in call_each(pm, "fengqiao_register_event_labels", settings=settings):
        for type_, label in (result or {}).items():
            if type_ in owner and labels[type_] != label:
                raise RegistrationError(f"event type {type_!r} is labelled by {owner[type_]!r} and {plugin_name!r}")
            labels[type_], owner[type_] = label, plugin_name
    return labels


def build_registry(
    settings: Settings,
    plugins: Sequence[object | str] | None = None,
    *,
    entry_points: bool = True,
    pm: pluggy.PluginManager | None = None,
) -> Registry:
    """Load plugins and validate what they register.

    Raises:
        core.plugins.PluginError / RegistrationError: with a message naming the plugins involved.
    """
    pm = pm or build_plugin_manager(settings, plugins, entry_points=entry_points)
    channels = _unique(_collect(pm, "fengqiao_register_channels", settings), lambda c: c.key, "channel")
    installed = set(channels)
    if settings.enabled_channels is not None:
        unknown = set(settings.enabled_channels) - set(channels)
        if unknown:
            raise RegistrationError(
                f"enabled_channels names channels no installed plugin provides: {sorted(unknown)}; "
                f"installed: {sorted(channels)}"
            )
        channels = {k: v for k, v in channels.items() if k in settings.enabled_channels}
    enabled = set(channels)

    all_forms = _collect(pm, "fengqiao_register_intake_forms", settings)
    for plugin_name, f in all_forms:
        if f.channel not in installed:
            raise RegistrationError(
                f"plugin {plugin_name!r} registers intake form {f.channel}/{f.kind} for unknown channel {f.channel!r}"
            )
    forms = _unique(
        [(p, f) for p, f in all_forms if f.channel in enabled], lambda f: (f.channel, f.kind), "intake form"
    )
    protocols = _unique(
        [(p, x) for p, x in _collect(pm, "fengqiao_register_handoff_protocols", settings) if x.channel in enabled],
        lambda x: x.channel,
        "handoff protocol for channel",
    )
    for key in enabled:
        if key not in protocols:
            raise RegistrationError(f"channel {key!r} (plugin {channels[key][0]!r}) has no handoff protocol")
        if not any(ch == key for ch, _ in forms):
            raise RegistrationError(f"channel {key!r} (plugin {channels[key][0]!r}) has no intake form")
    rules = _unique(_collect(pm, "fengqiao_register_deadline_rules", settings), lambda r: r.key, "deadline rule")
    try:
        effective_rules = apply_overrides([r for _, r in rules.values()], settings.deadlines)
        calendar = WorkCalendar.from_settings(settings.calendar)
    except ValueError as exc:
        raise RegistrationError(f"deployment settings: {exc}") from exc
    for (ch, kind), (plugin_name, f) in forms.items():
        if f.deadline_rule and f.deadline_rule not in effective_rules:
            raise RegistrationError(
                f"plugin {plugin_name!r}: intake form {ch}/{kind} names unknown deadline rule {f.deadline_rule!r}"
            )
    stats = _unique(
        [(p, s) for p, s in _collect(pm, "fengqiao_register_statistics", settings) if s.channel in enabled | {"core"}],
        lambda s: s.name,
        "statistic",
    )
    from core.documents.registration import check_documents

    documents, requirements = check_documents(
        _unique(_collect(pm, "fengqiao_register_documents", settings), lambda d: d.key, "document"),
        _unique(_collect(pm, "fengqiao_register_agreement_requirements", settings), lambda r: r.key,
                "agreement requirement"),
        installed=installed,
        protocols={k: v for k, (_, v) in protocols.items()},
    )
    return Registry(
        event_labels=_event_labels(pm, settings),
        settings=settings,
        pm=pm,
        channels={k: v for k, (_, v) in channels.items()},
        forms={k: v for k, (_, v) in forms.items()},
        protocols={k: v for k, (_, v) in protocols.items()},
        statistics={k: v for k, (_, v) in stats.items()},
        owners={k: p for k, (p, _) in channels.items()},
        codes=load_code_lists(settings.raw.get("codes")),
        deadline_rules=effective_rules,
        calendar=calendar,
        documents=documents,
        agreement_requirements=requirements,
    )

