"""Jinja2 set-up: autoescape on, gettext from the request's catalogue (``web.i18n``), filters and form helpers."""

from __future__ import annotations

import datetime as dt
import sys
import weakref
from functools import partial
from pathlib import Path
from typing import Any

from types import BuiltinFunctionType, FunctionType, MethodType

from jinja2 import Environment, FileSystemLoader, Template, pass_context
from jinja2.runtime import Context, Macro
from jinja2.utils import _PassArg
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import escape as markupsafe_escape
from litestar.template.base import url_for
from litestar.template.config import TemplateConfig

from core import clock
from core.i18n import cached_jinja_gettext
from core.forms import FieldSpec, describe
from core.intake import PARTY_ROLES
from core.lifecycle import STATUS_LABELS, CoreStatus
from core.protocol_kit import ROUTE_LABELS
from core.registry import Registry
from web import i18n
from web.i18n import current_locale, translate

__all__ = ["template_config"]

HERE = Path(__file__).parent


_DICT_ATTRIBUTES = frozenset(dir(dict))


_NO_ATTRIBUTES = frozenset({BuiltinFunctionType})
"""Callables that cannot carry Jinja's ``pass_context`` marks (``dict.get``, ``str.startswith`` …)."""
_MARKABLE = frozenset({FunctionType, MethodType, partial, Macro})
"""Callables whose marks are their own attributes (a method's are its function's), never their ``__call__``'s."""


class _PageContext(Context):
    """Jinja's context with a shorter way to call functions, methods and macros from a template
    (``_()``, ``code_label()``, ``row.get()``, ``path.startswith()``, macros … — a few hundred calls a
    case page). Jinja first asks whether the object's ``__call__`` takes a context, then the object
    itself; for these kinds of callable the first answer is always no, so only the second question is
    asked (and none for a built-in). Anything else, and anything taking the context, goes Jinja's way."""

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        kind = type(__obj)
        if kind in _NO_ATTRIBUTES:
            pass_arg = None
        elif kind in _MARKABLE:
            pass_arg = getattr(__obj, "jinja_pass_arg", None)
            if pass_arg is _PassArg.context:
                return super().call(__obj, *args, **kwargs)
            if pass_arg is _PassArg.eval_context:
                args = (__self.eval_ctx, *args)
            elif pass_arg is _PassArg.environment:
                args = (__self.environment, *args)
        else:
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


try:
    from markupsafe import _escape_inner  # the C function behind markupsafe.escape
except ImportError:  # pragma: no cover - a markupsafe without it
    def _escape_inner(text: str) -> str:
        return str(markupsafe_escape(text))


def _escape_text(value: Any) -> str:
    """``markupsafe.escape`` for a template's output, as plain text: what it returns is only joined
    into the page (``"".join`` gives a ``str`` either way) or, in a macro, ``{% set %}`` or filter
    block, wrapped in ``Markup`` again by Jinja — so building a ``Markup`` object per ``{{ … }}``
    (some 400 a case page) bought nothing."""
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape_inner(str(value))


class _PageTemplate(Template):
    """A template whose compiled output expressions escape with :func:`_escape_text`."""

    @classmethod
    def from_code(cls, environment: Any, code: Any, globals: Any, uptodate: Any = None) -> Any:
        template = super().from_code(environment, code, globals, uptodate)
        # the module's namespace: its render, block and macro functions look ``escape`` up there
        template.root_render_func.__globals__["escape"] = _escape_text
        return template


class PageEnvironment(Environment):
    """Jinja's environment with a shorter way to ``row.column`` when ``row`` is a plain dict — as every
    row the pages render is. Jinja tries the attribute first and, for a dict, gets there only through a
    raised and caught ``AttributeError``: a case page does some 250 such lookups (~5 % of its time).
    Same result: a dict has no attribute besides ``dir(dict)``, and those still come from ``getattr``.
    Its contexts call plain functions more directly (:class:`_PageContext`)."""

    context_class = _PageContext
    template_class = _PageTemplate

    def make_globals(self, d: Any) -> dict[str, Any]:
        """A template's globals as a plain dict — the environment's, overlaid with ``d`` — where Jinja
        makes a ``ChainMap`` over the two. Every render and include copies them into a new context and
        every ``{% from … import %}`` compares key sets: through a ``ChainMap`` that was some 5 % of a
        case page. The difference would show only if the environment's globals changed after a
        template was loaded, which Jinja itself says not to do (here they are all set in ``_setup``)."""
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        try:  # Jinja's own steps from here (without a second method call for every other object)
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


def _status_label(value: str) -> str:
    try:
        return translate(STATUS_LABELS[CoreStatus(value)])
    except ValueError:
        return value


def _days_until(value: dt.date | None) -> int | None:
    return None if value is None else (value - clock.today()).days


