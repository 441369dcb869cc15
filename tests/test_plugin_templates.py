"""A plugin's own ``templates/`` folder is searched after core's (so core templates cannot be overridden)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def tpl_plugin(tmp_path: Path):
    pkg = tmp_path / "fq_tpl_demo"
    (pkg / "templates" / "fq_tpl_demo").mkdir(parents=True)
    (pkg / "templates" / "pages").mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from litestar import get
        from litestar.response import Template
        from core import hookimpl

        @get("/channels/demo/hello", sync_to_thread=False)
        def hello() -> Template:
            return Template(template_name="fq_tpl_demo/hello.html", context={"who": "<b>调解员</b>"})

        @get("/channels/demo/shadow", sync_to_thread=False)
        def shadow() -> Template:
            return Template(template_name="pages/error.html", context={"status": 418, "message": "x"})

        @hookimpl
        def fengqiao_register_routes(settings):
            return [hello, shadow]
    '''))
    (pkg / "templates" / "fq_tpl_demo" / "hello.html").write_text("插件模板：{{ who }}")
    (pkg / "templates" / "pages" / "error.html").write_text("PLUGIN OVERRIDE")
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("fq_tpl_demo")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fq_tpl_demo", None)


def test_plugin_templates_render_and_cannot_override_core(settings, tpl_plugin, world, login):
    from litestar.testing import TestClient

    from core.plugins import DEFAULT_PLUGINS
    from web.app import create_app

    app = create_app(settings, plugins=[*DEFAULT_PLUGINS, tpl_plugin], entry_points=False)
    with TestClient(app, base_url="https://testserver.local") as client:
        login(client, "med-a")  # plugin pages sit behind the app's log-in guard
        resp = client.get("/channels/demo/hello")
        assert resp.status_code == 200
        assert resp.text == "插件模板：&lt;b&gt;调解员&lt;/b&gt;"  # autoescaped
        resp = client.get("/channels/demo/shadow")
        assert "PLUGIN OVERRIDE" not in resp.text


class _Labels:
    NAME = "labels_demo"

    from core import hookimpl as _hookimpl

    @_hookimpl
    def fengqiao_register_event_labels(self, settings):
        return {"demo.thing_done": "演示事项已办", "case.registered": "另一个标签"}


def test_event_labels_come_from_plugins_and_clash_at_start_up(settings):
    from core.channels import RegistrationError
    from core.plugins import DEFAULT_PLUGINS
    from core.registry import build_registry

    reg = build_registry(settings, entry_points=False)
    assert reg.event_labels["documents.item_recorded"] == "卷宗材料附卷"  # the documents plugin's
    assert reg.event_labels["online.agreement_signed"] == "当事人电子确认协议"
    assert reg.event_labels["case.registered"] == "登记"  # the core's
    with pytest.raises(RegistrationError, match="'case.registered' is labelled by 'core' and 'labels_demo'"):
        build_registry(settings, [*DEFAULT_PLUGINS, _Labels()], entry_points=False)
