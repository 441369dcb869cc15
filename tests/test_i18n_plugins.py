"""Plugins that render with their own Jinja environment translate through ``core.i18n``, which the web
layer backs with the app's catalogue: their panels follow the request's language too."""

from __future__ import annotations

import jinja2


def test_plugin_environments_follow_the_request_language():
    import web.i18n  # noqa: F401 - installs the catalogue-backed functions
    from core.i18n import setup_jinja
    from web.i18n import use_locale

    env = setup_jinja(jinja2.Environment(autoescape=True))
    tpl = env.from_string('{{ _("专家库：") }}{{ "法院" | t }}{{ _("已完成（%(n)s 份书面意见，已附卷）", n=2) }}')
    assert tpl.render() == "专家库：法院已完成（2 份书面意见，已附卷）"
    with use_locale("en"):
        assert tpl.render() == "Expert pool: Courtcompleted (2 written opinions, filed in the case file)"

