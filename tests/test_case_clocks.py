"""Running clocks on cases: start event, projection, pauses, extensions, judicial confirmation, sweep."""

import datetime as dt
from typing import Annotated

import msgspec
import pytest

from core import clock, hookimpl
from core.case_clocks import extend_clock, pause_clock, resume_clock, sweep_overdue
from core.cases import Refused, apply_transition, create_case, record_session, save_agreement
from core.channels import Channel, HandoffProtocol, IntakeForm, ProtocolState, Transition
from core.deadlines import Citation, DayUnit, DeadlineRule, ExtensionMode
from core.forms import FormErrors
from core.intake import CaseIntake, PartyIn
from core.lifecycle import CoreStatus as S
from core.plugins import DEFAULT_PLUGINS
from core.records import AgreementIn, SessionIn
from core.registry import build_registry
from core.tables import Case, CaseEvent


class ReferralFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    court: Annotated[str, msgspec.Meta(title="法院")] = "郧西县人民法院"


class ReferralPlugin:
    """A court-like test channel: a 30-day clock from receipt, appraisal not counted, +30 by consent."""

    NAME = "referral_test"

    @hookimpl
    def fengqiao_register_channels(self, settings):
        return [Channel(key="reftest", label="委派测试", label_en="Referral test", case_source="referral.court")]

    @hookimpl
    def fengqiao_register_intake_forms(self, settings):
        return [IntakeForm(channel="reftest", kind="pre_filing", label="委派调解", label_en="Pre-filing",
                           schema=ReferralFields, deadline_rule="reftest_mediation")]

    @hookimpl
    def fengqiao_register_deadline_rules(self, settings):
        return [DeadlineRule(key="reftest_mediation", label="委派调解期限", limit=30, unit=DayUnit.CALENDAR,
                             starts_on="received", citations=(Citation("最高人民法院关于人民法院特邀调解的规定", "第二十七条"),),
                             tolling_events=("appraisal",), extension=ExtensionMode.CONSENT, extension_cap=30)]

    @hookimpl
    def fengqiao_register_handoff_protocols(self, settings):
        return [HandoffProtocol(
            channel="reftest", initial="received",
            states=(ProtocolState("received", "已接收", S.REGISTERED), ProtocolState("accepted", "已受理", S.ACCEPTED),
                    ProtocolState("mediating", "调解中", S.IN_MEDIATION)),
            transitions=(Transition("accept", ("received",), "accepted", "受理", "case.accepted"),
                         Transition("start", ("accepted",), "mediating", "开始调解", "case.mediation_started")))]


@pytest.fixture
def reg(settings):
    return build_registry(settings, [*DEFAULT_PLUGINS, ReferralPlugin()], entry_points=False)


@pytest.fixture
def room(world, arun):
    from core.users import create_room

    return arun(create_room("room-ref", name="诉调对接工作室", channel="reftest",
                            organisation=world["orgs"][0]["id"], number_prefix="诉调"))


def _referral(reg, room, user, cipher, arun, registered_at=None):
    form = reg.form("reftest", "pre_filing")
    return arun(create_case(reg, room=room, form=form, intake=CaseIntake(summary="租赁纠纷", dispute_type="contract"),
                            parties=[PartyIn(role="applicant", name="甲"), PartyIn(role="respondent", name="乙")],
                            fields=ReferralFields(), actor=user, cipher=cipher, registered_at=registered_at))


def _row(arun, case_id):
    return arun(Case.select().where(Case.id == case_id).first())


