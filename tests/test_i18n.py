"""Languages: catalogues complete and current, no untranslated template text, the language switch,
Accept-Language, locale formatting, translated field errors.

The catalogue tests cover every template of core *and* of every plugin in the tree, and the data
strings of every installed plugin, so a channel that adds strings fails here until
``scripts/i18n-extract`` has been run and the English filled in (docs/i18n.md).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import re
from typing import Any

import pytest
from babel.messages.pofile import read_po

from web import i18n
from web.i18n_extract import collect, merge, template_files, untranslated_literals

PLACEHOLDERS = re.compile(r"\{\d+\}|%\([a-z_]+\)s|%%")


@pytest.fixture(scope="module")
def entries() -> dict[str, Any]:
    return collect()


def _po(locale: str) -> dict[str, str]:
    with i18n.po_path(locale).open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale=locale) if m.id}


# --------------------------------------------------------------------------- catalogues


def test_no_untranslated_literals_in_any_template() -> None:
    files = template_files()
    assert any(p.name == "base.html" for p in files) and len(files) >= 30
    problems = [f"{p}:{line}: {text!r}" for p in files for line, text in untranslated_literals(p.read_text("utf-8"))]
    assert not problems, "text outside _() in templates:\n" + "\n".join(problems)


def test_literal_checker_flags_text_outside_gettext() -> None:
    """The checker itself: each of these must be flagged, and the clean template must not."""
    assert untranslated_literals('<p>{{ _("登记") }} · {{ case.number }}（{{ status }}）</p>') == []
    assert untranslated_literals('<a href="/x?q={{ q }}" class="button">{{ _("筛选") }}</a>') == []
    assert untranslated_literals("<p>登记</p>")
    assert untranslated_literals('<nav aria-label="主导航"></nav>')
    assert untranslated_literals("<button>Save</button>")
    assert untranslated_literals('{{ "专职" if x else _("兼职") }}') == [(1, '"专职"')] or \
        untranslated_literals('{{ "专职" if x else _("兼职") }}')[0][1].strip("'\"") == "专职"
    assert untranslated_literals("<p>PDF</p>") == []  # acronyms are not words to translate


def test_catalogues_are_current(entries: dict[str, Any]) -> None:
    """``scripts/i18n-extract`` has been run: the .pot and .po files are what it would write."""
    stale = [str(p) for p, data in merge(entries).items() if not p.exists() or p.read_bytes() != data]
    assert not stale, f"run scripts/i18n-extract: out of date: {stale}"


def test_every_message_has_chinese_and_english(entries: dict[str, Any]) -> None:
    zh, en = _po("zh_CN"), _po("en")
    missing_zh = sorted(m for m in entries if not zh.get(m))
    missing_en = sorted(m for m in entries if not en.get(m))
    assert not missing_zh, missing_zh[:20]
    assert not missing_en, f"{len(missing_en)} messages without English, e.g. {missing_en[:20]}"


def test_translations_keep_placeholders() -> None:
    en = _po("en")
    wrong = [(k, v) for k, v in en.items() if v and sorted(PLACEHOLDERS.findall(k)) != sorted(PLACEHOLDERS.findall(v))]
    assert not wrong, wrong


def test_registry_strings_are_in_the_catalogue(entries: dict[str, Any], registry: Any) -> None:
    """Channel, form, field, option, state, transition and statistic labels all have English."""
    en = _po("en")
    from core.forms import describe

    strings = set()
    for ch in registry.channels.values():
        strings.add(ch.label)
    for f in registry.forms.values():
        strings.add(f.label)
        for spec in describe(f.schema):
            strings.add(spec.title)
            strings.update(label for _, label in spec.choices)
    for p in registry.protocols.values():
        strings.update(s.label for s in p.states)
        strings.update(t.label for t in p.transitions)
    strings.update(s.label for s in registry.statistics.values())
    strings.discard("")
    missing = sorted(s for s in strings if not en.get(s))
    assert not missing, missing[:30]
    assert "此项为必填" in entries and en["此项为必填"] == "Required"  # core.forms messages


def test_code_lists_carry_english(registry: Any) -> None:
    for name, codes in registry.codes.lists.items():
        assert all(c.en for c in codes.values()), name


def test_compiled_catalogue_translates() -> None:
    i18n.translations.cache_clear()
    with i18n.use_locale("en"):
        assert i18n.gettext("登录") == "Sign in"
        assert i18n.translate("调解室") == "Mediation room"
        from core.forms import translate_error

        msg = translate_error("Expected `str` of length <= 20 - at `$.name`")
        assert str(msg) == "不能超过 20 个字"  # Chinese everywhere else (API, logs)
        assert i18n.translate(msg) == "At most 20 characters"
    with i18n.use_locale("zh_CN"):
        assert i18n.gettext("登录") == "登录"


# --------------------------------------------------------------------------- negotiation, formatting


@pytest.mark.parametrize(("header", "expected"), [
    (None, "zh_CN"), ("", "zh_CN"), ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
    ("fr-FR,en;q=0.5", "en"), ("fr-FR", "zh_CN"), ("zh-TW", "zh_CN"), ("en;q=0.3,zh;q=0.9", "zh_CN"),
    ("en-GB;q=0", "zh_CN"), ("*", "zh_CN"), ("garbage;;;q=x", "zh_CN"),
])
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_locale_formatting() -> None:
    when = dt.datetime(2026, 3, 5, 6, 7, tzinfo=dt.timezone.utc)  # 14:07 in Asia/Shanghai
    with i18n.use_locale("zh_CN"):
        assert i18n.format_date(dt.date(2026, 3, 5)) == "2026-03-05"
        assert i18n.format_date(when) == "2026-03-05 14:07"
        assert i18n.format_money(decimal.Decimal("35000.5")) == "35,000.50 元"
        assert i18n.format_number(1234567) == "1,234,567"
        assert i18n.format_percent(0.125) == "12.5%"
    with i18n.use_locale("en"):
        assert i18n.format_date(dt.date(2026, 3, 5)) == "Mar 5, 2026"
        assert i18n.format_date(when) == "Mar 5, 2026 14:07"
        assert i18n.format_money(decimal.Decimal("35000.5")) == "CN¥35,000.50"
        assert i18n.format_percent(None) == "—"


def test_form_fields_follow_the_language_of_each_render(registry: Any) -> None:
    """Localised field specs are built once per schema and language, and each render gets its own
    language's (a cached Chinese form must never reach an English page, nor the reverse)."""
    from core.records import SessionIn
    from web.templating import template_config

    env = template_config(registry).to_engine().engine
    fields = env.globals["form_fields"]
    with i18n.use_locale("zh_CN"):
        zh = fields(SessionIn)
        assert fields(SessionIn) is zh  # built once
    with i18n.use_locale("en"):
        en = fields(SessionIn)
    assert [f.name for f in zh] == [f.name for f in en]
    place = {"zh": next(f for f in zh if f.name == "place"), "en": next(f for f in en if f.name == "place")}
    assert place["zh"].title == "调解地点" and place["en"].title != "调解地点" and place["en"].title
    outcome = dict(next(f for f in en if f.name == "outcome").choices)
    assert outcome["agreement"] != "达成协议" and dict(next(f for f in zh if f.name == "outcome").choices)[
        "agreement"] == "达成协议"
    with i18n.use_locale("zh_CN"):
        assert fields(SessionIn) is zh
        rendered = env.from_string("{% for f in form_fields(s) %}{{ f.title }};{% endfor %}").render(s=SessionIn)
    with i18n.use_locale("en"):
        rendered_en = env.from_string("{% for f in form_fields(s) %}{{ f.title }};{% endfor %}").render(s=SessionIn)
    assert rendered == ";".join(f.title for f in zh) + ";" and rendered_en == ";".join(f.title for f in en) + ";"
    assert rendered != rendered_en


