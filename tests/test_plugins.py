"""The plugin system: loading, blocking, duplicates, check_pending, tracing, entry points, slots."""

from __future__ import annotations

import logging
from typing import Annotated

import msgspec
import pytest
from litestar import get
from markupsafe import Markup

from core import hookimpl
from core.channels import Channel, HandoffProtocol, IntakeForm, ProtocolState, RegistrationError, StatisticDef, Transition
from core.deadlines import Citation, DayUnit, DeadlineRule
from core.lifecycle import CoreStatus as S
from core.plugins import DEFAULT_PLUGINS, PluginError, build_plugin_manager, plugin_infos
from core.registry import build_registry
from core.settings import load_settings


@pytest.fixture
def base_settings(tmp_path):
    return load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k" * 40})


class ExtraFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ticket: Annotated[str, msgspec.Meta(title="工单号", min_length=1)]


def _extra_protocol(key: str) -> HandoffProtocol:
    states = (
        ProtocolState("received", "已接收", S.REGISTERED),
        ProtocolState("taken", "已受理", S.ACCEPTED),
        ProtocolState("returned", "已退回", S.DECLINED, terminal=True),
    )
    return HandoffProtocol(
        channel=key,
        initial="received",
        states=states,
        transitions=(
            Transition("take", ("received",), "taken", "受理", "case.accepted"),
            Transition("return", ("received",), "returned", "退回", "case.declined"),
        ),
    )


class ExtraChannelPlugin:
    """A channel plugin written like an outside package: channel, form, protocol, rule, route, stat."""

    NAME = "extra"

    @hookimpl
    def fengqiao_register_channels(self, settings):
        return [Channel(key="extra", label="附加渠道", label_en="Extra", case_source="referral.government")]

    @hookimpl
    def fengqiao_register_intake_forms(self, settings):
        return [IntakeForm(channel="extra", kind="order", label="工单", label_en="Order", schema=ExtraFields,
                           deadline_rule="extra_handle")]

    @hookimpl
    def fengqiao_register_handoff_protocols(self, settings):
        return [_extra_protocol("extra")]

    @hookimpl
    def fengqiao_register_deadline_rules(self, settings):
        return [DeadlineRule(key="extra_handle", label="办理期限", limit=5, unit=DayUnit.WORKING,
                             starts_on="accepted", citations=(Citation("某办法", "第二十条"),))]

    @hookimpl
    def fengqiao_register_statistics(self, settings):
        return [StatisticDef(name="extra_orders_cases", label="工单数", sql="COUNT(*)", channel="extra")]

    @hookimpl
    def fengqiao_register_routes(self, settings):
        @get("/channels/extra/hello", sync_to_thread=False)
        def hello() -> str:
            return "extra-hello"

        return [hello]


BUILTIN_CHANNELS = {"general", "court", "police", "procuratorate", "petition", "medical", "traffic", "labour",
                    "property"}
"""Channels of the built-in plugins (the industry plugin hosts four committees)."""


def test_default_plugins_load_with_versions_and_hooks(base_settings):
    reg = build_registry(base_settings, entry_points=False)
    assert BUILTIN_CHANNELS <= set(reg.channels)
    assert reg.owners["general"] == "general" and reg.owners["court"] == "court"
    infos = {i.name: i for i in plugin_infos(reg.pm)}
    assert {m.rsplit(".", 1)[-1] for m in DEFAULT_PLUGINS} <= set(infos)
    assert "fengqiao_register_channels" in infos["general"].hooks
    assert "fengqiao_register_deadline_rules" in infos["builtin"].hooks
    assert infos["general"].version == "0.1.0"
    assert DEFAULT_PLUGINS[0] == "core.builtin"


def test_outside_style_plugin_registers_everything(base_settings):
    reg = build_registry(base_settings, [*DEFAULT_PLUGINS, ExtraChannelPlugin()], entry_points=False)
    assert set(reg.channels) == set(build_registry(base_settings, entry_points=False).channels) | {"extra"}
    assert reg.form("extra", "order").schema is ExtraFields
    assert reg.protocol("extra").initial == "received"
    assert "extra_handle" in reg.deadline_rules
    assert "extra_orders_cases" in reg.statistics


def test_disabled_plugin_is_blocked(base_settings):
    settings = base_settings.with_(disabled_plugins=("extra",))
    reg = build_registry(settings, [*DEFAULT_PLUGINS, ExtraChannelPlugin()], entry_points=False)
    assert reg.pm.is_blocked("extra")
    assert "extra" not in reg.channels


