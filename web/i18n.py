"""Languages: gettext catalogues (Babel), the request's locale, locale-aware formatting.

- Catalogues live in ``web/translations/<locale>/LC_MESSAGES/messages.po``; msgids are the Chinese
  strings. ``zh_CN`` is the default and source language, ``en`` the second. The ``.mo`` files are
  compiled by ``scripts/build-assets`` (``python -m web.i18n compile``); when a ``.mo`` is missing
  or older than its ``.po`` the catalogue is compiled in memory at start-up, so a checkout works
  without the build step.
- The locale of a request: the ``fq_lang`` cookie set by the language switch (``POST /-/language``,
  a plain CSRF-protected form), else the best match of ``Accept-Language``, else ``zh_CN``. It is
  held in a context variable for the duration of the request (:class:`LocaleMiddleware`).
- Template text is marked with ``_()``; data strings (channel, form, transition, statistic and
  code-list labels, form error messages) are translated at render time through the same catalogue
  with the ``t`` filter. ``scripts/i18n-extract`` (``web.i18n_extract``) collects both.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import gettext as _gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import dates, numbers
from babel.core import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from litestar import Request, post
from litestar.datastructures import Cookie
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send

from core import clock
from core import i18n as _core_i18n

__all__ = [
    "LOCALES",
    "DEFAULT_LOCALE",
    "COOKIE",
    "current_locale",
    "use_locale",
    "gettext",
    "ngettext",
    "translate",
    "translations",
    "negotiate",
    "format_date",
    "format_money",
    "format_number",
    "format_percent",
    "LocaleMiddleware",
    "set_preferences",
    "compile_catalogs",
]

HERE = Path(__file__).parent
TRANSLATIONS = HERE / "translations"
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"
LOCALES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
"""Supported locales → their own name (shown in the language switch, never translated)."""
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
COOKIE = "fq_lang"

_locale: contextvars.ContextVar[str] = contextvars.ContextVar("fq_locale", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _locale.get()


class use_locale:  # noqa: N801 - used like a function: ``with use_locale("en"): …``
    """Context manager that sets the current locale (tests, CLI, background work)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._token: contextvars.Token[str] | None = None

    def __enter__(self) -> str:
        self._token = _locale.set(self.locale)
        return self.locale

    def __exit__(self, *exc: Any) -> None:
        assert self._token is not None
        _locale.reset(self._token)