def test_clock_from_receipt_pause_resume_extend(reg, room, world, cipher, arun):
    user = world["users"]["sup-1"]
    start = dt.datetime(2026, 6, 1, 9, tzinfo=clock.TZ)  # a Monday; 30 days → 2026-07-01 (Wednesday)
    case = _referral(reg, room, user, cipher, arun, registered_at=start)
    row = _row(arun, case["id"])
    assert row["clock_started_on"] == dt.date(2026, 6, 1) and row["deadline"] == dt.date(2026, 7, 1)

    clock.freeze(dt.datetime(2026, 6, 20, 10, tzinfo=clock.TZ))
    try:
        with pytest.raises(FormErrors):
            arun(pause_clock(reg, case["id"], user, event="holiday", start_on=dt.date(2026, 6, 10), reason="不计入"))
        arun(pause_clock(reg, case["id"], user, event="appraisal", start_on=dt.date(2026, 6, 10), reason="伤情鉴定"))
        with pytest.raises(Refused, match="已在暂停中"):
            arun(pause_clock(reg, case["id"], user, event="appraisal", start_on=dt.date(2026, 6, 11), reason="再次"))
        # paused 6-10..6-19 so far (an open pause counts up to today): 7-01 + 10 days = Saturday 7-11,
        # which rolls to the next working day
        assert _row(arun, case["id"])["deadline"] == dt.date(2026, 7, 13)
        arun(resume_clock(reg, case["id"], user, end_on=dt.date(2026, 6, 15)))  # 5 days not counted
        assert _row(arun, case["id"])["deadline"] == dt.date(2026, 7, 6)
        arun(extend_clock(reg, case["id"], user, days=20, by="双方当事人", reason="同意继续调解"))
        assert _row(arun, case["id"])["deadline"] == dt.date(2026, 7, 27)  # Sunday 7-26 rolls to Monday
        with pytest.raises(FormErrors) as err:
            arun(extend_clock(reg, case["id"], user, days=11, by="双方当事人", reason="再延长"))
        assert "days" in err.value.errors
        arun(extend_clock(reg, case["id"], user, days=10, by="双方当事人", reason="再延长"))
        assert _row(arun, case["id"])["deadline"] == dt.date(2026, 8, 5)
    finally:
        clock.freeze(None)
    types = [e["type"] for e in arun(CaseEvent.select(CaseEvent.type).where(CaseEvent.case == case["id"]))]
    assert types.count("case.clock_paused") == 1 and types.count("case.clock_extended") == 2
    assert "case.clock_resumed" in types


def test_general_clock_starts_at_acceptance_and_is_projected_before(registry, world, make_case, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    row = _row(arun, case["id"])
    assert row["clock_started_on"] is None
    assert row["deadline"] is not None and row["deadline"] >= clock.today() + dt.timedelta(days=30)
    with pytest.raises(Refused, match="没有正在计算的期限"):
        arun(extend_clock(registry, case["id"], user, days=5, by="双方", reason="同意"))
    arun(apply_transition(registry, case["id"], "accept", user))
    row = _row(arun, case["id"])
    assert row["clock_started_on"] == clock.today()
    # general mediation has no tolling events: a pause is refused
    with pytest.raises(FormErrors):
        arun(pause_clock(registry, case["id"], user, event="appraisal", start_on=clock.today(), reason="鉴定"))


def test_sweep_writes_one_event_per_passed_deadline(reg, room, world, cipher, arun):
    user = world["users"]["sup-1"]
    old = _referral(reg, room, user, cipher, arun, registered_at=dt.datetime(2026, 1, 5, 9, tzinfo=clock.TZ))
    fresh = _referral(reg, room, user, cipher, arun)
    assert arun(sweep_overdue(reg)) == 1
    assert arun(sweep_overdue(reg)) == 0, "the sweep is idempotent"
    events = arun(CaseEvent.select(CaseEvent.case, CaseEvent.data).where(CaseEvent.type == "case.deadline_passed")
                  .output(load_json=True))
    assert [(e["case"], e["data"]["deadline"]) for e in events] == [(old["id"], "2026-02-04")]
    assert fresh["id"] != old["id"]


def test_case_page_shows_clock_citation_and_confirmation_window(client, registry, world, make_case, login, csrf, arun):
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user)
    arun(apply_transition(registry, case["id"], "accept", user))
    login(client, "med-a")
    page = client.get(f"/cases/{case['id']}").text
    assert "调解期限" in page and "依据：《人民调解工作若干规定》第三十三条" in page and "剩余 30 天" in page
    resp = client.post(f"/cases/{case['id']}/clock/extend",
                       data={"_csrf_token": csrf(client), "days": "15", "by": "双方当事人", "reason": "同意继续调解"})
    assert resp.status_code == 200 and "已延长 15 日" in resp.text and "剩余 45 天" in resp.text
    bad = client.post(f"/cases/{case['id']}/clock/extend", data={"_csrf_token": csrf(client), "days": "0", "by": "", "reason": ""})
    assert bad.status_code == 422 and "不能小于 1" in bad.text
    arun(apply_transition(registry, case["id"], "start_mediation", user))
    arun(record_session(registry, case["id"], user, SessionIn(held_at=clock.now(), place="室", attendees="双方", record="记录")))
    arun(save_agreement(registry, case["id"], user, AgreementIn(
        terms="乙方于十日内向甲方支付赔偿款100元", facts="事实", performance_method="现金",
        amount=__import__("decimal").Decimal("100"), performance_deadline=clock.today() + dt.timedelta(days=10),
        signed_by_parties=True,
        signed_by_mediator=True, sealed=True, signed_on=clock.today())))
    arun(apply_transition(registry, case["id"], "settle", user))
    page = client.get(f"/cases/{case['id']}").text
    assert "申请司法确认期限" in page and "《人民调解法》第三十三条" in page
    assert (clock.today() + dt.timedelta(days=30)).isoformat()[:7] in page