def test_channel_not_enabled_blocks_its_plugin_forms_and_routes(base_settings, tmp_path, arun, login):
    from litestar.testing import TestClient

    from web.app import create_app

    settings = base_settings.with_(enabled_channels=("general",),
                                   database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", db_pool=False)
    plugins = [*DEFAULT_PLUGINS, ExtraChannelPlugin()]
    reg = build_registry(settings, plugins, entry_points=False)
    assert reg.pm.is_blocked("extra")
    assert reg.form("extra", "order") is None and "extra" not in reg.protocols
    assert "extra_handle" not in reg.deadline_rules
    with TestClient(create_app(settings, plugins=plugins, entry_points=False), base_url="https://t.local") as client:
        assert client.get("/channels/extra/hello").status_code == 404
    enabled = base_settings.with_(database_url=f"sqlite:///{tmp_path / 'db2.sqlite3'}", db_pool=False)
    with TestClient(create_app(enabled, plugins=plugins, entry_points=False), base_url="https://t.local") as client:
        resp = client.get("/channels/extra/hello", follow_redirects=False)  # plugin pages are for staff
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
        from core.users import create_user

        arun(create_user("extra-admin", "correct-horse-1", role="admin"))
        login(client, "extra-admin")
        resp = client.get("/channels/extra/hello")
        assert resp.status_code == 200 and resp.text == "extra-hello"


def test_enabling_an_unknown_channel_is_a_startup_error(base_settings):
    with pytest.raises(RegistrationError, match="nonexistent"):
        build_registry(base_settings.with_(enabled_channels=("general", "nonexistent")), entry_points=False)


def test_duplicate_plugin_names_name_both(base_settings):
    class A:
        NAME = "same"

    class B:
        NAME = "same"

    with pytest.raises(PluginError) as err:
        build_plugin_manager(base_settings, [A(), B()], entry_points=False)
    assert "<locals>.A" in str(err.value) and "<locals>.B" in str(err.value)


def test_duplicate_channel_key_names_both_plugins(base_settings):
    class Copy:
        NAME = "copycat"

        @hookimpl
        def fengqiao_register_channels(self, settings):
            return [Channel(key="general", label="重复", label_en="dup", case_source="application")]

    with pytest.raises(RegistrationError) as err:
        build_registry(base_settings, [*DEFAULT_PLUGINS, Copy()], entry_points=False)
    assert "'general'" in str(err.value) and "'copycat'" in str(err.value)


def test_misspelt_hook_fails_check_pending(base_settings):
    class Typo:
        NAME = "typo"

        @hookimpl
        def fengqiao_register_chanels(self, settings):  # misspelt on purpose
            return []

    with pytest.raises(PluginError, match="fengqiao_register_chanels"):
        build_plugin_manager(base_settings, [Typo()], entry_points=False)


def test_channel_without_protocol_or_form_is_refused(base_settings):
    class Half:
        NAME = "half"

        @hookimpl
        def fengqiao_register_channels(self, settings):
            return [Channel(key="half", label="半", label_en="half", case_source="application")]

    with pytest.raises(RegistrationError, match="no handoff protocol"):
        build_registry(base_settings, [*DEFAULT_PLUGINS, Half()], entry_points=False)


def test_form_naming_unknown_deadline_rule_is_refused(base_settings):
    class BadRule(ExtraChannelPlugin):
        @hookimpl
        def fengqiao_register_deadline_rules(self, settings):
            return []

    with pytest.raises(RegistrationError, match="extra_handle"):
        build_registry(base_settings, [*DEFAULT_PLUGINS, BadRule()], entry_points=False)


def test_duplicate_deadline_rule_names_both(base_settings):
    class Twice(ExtraChannelPlugin):
        NAME = "twice"

        @hookimpl
        def fengqiao_register_channels(self, settings):
            return []

        @hookimpl
        def fengqiao_register_intake_forms(self, settings):
            return []

        @hookimpl
        def fengqiao_register_handoff_protocols(self, settings):
            return []

        @hookimpl
        def fengqiao_register_statistics(self, settings):
            return []

    with pytest.raises(RegistrationError) as err:
        build_registry(base_settings, [*DEFAULT_PLUGINS, ExtraChannelPlugin(), Twice()], entry_points=False)
    assert "extra_handle" in str(err.value) and "'extra'" in str(err.value) and "'twice'" in str(err.value)


def test_statistic_names_follow_the_convention():
    with pytest.raises(RegistrationError):
        StatisticDef(name="Cases", label="x", sql="COUNT(*)")


def test_protocol_mapping_outside_the_lifecycle_is_refused():
    with pytest.raises(RegistrationError, match="lifecycle does not allow"):
        HandoffProtocol(
            channel="bad",
            initial="r",
            states=(ProtocolState("r", "登记", S.REGISTERED), ProtocolState("done", "归档", S.ARCHIVED)),
            transitions=(Transition("skip", ("r",), "done", "直接归档", "case.archived"),),
        )


def test_protocol_with_unreachable_state_is_refused():
    with pytest.raises(RegistrationError, match="not reachable"):
        HandoffProtocol(
            channel="bad",
            initial="r",
            states=(ProtocolState("r", "登记", S.REGISTERED), ProtocolState("a", "受理", S.ACCEPTED)),
            transitions=(),
        )


class _FakeDist:
    name = "fengqiao-outside"


class _FakeEntryPoint:
    def __init__(self, name, obj):
        self.name, self._obj, self.dist = name, obj, _FakeDist()

    def load(self):
        return self._obj


def test_entry_point_plugins_are_loaded_and_clashes_named(base_settings, monkeypatch):
    import core.plugins as plugins_mod

    monkeypatch.setattr(plugins_mod.metadata, "entry_points",
                        lambda group: [_FakeEntryPoint("extra", ExtraChannelPlugin())] if group == "fengqiao" else [])
    reg = build_registry(base_settings)
    assert "extra" in reg.channels and reg.owners["extra"] == "extra"

    class General:
        NAME = "general"

    monkeypatch.setattr(plugins_mod.metadata, "entry_points",
                        lambda group: [_FakeEntryPoint("general", General())] if group == "fengqiao" else [])
    with pytest.raises(PluginError) as err:
        build_registry(base_settings)
    assert "plugins.general" in str(err.value) and "fengqiao-outside" in str(err.value)


def test_trace_logs_every_hook_call(base_settings, caplog):
    caplog.set_level(logging.INFO, logger="fengqiao.plugins")
    build_registry(base_settings.with_(trace_plugins=True), entry_points=False)
    # registration hooks are called per plugin at start-up; the trace names them
    pm = build_plugin_manager(base_settings.with_(trace_plugins=True), entry_points=False)
    pm.hook.fengqiao_register_routes(settings=base_settings)
    text = caplog.text
    assert "fengqiao_register_routes" in text


def test_untraced_manager_logs_nothing(base_settings, caplog):
    caplog.set_level(logging.INFO, logger="fengqiao.plugins")
    pm = build_plugin_manager(base_settings, entry_points=False)
    pm.hook.fengqiao_register_routes(settings=base_settings)
    assert "fengqiao_register_routes" not in caplog.text


class PanelPlugin:
    NAME = "panel"

    @hookimpl
    async def fengqiao_case_panels(self, case, user):
        return {"title": "插件面板", "html": Markup(f"<p class='plugin-panel'>案件 {case['number']}</p>")}


class CountingPanelPlugin:
    """A panel that names its statement for the case page's batch (``fengqiao_case_page_reads``)."""

    NAME = "counting-panel"

    def __init__(self):
        self.asked = []

    @staticmethod
    def _read(case_id):
        from core.sql import Read

        return Read('SELECT COUNT(*) AS n FROM core_case_event WHERE "case" = {}', (case_id,))

    @hookimpl
    def fengqiao_case_page_reads(self, case_id, registry):
        self.asked.append((case_id, registry is not None))
        return [self._read(case_id)]

    @hookimpl
    async def fengqiao_case_panels(self, case):
        from core.sql import fetch

        read = self._read(case["id"])
        n = (await fetch(read.sql, *read.args))[0]["n"]
        return {"title": "事件计数", "html": Markup(f"<p class='event-count'>事件 {int(n)} 条</p>")}


class RecorderPlugin:
    NAME = "recorder"

    def __init__(self):
        self.events = []
        self.registered = []
        self.fulfilment = []

    @hookimpl
    async def fengqiao_case_registered(self, case):
        if case["dispute_type"] == "other":
            raise RuntimeError("refuse 'other'")
        self.registered.append((case["number"], case["channel"], case["status"]))

    @hookimpl
    def fengqiao_agreement_fulfilment_changed(self, case_id):
        self.fulfilment.append(case_id)

    @hookimpl
    def fengqiao_case_transitioned(self, event):
        if event["transition"] == "decline":
            raise RuntimeError("refuse declines")
        self.events.append((event["type"], event["from_state"], event["to_state"]))


def _make_with(reg, world, user, dispute_type="neighbour"):
    """Register a case through ``reg`` (so this test's plugins see it)."""
    from core.cases import create_case
    from core.crypto import FieldCipher
    from core.intake import CaseIntake, PartyIn

    form = reg.form("general", "walk_in")
    return _run(create_case(reg, room=world["rooms"]["a"], form=form,
                            intake=CaseIntake(summary="测试", dispute_type=dispute_type),
                            parties=[PartyIn(role="applicant", name="甲"), PartyIn(role="respondent", name="乙")],
                            fields=form.schema(), actor=user, cipher=FieldCipher.from_secret("x" * 40)))


def _run(aw):
    import asyncio

    async def go():
        return await aw

    return asyncio.run(go())


def test_case_panel_slot_and_transition_hook(settings, world, arun, tmp_path):
    from litestar.testing import TestClient

    from core.cases import apply_transition
    from core.tables import Case, CaseEvent
    from web.app import create_app

    recorder, counting = RecorderPlugin(), CountingPanelPlugin()
    plugins = [*DEFAULT_PLUGINS, PanelPlugin(), recorder, counting]
    reg = build_registry(settings, plugins, entry_points=False)
    user = world["users"]["med-a"]
    case = _make_with(reg, world, user)
    assert recorder.registered == [(case["number"], "general", "registered")]
    arun(apply_transition(reg, case["id"], "accept", user))
    assert recorder.events == [("case.accepted", "registered", "accepted")]
    # a registration hook that raises stores nothing
    with pytest.raises(RuntimeError):
        _make_with(reg, world, user, dispute_type="other")
    assert arun(Case.count()) == 1

    # a hook that raises aborts the whole change: state and event log untouched
    other = _make_with(reg, world, user)
    before = arun(CaseEvent.count().where(CaseEvent.case == other["id"]))
    with pytest.raises(RuntimeError):
        arun(apply_transition(reg, other["id"], "decline", user, {"reason": "不属于调解范围"}))
    assert arun(Case.select(Case.state).where(Case.id == other["id"]).first())["state"] == "registered"
    assert arun(CaseEvent.count().where(CaseEvent.case == other["id"])) == before

    with TestClient(create_app(settings, plugins=plugins, entry_points=False), base_url="https://t.local") as client:
        client.get("/login")
        client.post("/login", data={"username": "med-a", "password": world["password"],
                                    "_csrf_token": client.cookies.get("csrftoken")})
        page = client.get(f"/cases/{case['id']}")
        assert "插件面板" in page.text and f"案件 {case['number']}" in page.text
        # the panel's named statement was read with the page's batch and its rows handed to the panel
        events = arun(CaseEvent.count().where(CaseEvent.case == case["id"]))
        assert f"事件 {events} 条" in page.text and counting.asked == [(case["id"], True)]


def test_plugins_page_lists_plugins_rules_and_channels(client, world, login):
    login(client, "med-a")
    page = client.get("/-/plugins")
    assert page.status_code == 200
    for text in ("builtin", "general", "fengqiao_register_handoff_protocols", "人民调解",
                 "general_mediation", "《人民调解工作若干规定》第三十三条"):
        assert text in page.text


def test_fulfilment_hook_runs_when_a_followup_records_performance(settings, world, arun):
    import datetime as dt
    from decimal import Decimal

    from core import clock
    from core.cases import apply_transition, record_session, save_agreement
    from core.followups import FollowUpIn, record_followup
    from core.records import AgreementIn, SessionIn

    recorder = RecorderPlugin()
    reg = build_registry(settings, [*DEFAULT_PLUGINS, recorder], entry_points=False)
    user = world["users"]["med-a"]
    case = _make_with(reg, world, user)
    for key in ("accept", "start_mediation"):
        arun(apply_transition(reg, case["id"], key, user))
    arun(record_session(reg, case["id"], user, SessionIn(held_at=clock.now(), place="室", attendees="双方", record="记录")))
    arun(save_agreement(reg, case["id"], user, AgreementIn(
        terms="乙方于十日内支付甲方200元", facts="事实", performance_method="转账", amount=Decimal("200"),
        performance_deadline=clock.today() + dt.timedelta(days=10), signed_by_parties=True,
        signed_by_mediator=True, sealed=True, signed_on=clock.today())))
    arun(apply_transition(reg, case["id"], "settle", user))
    assert recorder.fulfilment == []
    arun(record_followup(reg, case["id"], user, FollowUpIn(done_on=clock.today(), performance="performed",
                                                           satisfaction="satisfied")))
    assert recorder.fulfilment == [case["id"]]
