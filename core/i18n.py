"""Translation for code that renders outside the web layer's Jinja environment.

Plugins that render their own templates (panels built with a private ``jinja2.Environment``) or
messages in Python call these functions; the web layer installs the catalogue-backed ones at start-up
(``web.i18n``), so the request's language applies. Until then — the CLI, a worker, tests of core
alone — they return the Chinese source text unchanged. Plugins import only this module, never ``web``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["gettext", "ngettext", "translate", "install", "setup_jinja"]

_impl: dict[str, Callable[..., Any]] = {
    "gettext": lambda message: message,
    "ngettext": lambda singular, plural, n: singular if n == 1 else plural,
    "translate": lambda value: value,
}


def gettext(message: str) -> str:
    return _impl["gettext"](message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _impl["ngettext"](singular, plural, n)


def translate(value: Any) -> Any:
    """Translate a data string (a label or a message that is not a template literal)."""
    return _impl["translate"](value)


def install(*, gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str],
            translate: Callable[[Any], Any]) -> None:
    """Install the real functions (the web layer does this once)."""
    _impl.update(gettext=gettext, ngettext=ngettext, translate=translate)


def setup_jinja(env: Any) -> Any:
    """Give a plugin's own Jinja environment ``_()`` (new-style, ``%(name)s`` arguments) and the
    ``t`` filter for data strings, both following the request's language."""
    import jinja2

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    # pass_context keeps Jinja from folding ``"…" | t`` at compile time (in whatever language was current)
    env.filters["t"] = jinja2.pass_context(lambda _ctx, value: translate(value))
    return env
