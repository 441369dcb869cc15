"""Translation for code that renders outside the web layer's Jinja environment.

Plugins that render their own templates (panels built with a private ``jinja2.Environment``) or
messages in Python call these functions; the web layer installs the catalogue-backed ones at start-up
(``web.i18n``), so the request's language applies. Until then — the CLI, a worker, tests of core
alone — they return the Chinese source text unchanged. Plugins import only this module, never ``web``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["gettext", "ngettext", "translate", "install", "setup_jinja", "cached_jinja_gettext"]

_impl: dict[str, Callable[..., Any]] = {
    "gettext": lambda message: message,
    "ngettext": lambda singular, plural, n: singular if n == 1 else plural,
    "translate": lambda value: value,
    "locale": lambda: "",
}


def gettext(message: str) -> str:
    return _impl["gettext"](message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _impl["ngettext"](singular, plural, n)


def translate(value: Any) -> Any:
    """Translate a data string (a label or a message that is not a template literal)."""
    return _impl["translate"](value)


def install(*, gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str],
            translate: Callable[[Any], Any], locale: Callable[[], str] | None = None) -> None:
    """Install the real functions (the web layer does this once); ``locale`` names the current
    language (it keys :func:`cached_jinja_gettext`'s cache)."""
    _impl.update(gettext=gettext, ngettext=ngettext, translate=translate)
    if locale is not None:
        _impl["locale"] = locale


def cached_jinja_gettext(env: Any) -> None:
    """Replace the new-style ``gettext`` (and its alias ``_``) that
    ``install_gettext_callables(newstyle=True)`` put in ``env``'s globals by one that remembers the
    result of ``_("literal")`` without variables, per language. Jinja's version looks the message up,
    wraps it in ``Markup`` and formats it with ``%`` on every call — a case page makes some three
    hundred such calls. Same results: the catalogue does not change while the process runs, and a
    message with variables is formatted every time."""
    import jinja2
    from markupsafe import Markup

    cache: dict[tuple[str, str, bool], str] = {}

    # the eval context (autoescape) is all it needs: a context-taking function called inside a loop gets
    # a copy of the context made for the call
    @jinja2.pass_eval_context
    def gettext_(eval_ctx: Any, message: str, **variables: Any) -> str:
        autoescape = eval_ctx.autoescape
        if variables:  # as Jinja's new-style gettext: looked up, escaped if autoescaping, %-formatted
            rv = gettext(message)
            return (Markup(rv) if autoescape else rv) % variables
        key = (_impl["locale"](), message, autoescape)
        hit = cache.get(key)
        if hit is None:
            rv = gettext(message)
            hit = cache[key] = (Markup(rv) if autoescape else rv) % {}
        return hit

    env.globals["gettext"] = gettext_
    # ``_()`` itself: Jinja's alias looks ``gettext`` up in the context and calls it through the context
    # again — twice the per-call overhead for the commonest call in every template
    env.globals["_"] = gettext_


def setup_jinja(env: Any) -> Any:
    """Give a plugin's own Jinja environment ``_()`` (new-style, ``%(name)s`` arguments) and the
    ``t`` filter for data strings, both following the request's language."""
    import jinja2

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    cached_jinja_gettext(env)
    env.auto_reload = False  # templates ship with the code: no stat() of the file on every render
    # pass_context keeps Jinja from folding ``"…" | t`` at compile time (in whatever language was current)
    env.filters["t"] = jinja2.pass_context(lambda _ctx, value: translate(value))
    return env