def test_the_t_filter_follows_the_language_of_each_render(registry: Any) -> None:
    """``| t`` remembers its answers per language: alternating renders each get their own."""
    from web.templating import template_config

    env = template_config(registry).to_engine().engine
    page = env.from_string("{{ a | t }}|{{ b | t }}|{{ n | t }}")
    for _ in range(2):
        with i18n.use_locale("zh_CN"):
            assert page.render(a="案件", b="调解员", n=3) == "案件|调解员|3"
        with i18n.use_locale("en"):
            assert page.render(a="案件", b="调解员", n=3) == "Cases|Mediator|3"


# --------------------------------------------------------------------------- the running app


def test_accept_language_picks_the_page_language(client: Any) -> None:
    en = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert en.status_code == 200
    assert '<html lang="en"' in en.text and ">Sign in<" in en.text and "Password" in en.text
    assert "登录" not in en.text.split("<main", 1)[1].split("</main>")[0]
    zh = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-CN"' in zh.text and "密码" in zh.text and "Password" not in zh.text
    assert "密码" in client.get("/login").text  # no header: the default, Chinese


def test_language_switch_is_a_csrf_protected_form(client: Any, csrf: Any, login: Any, world: Any) -> None:
    page = client.get("/login")
    assert 'action="/-/preferences"' in page.text and 'name="lang" value="en"' in page.text
    token = csrf(client)
    # without the token: refused, nothing set
    bad = client.post("/-/preferences", data={"lang": "en", "next": "/login"}, follow_redirects=False)
    assert bad.status_code == 403 and i18n.COOKIE not in bad.cookies
    resp = client.post("/-/preferences", data={"lang": "en", "next": "/login?next=/cases", "_csrf_token": token},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login?next=/cases"
    cookie = next(h for h in resp.headers.get_list("set-cookie") if h.startswith(i18n.COOKIE + "="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Max-Age=" in cookie
    # the cookie beats Accept-Language
    page = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert ">Sign in<" in page.text and 'name="lang" value="zh_CN"' in page.text
    login(client, "med-a")
    home = client.get("/")
    assert "Today&#39;s desk" in home.text or "Today's desk" in home.text
    assert "Mediation room" in home.text or "No open cases" in home.text
    # an off-site or unknown target goes home; an unknown language changes nothing
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)", "/\\evil"):
        r = client.post("/-/preferences", data={"lang": "zh_CN", "next": target, "_csrf_token": csrf(client)},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", target
    r = client.post("/-/preferences", data={"lang": "xx", "next": "/", "_csrf_token": csrf(client)},
                    follow_redirects=False)
    assert i18n.COOKIE not in r.cookies
    assert "今日工作台" in client.get("/").text


def test_large_text_toggle(client: Any, csrf: Any) -> None:
    assert 'class="large-text"' not in client.get("/login").text
    r = client.post("/-/preferences", data={"text": "large", "next": "/login", "_csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/login")
    assert 'class="large-text"' in page.text and 'aria-pressed="true"' in page.text


def test_field_errors_in_english(client: Any, csrf: Any, login: Any, world: Any) -> None:
    """Titles, option labels and msgspec error messages of an intake form come out in English."""
    login(client, "med-a")
    client.post("/-/preferences", data={"lang": "en", "next": "/", "_csrf_token": csrf(client)})
    form = client.get("/intake/general/walk_in")
    assert form.status_code == 200
    assert "Summary" in form.text and "Dispute type" in form.text and "Neighbours" in form.text
    assert "Applicant" in form.text and "Respondent" in form.text
    resp = client.post("/intake/general/walk_in", data={"_csrf_token": csrf(client), "c.summary": "",
                                                        "c.people_count": "0", "a.name": "x" * 300})
    assert resp.status_code == 422
    assert "Please check the highlighted fields" in resp.text
    assert ">Required<" in resp.text
    assert "Must not be less than 1" in resp.text
    assert re.search(r"At most \d+ characters", resp.text)
    assert "此项为必填" not in resp.text