def test_serve_sweeps_in_process_and_the_cli_sweeps_on_demand(settings, reg, room, world, cipher, arun, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from litestar.testing import TestClient

    from web.app import create_app

    user = world["users"]["sup-1"]
    first = _referral(reg, room, user, cipher, arun, registered_at=dt.datetime(2026, 1, 5, 9, tzinfo=clock.TZ))
    app = create_app(settings, plugins=[*DEFAULT_PLUGINS, ReferralPlugin()], entry_points=False, deadline_sweeper=True)
    with TestClient(app, base_url="https://testserver.local"):
        for _ in range(100):
            if arun(CaseEvent.count().where(CaseEvent.type == "case.deadline_passed")):
                break
            import time

            time.sleep(0.05)
    assert arun(CaseEvent.select(CaseEvent.case).where(CaseEvent.type == "case.deadline_passed")) == [{"case": first["id"]}]

    # the CLI (general channel only): an accepted walk-in case whose deadline has passed
    from core.cases import apply_transition

    _referral(reg, room, user, cipher, arun)  # a fresh referral, not overdue: the sweep must skip it
    form = reg.form("general", "walk_in")
    gen = arun(create_case(reg, room=world["rooms"]["a"], form=form, intake=CaseIntake(summary="邻里", dispute_type="neighbour"),
                       parties=[PartyIn(role="applicant", name="甲"), PartyIn(role="respondent", name="乙")],
                       fields=form.schema(), actor=world["users"]["med-a"], cipher=cipher))
    arun(apply_transition(reg, gen["id"], "accept", world["users"]["med-a"]))
    arun(Case.update({Case.deadline: clock.today() - dt.timedelta(days=1)}).where(Case.id == gen["id"]))
    env = {**os.environ, "FENGQIAO_DATA_DIR": str(settings.data_dir), "FENGQIAO_DATABASE_URL": settings.database_url,
           "FENGQIAO_SECRET_KEY": settings.secret_key, "FENGQIAO_DISABLED_PLUGINS": ""}
    exe = Path(sys.executable).with_name("fengqiao")
    out = subprocess.run([str(exe), "deadlines", "sweep"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1 case(s) newly past their deadline"
    again = subprocess.run([str(exe), "deadlines", "sweep"], env=env, capture_output=True, text=True, timeout=60)
    assert again.stdout.strip() == "0 case(s) newly past their deadline"
