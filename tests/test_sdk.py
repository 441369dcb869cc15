"""The SDK for outside developers: the conformance kit and the pytest plugin (entry point ``pytest11``)."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from typing import Annotated

import msgspec
import pytest
from msgspec import Meta

from core import hookimpl
from core.sdk import conformance
from tests.test_industry import SAMPLES


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_the_built_in_committees_conform(registry, key):
    assert conformance.problems(registry, key, sample=SAMPLES[key][0]) == []


class NoTitle(msgspec.Struct, kw_only=True):
    where: str
    amount: Annotated[int, Meta(title="金额", ge=0)]


class Broken:
    """A channel that gets many things wrong."""

    @hookimpl
    def fengqiao_register_channels(self, settings):
        from core.channels import Channel

        return [Channel(key="broken", label="坏渠道", label_en="Broken", case_source="application")]

    @hookimpl
    def fengqiao_register_intake_forms(self, settings):
        from core.channels import IntakeForm

        return [IntakeForm(channel="broken", kind="walk_in", label="登记", label_en="Walk-in", schema=NoTitle,
                           default_dispute_type="no_such_code")]

    @hookimpl
    def fengqiao_register_handoff_protocols(self, settings):
        from core.channels import HandoffProtocol, Transition
        from plugins.industry.model import STATES

        states = tuple(s for s in STATES if s.key in {"registered", "declined", "closed"})
        return [HandoffProtocol(channel="broken", initial="registered", states=states, transitions=(
            Transition("decline", ("registered",), "declined", "不予受理", "case.declined"),
            Transition("close", ("declined",), "closed", "", "case.closed", roles=())))]

    @hookimpl
    def fengqiao_register_statistics(self, settings):
        from core.channels import StatisticDef

        return [StatisticDef("broken_rate_percent", "比例", channel="broken", unit="percent",
                             ratio=("broken_a_cases", "broken_b_cases")),
                StatisticDef("other_x_cases", "计数", channel="broken", counts="registered")]


def test_the_kit_names_every_problem(settings):
    from core.plugins import DEFAULT_PLUGINS
    from core.registry import build_registry

    reg = build_registry(settings, [*DEFAULT_PLUGINS, Broken()], entry_points=False)
    found = "\n".join(conformance.problems(reg, "broken", sample={"where": "x", "amount": -1}))
    for expected in ("field 'where' needs a Chinese title", "unknown dispute type code 'no_such_code'",
                     "no path from 'registered' to a 'settled' state", "'archived' state",
                     "transition 'close' needs roles and a label", "ratio names unknown statistics",
                     "statistic 'other_x_cases' of channel 'broken' must be named broken_…",
                     "the sample does not validate"):
        assert expected in found, (expected, found)
    with pytest.raises(conformance.ConformanceError, match="does not conform"):
        conformance.assert_conforms(reg, "broken")
    assert conformance.problems(reg, "nothing")[0].startswith("channel 'nothing' is not registered")


def test_a_schema_that_does_not_render_is_reported():
    class BadDecimal(msgspec.Struct, kw_only=True):
        amount: Annotated[__import__("decimal").Decimal, Meta(title="金额", ge=0)]

    assert "does not render as a form" in conformance._schema_problems("form x", BadDecimal, None)[0]


def test_statistics_compute_on_an_empty_and_a_small_dataset(registry, world, cipher, arun):
    from core.users import create_room

    room = arun(create_room("labour-1", name="劳调室", channel="labour", organisation=world["orgs"][0]["id"]))
    values = arun(conformance.check_statistics(registry, "labour", room=room, user=world["users"]["admin"],
                                               cipher=cipher, sample=SAMPLES["labour"][0],
                                               dispute_type="labour.wage_arrears"))
    assert values["labour_registered_cases"] == 3 and values["labour_accepted_cases"] == 1
    assert values["labour_wage_arrears_cases"] == 3 and values["labour_success_percent"] == 0
    with pytest.raises(conformance.ConformanceError, match="not zero on an empty dataset"):
        arun(conformance.check_statistics(registry, "labour", room=room, user=world["users"]["admin"], cipher=cipher,
                                          sample=SAMPLES["labour"][0], dispute_type="labour"))


def test_the_pytest_plugin_is_exported_and_loaded(request):
    eps = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11") if ep.dist.name == "fengqiao"}
    assert eps == {"fengqiao": "core.sdk.pytest_plugin"}
    assert request.config.pluginmanager.hasplugin("fengqiao")


def test_importing_the_pytest_plugin_is_cheap_and_side_effect_free():
    code = ("import sys; before = set(sys.modules); import core.sdk.pytest_plugin; "
            "print(sorted(m for m in set(sys.modules) - before if not m.startswith(('_', 'pytest', '_pytest'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out)  # noqa: S307 - our own output
    assert {"core", "core.sdk", "core.sdk.pytest_plugin"} <= set(loaded)
    # only pytest's own dependencies (pluggy …) and the hook markers; no app, database or plugins
    ours = [m for m in loaded if m.split(".")[0] in {"core", "web", "plugins", "litestar", "piccolo", "msgspec"}]
    assert sorted(ours) == ["core", "core.hookspecs", "core.sdk", "core.sdk.pytest_plugin"]


def test_the_fixtures_build_an_app_with_an_explicit_plugin_list(fengqiao_client, fengqiao_room, fengqiao_login,
                                                                fengqiao_registry):
    """The exported fixtures (prefixed, so they live beside this suite's own) in use: SQLite only."""
    people = fengqiao_room("medical")
    fengqiao_login(fengqiao_client, "medical-sup")
    page = fengqiao_client.get("/channels/medical/experts")
    assert page.status_code == 200 and "医疗纠纷人民调解委员会" in page.text and "临床医学" in page.text
    assert people["supervisor"].organisation == people["organisation"]["id"]
    assert "medical" in fengqiao_registry.channels


@pytest.fixture
def fengqiao_plugins():
    return ["core.builtin", "core.documents", "core.statistics", "plugins.general", "plugins.industry"]


@pytest.fixture
def fengqiao_config():
    return 'enabled_channels = ["general", "medical"]\n'


def test_overriding_the_plugin_list_and_config(fengqiao_registry):
    assert set(fengqiao_registry.channels) == {"general", "medical"}
    assert fengqiao_registry.pm.get_plugin("handoff") is None