def _urgency(value: dt.date | None, status: str = "") -> str:
    if value is None or status not in {"registered", "accepted", "in_mediation"}:
        return ""
    days = (value - clock.today()).days
    return "overdue" if days < 0 else "due-soon" if days <= 3 else ""


WEB_EVENT_LABELS = {"case.readback_confirmed": "当事人确认登记内容"}
"""Labels of events the web layer writes (assisted entry, ``web.controllers.readback``)."""


def _event_label(reg: Registry, event: dict[str, Any], protocol: Any) -> str:
    if event.get("transition") and protocol is not None and protocol.transition(event["transition"]):
        return translate(protocol.transition(event["transition"]).label)
    return translate(reg.event_labels.get(event["type"]) or WEB_EVENT_LABELS.get(event["type"], event["type"]))


def _fields(reg: Registry, cache: weakref.WeakKeyDictionary[Any, dict[str, tuple[FieldSpec, ...]]],
            schema: Any) -> tuple[FieldSpec, ...]:
    """The schema's fields with titles, descriptions and choice labels in the request's language.

    Built once per schema and language (``cache``: the registry's; catalogues and code lists do not
    change while it runs) — a form of thirty fields took 0.2 ms to localise on every render. Weakly
    keyed, like :func:`core.forms.describe`, so schemas built at run time are not kept alive."""
    loc = current_locale()
    per_locale = cache.get(schema)
    if per_locale is None:
        per_locale = cache[schema] = {}
    specs = per_locale.get(loc)
    if specs is None:
        specs = per_locale[loc] = tuple(
            FieldSpec(**{**s.__dict__, "title": translate(s.title), "description": translate(s.description),
                         "choices": tuple(reg.codes.choices(s.code_list, loc)) if s.code_list
                         else tuple((v, translate(label)) for v, label in s.choices)})
            for s in describe(schema))
    return specs


def _localised_dict(labels: dict[str, str]) -> dict[str, str]:
    return {k: translate(v) for k, v in labels.items()}


def _setup(reg: Registry, engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.auto_reload = False  # templates ship with the code: no stat() of every file on every render
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext)
    cached_jinja_gettext(env)
    code_en = {c.zh: c.en for codes in reg.codes.lists.values() for c in codes.values() if c.en}

    def translate_uncached(value: Any) -> Any:
        """Catalogue first; a code-list label (the statistics' row labels) falls back to the list's ``en``."""
        out = translate(value)
        if out is value and isinstance(value, str) and current_locale() != i18n.DEFAULT_LOCALE:
            return code_en.get(value, value)
        return out

    translated: dict[tuple[str, str], Any] = {}

    def translate_data(value: Any) -> Any:
        """:func:`translate_uncached`, remembered per language for plain strings (labels, mostly: the
        catalogues do not change while the app runs; bounded, in case a page translates free text)."""
        if type(value) is not str:
            return translate_uncached(value)
        key = (current_locale(), value)
        out = translated.get(key)
        if out is None:
            if len(translated) >= 20_000:
                translated.clear()
            out = translated[key] = translate_uncached(value)
        return out

    env.filters.update(
        t=translate_data,
        date=i18n.format_date,
        money=i18n.format_money,
        number=i18n.format_number,
        percent=i18n.format_percent,
        status_label=_status_label,
        days_until=_days_until,
        urgency=_urgency,
    )
    static_urls: dict[str, str] = {}

    @pass_context
    def static_url(context: Any, file_path: str) -> str:
        """``url_for('static', file_path=…)``, worked out once per file (two on every page)."""
        url = static_urls.get(file_path)
        if url is None:
            url = static_urls[file_path] = url_for(context, "static", file_path=file_path)
        return url

    env.globals.update(
        static_url=static_url,
        form_fields=partial(_fields, reg, weakref.WeakKeyDictionary()),
        code_choices=lambda list_name: reg.codes.choices(list_name, current_locale()),
        event_label=partial(_event_label, reg),
        code_label=lambda list_name, code: reg.codes.label(list_name, code, current_locale()) if code else "",
        channel_label=lambda key: translate(reg.channels[key].label) if key in reg.channels else key,
        localised=_localised_dict,
        party_roles=PARTY_ROLES,
        route_labels=ROUTE_LABELS,
        channels=reg.channels,
        status_labels={s.value: s.label for s in CoreStatus},
        today=clock.today,
        current_locale=current_locale,
        locales=i18n.LOCALES,
        html_lang=lambda: i18n.HTML_LANG.get(current_locale(), "zh-CN"),
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
    engine = JinjaTemplateEngine.from_environment(
        PageEnvironment(loader=FileSystemLoader(template_dirs(reg)), autoescape=True))
    _setup(reg, engine)
    return TemplateConfig(engine=engine)
