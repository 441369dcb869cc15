"""Jinja2 set-up: autoescape on, gettext (null catalogue for now), filters and form helpers."""

from __future__ import annotations

import datetime as dt
import sys
import decimal
from functools import partial
from pathlib import Path
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from core import clock
from core.forms import FieldSpec, describe
from core.intake import PARTY_ROLES
from core.lifecycle import EVENT_LABELS, STATUS_LABELS, CoreStatus
from core.protocol_kit import ROUTE_LABELS
from core.registry import Registry

__all__ = ["template_config"]

HERE = Path(__file__).parent


def _fmt_date(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value.astimezone(clock.TZ).strftime("%Y-%m-%d %H:%M")
    return value.strftime("%Y-%m-%d")


def _fmt_money(value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"{decimal.Decimal(value):,.2f} 元"


def _status_label(value: str) -> str:
    try:
        return STATUS_LABELS[CoreStatus(value)]
    except ValueError:
        return value


def _days_until(value: dt.date | None) -> int | None:
    return None if value is None else (value - clock.today()).days


def _urgency(value: dt.date | None, status: str = "") -> str:
    if value is None or status not in {"registered", "accepted", "in_mediation"}:
        return ""
    days = (value - clock.today()).days
    return "overdue" if days < 0 else "due-soon" if days <= 3 else ""


def _event_label(event: dict[str, Any], protocol: Any) -> str:
    if event.get("transition") and protocol is not None and protocol.transition(event["transition"]):
        return protocol.transition(event["transition"]).label
    return EVENT_LABELS.get(event["type"], event["type"])


def _fields(reg: Registry, schema: Any) -> list[FieldSpec]:
    specs = describe(schema)
    out = []
    for s in specs:
        if s.code_list:
            s = FieldSpec(**{**s.__dict__, "choices": tuple(reg.codes.choices(s.code_list))})
        out.append(s)
    return out


def _setup(reg: Registry, engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        date=_fmt_date,
        money=_fmt_money,
        status_label=_status_label,
        days_until=_days_until,
        urgency=_urgency,
    )
    env.globals.update(
        form_fields=partial(_fields, reg),
        code_choices=reg.codes.choices,
        event_label=_event_label,
        code_label=lambda list_name, code: reg.codes.label(list_name, code) if code else "",
        channel_label=lambda key: reg.channels[key].label if key in reg.channels else key,
        party_roles=PARTY_ROLES,
        route_labels=ROUTE_LABELS,
        channels=reg.channels,
        status_labels={s.value: s.label for s in CoreStatus},
        today=clock.today,
    )


def template_dirs(reg: Registry) -> list[Path]:
    """Core templates first, then each loaded plugin's own ``templates/`` folder (next to its module).

    A plugin keeps its templates under a folder named after itself (``templates/court/…``) so names
    never collide; core templates cannot be overridden (core's folder is searched first).
    """
    dirs = [HERE / "templates"]
    for plugin in reg.pm.get_plugins():
        module_file = getattr(plugin, "__file__", None) or getattr(
            sys.modules.get(type(plugin).__module__), "__file__", None)
        if module_file:
            folder = Path(module_file).parent / "templates"
            if folder.is_dir() and folder not in dirs:
                dirs.append(folder)
    return dirs


def template_config(reg: Registry) -> TemplateConfig:
    return TemplateConfig(
        directory=template_dirs(reg),
        engine=JinjaTemplateEngine,
        engine_callback=partial(_setup, reg),
    )