# --------------------------------------------------------------------------- catalogues


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(po: Path) -> bytes:
    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def compile_catalogs() -> list[Path]:
    """Write ``messages.mo`` next to every ``messages.po`` (the build step); returns the files."""
    out = []
    for po in sorted(TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        mo.write_bytes(_compile(po))
        out.append(mo)
    return out


@lru_cache(maxsize=None)
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``locale`` (a fresh ``.mo`` if present, else compiled in memory)."""
    po = po_path(locale)
    if not po.exists():
        return _gettext.NullTranslations()
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        data = mo.read_bytes()
    else:
        data = _compile(po)
    return _gettext.GNUTranslations(io.BytesIO(data))


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(current_locale()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).npgettext(context, singular, plural, n)


def translate(value: Any) -> Any:
    """Translate a data string (a label or message that is not a template literal).

    No ``%`` formatting is applied (unlike ``_()`` in templates). A message that remembers its
    msgid and arguments (``core.forms.Message``) is translated first, then formatted. Anything
    that is not a string, or has no translation, is returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    msgid = getattr(value, "msgid", None)
    if msgid is not None:
        return gettext(msgid).format(*getattr(value, "args", ()))
    return gettext(value)


# --------------------------------------------------------------------------- negotiation


def negotiate(accept_language: str | None) -> str:
    """The supported locale that best matches an ``Accept-Language`` header (default ``zh_CN``)."""
    if not accept_language:
        return DEFAULT_LOCALE
    prefs: list[tuple[float, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        bits = part.strip().split(";")
        tag = bits[0].strip()
        if not tag or tag == "*":
            continue
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            prefs.append((-q, f"{i:04d}{tag}"))
    ordered = [tag[4:].replace("-", "_") for _, tag in sorted(prefs)]
    # zh, zh_Hans, zh_TW … all read the Chinese (simplified) UI; en_GB etc. the English one
    for tag in ordered:
        found = negotiate_locale([tag], list(LOCALES), sep="_") or negotiate_locale(
            [tag.split("_")[0]], [loc.split("_")[0] for loc in LOCALES], sep="_")
        if found:
            return next(loc for loc in LOCALES if loc == found or loc.split("_")[0] == found)
    return DEFAULT_LOCALE


def _cookie_value(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == COOKIE and v in LOCALES:
                    return v
    return None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


def locale_of_scope(scope: Scope) -> str:
    return _cookie_value(scope) or negotiate(_header(scope, b"accept-language"))


class LocaleMiddleware:
    """Sets the request's locale for everything rendered while handling it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _locale.set(locale_of_scope(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            _locale.reset(token)


def _safe_next(value: Any) -> str:
    value = str(value or "")
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or parts.scheme or parts.netloc or "\\" in value:
        return "/"
    return value


TEXT_COOKIE = "fq_text"
TEXT_SIZES = ("normal", "large")


@post("/-/preferences", name="preferences")
async def set_preferences(request: Request) -> Redirect:
    """The language switch and the large-text toggle: a plain form (works without JavaScript),
    protected by the CSRF token like every other POST; the choice is kept in a cookie (and in the
    session of a signed-in user) and the browser is sent back to the page it came from."""
    form = await request.form()
    lang = str(form.get("lang", ""))
    text = str(form.get("text", ""))
    redirect = Redirect(path=_safe_next(form.get("next")), status_code=303)
    secure = request.app.state["fq"].settings.secure_cookies
    year = 365 * 24 * 3600
    if lang in LOCALES:
        redirect.cookies.append(Cookie(key=COOKIE, value=lang, path="/", max_age=year, httponly=True,
                                       samesite="lax", secure=secure))
        session = request.scope.get("session")
        if isinstance(session, dict) and session:
            session["lang"] = lang
    if text in TEXT_SIZES:
        redirect.cookies.append(Cookie(key=TEXT_COOKIE, value=text, path="/", max_age=year, httponly=True,
                                       samesite="lax", secure=secure))
    return redirect


# --------------------------------------------------------------------------- formatting

# zh_CN keeps the ISO-like numeric dates of Chinese official paperwork (2026-11-22); other locales
# use Babel's medium format.
_DATE_FORMATS = {"zh_CN": ("yyyy-MM-dd", "yyyy-MM-dd HH:mm")}


def format_date(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    loc = current_locale()
    if loc == "zh_CN":  # the numeric patterns above, without Babel's pattern machinery (~10 µs a date)
        if isinstance(value, dt.datetime):  # ISO text up to the minutes (no offset): strftime's pattern, faster
            return (value.astimezone(clock.TZ) if value.tzinfo else value).isoformat(" ", "minutes")[:16]
        return value.isoformat()
    locale, date_pattern, datetime_pattern, time_pattern = _date_patterns(loc)
    if isinstance(value, dt.datetime):
        local = value.astimezone(clock.TZ) if value.tzinfo else value
        if datetime_pattern is not None:
            return datetime_pattern.apply(local, locale)
        return f"{date_pattern.apply(local.date(), locale)} {time_pattern.apply(local.time(), locale)}"
    return date_pattern.apply(value, locale)


@lru_cache(maxsize=32)
def _date_patterns(loc: str) -> tuple[Any, Any, Any, Any]:
    """The parsed Babel locale and patterns of ``loc`` (parsing them on every call cost ~0.7 ms each)."""
    locale = Locale.parse(loc)
    date_fmt, datetime_fmt = _DATE_FORMATS.get(loc, ("medium", ""))
    if date_fmt in {"full", "long", "medium", "short"}:
        date_fmt = dates.get_date_format(date_fmt, locale=locale)
    return (locale, dates.parse_pattern(date_fmt), dates.parse_pattern(datetime_fmt) if datetime_fmt else None,
            dates.parse_pattern("HH:mm"))


def format_money(value: Any) -> str:
    """An amount in yuan: ``1,200.50 元`` in Chinese, ``CN¥1,200.50`` in English."""
    if value is None or value == "":
        return ""
    amount = decimal.Decimal(value)
    loc = current_locale()
    if loc == "zh_CN":
        return f"{_YUAN_PATTERN.apply(amount, _date_patterns(loc)[0])} 元"  # = format_decimal(amount, '#,##0.00')
    return numbers.format_currency(amount, "CNY", locale=loc)


_YUAN_PATTERN = numbers.parse_pattern("#,##0.00")


def format_number(value: Any, digits: int | None = None) -> str:
    if value is None or value == "":
        return ""
    fmt = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return numbers.format_decimal(value, fmt, locale=current_locale())


def format_percent(value: Any, digits: int = 1) -> str:
    """``value`` is a fraction (0.125 → 12.5%)."""
    if value is None or value == "":
        return "—"
    return numbers.format_percent(value, "#,##0." + "0" * digits + "%" if digits else "#,##0%",
                                  locale=current_locale())


if __name__ == "__main__":  # python -m web.i18n compile
    import sys

    if sys.argv[1:] == ["compile"]:
        for path in compile_catalogs():
            print(f"compiled {path.relative_to(HERE.parent)}")
    else:
        print("usage: python -m web.i18n compile", file=sys.stderr)
        raise SystemExit(2)


# plugins' own template environments and Python-built panels translate through core.i18n
_core_i18n.install(gettext=gettext, ngettext=ngettext, translate=translate, locale=current_locale)
