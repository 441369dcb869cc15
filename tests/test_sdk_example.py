"""The SDK's worked example, end to end: the outside package ``examples/fengqiao-tourism`` is installed
into the test environment (``./dev test`` does ``pip install -e examples/fengqiao-tourism``), found
through the ``fengqiao`` entry-point group, enabled by one line of the deployment config, and a case
is taken through it over HTTP — on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from core.settings import load_settings
from tests.conftest import TEST_SECRET

EXAMPLE = Path(__file__).parent.parent / "examples" / "fengqiao-tourism"


def _settings(database_url: str, tmp_path: Path, config: str) -> Any:
    data = tmp_path / "deployment"
    data.mkdir(exist_ok=True)
    (data / "fengqiao.toml").write_text(config, encoding="utf-8")
    return load_settings(env={"FENGQIAO_DATA_DIR": str(data), "FENGQIAO_DATABASE_URL": database_url,
                              "FENGQIAO_SECRET_KEY": TEST_SECRET, "FENGQIAO_DB_POOL": "0"})


def test_the_example_is_installed_with_an_entry_point():
    eps = [ep for ep in metadata.entry_points(group="fengqiao") if ep.name == "tourism"]
    assert len(eps) == 1, "run: .venv/bin/pip install -e examples/fengqiao-tourism"
    assert eps[0].value == "fengqiao_tourism" and eps[0].dist.name == "fengqiao-tourism"
    import fengqiao_tourism

    assert Path(fengqiao_tourism.__file__).resolve().is_relative_to(EXAMPLE.resolve())


def test_the_example_is_at_most_sixty_lines_of_python():
    lines = [ln for p in (EXAMPLE / "fengqiao_tourism").glob("*.py") for ln in p.read_text("utf-8").splitlines()
             if ln.strip()]
    assert len(lines) <= 60, len(lines)
    assert (EXAMPLE / "fengqiao_tourism" / "templates" / "panel.html").is_file()


def test_discovered_by_entry_point_and_enabled_by_one_config_line(database_url, tmp_path):
    from core.plugins import plugin_infos
    from core.registry import build_registry

    without = build_registry(_settings(database_url, tmp_path, 'enabled_channels = ["general", "medical"]\n'))
    assert "tourism" not in without.channels and "tourism_mediation" in without.deadline_rules
    reg = build_registry(_settings(database_url, tmp_path, 'enabled_channels = ["general", "medical", "tourism"]\n'))
    assert set(reg.channels) == {"general", "medical", "tourism"}
    assert reg.owners["tourism"] == "industry_host"
    info = {i.name: i for i in plugin_infos(reg.pm)}["tourism"]
    assert info.module == "fengqiao_tourism" and info.hooks == ("fengqiao_industry_committees",)
    assert reg.form("tourism", "application").deadline_rule == "tourism_mediation"
    assert {"tourism_registered_cases", "tourism_success_percent"} <= set(reg.statistics)


def test_the_example_conforms(database_url, tmp_path):
    from core.registry import build_registry
    from core.sdk import conformance

    reg = build_registry(_settings(database_url, tmp_path, 'enabled_channels = ["general", "tourism"]\n'))
    conformance.assert_conforms(reg, "tourism", sample={"agency": "某旅行社", "departed_on": "2026-10-01",
                                                        "destination": "三亚", "complaint": "shopping"})


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={**data, "_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False)


def test_a_case_taken_through_the_example_committee(database_url, tmp_path, arun, login):
    from litestar.testing import TestClient

    from core import clock
    from core.sdk.conformance import channel_indicators
    from core.users import create_organisation, create_room, create_user
    from web.app import create_app

    settings = _settings(database_url, tmp_path, 'enabled_channels = ["general", "tourism"]\n')
    org = arun(create_organisation("tour-org", "某市旅游纠纷人民调解委员会", kind="industry"))
    arun(create_room("tour-room", name="旅游纠纷调解室", channel="tourism", organisation=org["id"], number_prefix="旅调"))
    arun(create_user("tour-med", "correct-horse-1", role="mediator", room_id="tour-room", display_name="旅调员"))
    admin = arun(create_user("tour-admin", "correct-horse-1", role="admin", display_name="管理员"))
    app = create_app(settings, entry_points=True)
    with TestClient(app, base_url="https://testserver.local") as client:
        login(client, "tour-med")
        assert "旅游纠纷人民调解委员会" in client.get("/intake/").text
        page = client.get("/intake/tourism/application")
        assert page.status_code == 200 and "旅行社" in page.text and "擅自变更行程" in page.text
        form = {"c.summary": "旅行团被安排强迫购物", "c.dispute_type": "consumer", "a.name": "王五", "r.name": "某国际旅行社",
                "r.kind": "organization", "f.agency": "某国际旅行社", "f.departed_on": "2026-10-01",
                "f.destination": "三亚", "f.complaint": "shopping"}
        bad = _post(client, "/intake/tourism/application", {**form, "f.complaint": "", "c.dispute_type": "neighbour"})
        assert bad.status_code == 422 and "此项为必填" in bad.text
        refused = _post(client, "/intake/tourism/application", {**form, "c.dispute_type": "neighbour"})
        assert refused.status_code == 422 and "旅游纠纷人民调解委员会受理消费、合同纠纷，不受理此类纠纷" in refused.text
        resp = _post(client, "/intake/tourism/application", form)
        assert resp.status_code == 303, resp.text
        url = resp.headers["location"]
        case_id = int(re.search(r"/cases/(\d+)", url).group(1))
        page = client.get(f"/cases/{case_id}")
        assert "发起设立单位：文化和旅游主管部门" in page.text
        assert "三亚" in page.text and "旅游法 第九十二条" in page.text  # the example's own panel template
        for key in ("accept", "start_mediation"):
            assert _post(client, f"/cases/{case_id}/transitions/{key}", {}).status_code == 303
        today = clock.today().isoformat()
        assert _post(client, f"/cases/{case_id}/sessions", {
            "held_at": f"{today}T10:00", "place": "调解室", "attendees": "王五、旅行社代表", "record": "双方陈述",
            "outcome": "agreement"}).status_code == 303
        assert _post(client, f"/cases/{case_id}/agreement", {
            "form": "written", "facts": "旅行社安排购物违反合同约定", "terms": "旅行社退还购物款并赔偿", "amount": "3000",
            "performance_method": "银行转账", "performance_deadline": today, "signed_by_parties": "1",
            "signed_by_mediator": "1", "sealed": "1", "signed_on": today}).status_code == 303
        assert _post(client, f"/cases/{case_id}/transitions/settle", {}).status_code == 303
        page = client.get(f"/cases/{case_id}")
        assert "调解成功" in page.text
    from core.access import UserCtx

    values = arun(channel_indicators(app.state["fq"].registry, "tourism", UserCtx.from_row(admin), clock.today().year))
    assert values["tourism_registered_cases"] == 1 and values["tourism_settled_cases"] == 1
    assert values["tourism_success_percent"] == 100
