"""Channels register their own documents and agreement requirements through the documents hooks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from core import hookimpl
from core.cases import Refused, apply_transition, create_case, record_session, save_agreement
from core.channels import Channel, HandoffProtocol, IntakeForm, RegistrationError
from core.documents.casefile import build_index, record_item
from core.documents.facts import load_facts
from core.documents.guards import require_case_file
from core.documents.model import DocumentDef, Layout, PartySignatures, PartyTable, Seal, Section, Title, must_mention
from core.forms import FormErrors
from core.intake import CaseIntake, PartyIn
from core.plugins import DEFAULT_PLUGINS
from core.records import AgreementIn, SessionIn
from core.registry import build_registry
from core.settings import load_settings
from plugins.general.forms import WalkInFields
from plugins.general.protocol import STATES, TRANSITIONS

def docx_text(data: bytes) -> str:
    import io

    from docx import Document

    doc = Document(io.BytesIO(data))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


TRAFFIC_WORDS = ("责任比例", "全部责任", "主要责任", "同等责任", "次要责任")


async def _traffic_context(base):
    return {"traffic": {"liability": "事故责任以交警部门出具的道路交通事故认定书为准。"}}


TRAFFIC_DOC = DocumentDef(
    "traffic_compensation", "道路交通事故损害赔偿调解协议书",
    Layout((
        Title("道路交通事故损害赔偿调解协议书", subtitle="{{ agreement.number }}"),
        PartyTable(),
        Section("事故责任", "{{ traffic.liability }}"),
        Section("损失项目及赔偿金额", "{{ agreement.terms }}"),
        PartySignatures(),
        Seal(),
    )),
    dispute_types=("traffic",), file_item="agreement", context=_traffic_context,
    available=lambda ctx: bool(ctx["has_agreement"]),
)


class TrafficDocsPlugin:
    """An industry-style plugin: a traffic agreement and a liability requirement (程序规定 第九十三条)."""

    NAME = "traffic_docs"

    @hookimpl
    def fengqiao_register_documents(self, settings):
        return [TRAFFIC_DOC]

    @hookimpl
    def fengqiao_register_agreement_requirements(self, settings):
        return [must_mention("traffic_liability", "各方的责任比例", TRAFFIC_WORDS, dispute_types=("traffic",),
                             citation="道路交通事故处理程序规定 第九十三条")]


RECEIPT = DocumentDef(
    "reftest_referral_receipt", "委派调解函（回执）",
    Layout((Title("委派调解函（回执）"), Section("案件", "{{ case.number }}"), Seal())),
    channels=("reftest",), required_for_archive=True, description="调解员签收法院委派材料的回执",
)


def _protocol(key: str, guard_docs: tuple[DocumentDef, ...]) -> HandoffProtocol:
    transitions = tuple(dataclasses.replace(t, guards=(require_case_file(extra=guard_docs),)) if t.key == "archive"
                        else t for t in TRANSITIONS)
    return HandoffProtocol(channel=key, initial="registered", states=STATES, transitions=transitions)


class ReferralChannelPlugin:
    """A court-like channel whose case file must hold the signed receipt of the referral letter."""

    NAME = "reftest_docs"
    guard_docs: tuple[DocumentDef, ...] = (RECEIPT,)

    @hookimpl
    def fengqiao_register_channels(self, settings):
        return [Channel(key="reftest", label="委派调解测试", label_en="Referral test", case_source="referral.court")]

    @hookimpl
    def fengqiao_register_intake_forms(self, settings):
        return [IntakeForm(channel="reftest", kind="pre_filing", label="委派调解", label_en="Pre-filing",
                           schema=WalkInFields)]

    @hookimpl
    def fengqiao_register_handoff_protocols(self, settings):
        return [_protocol("reftest", self.guard_docs)]

    @hookimpl
    def fengqiao_register_documents(self, settings):
        return [RECEIPT]


def _signed(**kw):
    base = dict(form="written", facts="甲车追尾乙车，甲方承担全部责任。", terms="甲方于2026年12月1日前赔偿乙方修车费3000元。",
                amount=Decimal("3000"), performance_method="银行转账", performance_deadline=dt.date(2026, 12, 1),
                signed_by_parties=True, signed_by_mediator=True, sealed=True, signed_on=dt.date(2026, 11, 20))
    return AgreementIn(**{**base, **kw})


def _mediate(reg, case_id, user, arun):
    arun(apply_transition(reg, case_id, "accept", user))
    arun(apply_transition(reg, case_id, "start_mediation", user))
    arun(record_session(reg, case_id, user, SessionIn(held_at=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC),
                                                      place="调解室", attendees="双方", record="协商")))


def test_a_plugin_document_and_requirement(settings, world, make_case, arun, login, client):
    reg = build_registry(settings, [*DEFAULT_PLUGINS, TrafficDocsPlugin()], entry_points=False)
    assert "traffic_compensation" in reg.documents and "traffic_liability" in reg.agreement_requirements
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user, dispute_type="traffic", summary="两车追尾")
    _mediate(reg, case["id"], user, arun)
    with pytest.raises(FormErrors) as err:
        arun(save_agreement(reg, case["id"], user, _signed(facts="甲车追尾乙车。")))
    assert "各方的责任比例" in err.value.errors["terms"] and "第九十三条" in err.value.errors["terms"]
    arun(save_agreement(reg, case["id"], user, _signed()))

    from core.cases import load_case
    from core.documents.context import build_context
    from core.documents.docx import render_docx

    row = arun(load_case(case["id"], user))
    assert [d.key for d in reg.documents_for(row)][-1] == "traffic_compensation"
    ctx = arun(build_context(reg, row))
    ctx.update(arun(_traffic_context(ctx)))
    text = docx_text(render_docx(TRAFFIC_DOC, ctx))
    for needle in ("道路交通事故损害赔偿调解协议书", "协字第", "事故责任以交警部门出具的道路交通事故认定书为准",
                   "甲方于2026年12月1日前赔偿乙方修车费3000元", "申请人 张三", "一号调委会（印章）"):
        assert needle in text

    # a neighbour case neither needs liability wording nor lists the traffic document
    other = make_case(world["rooms"]["a"], user)
    _mediate(reg, other["id"], user, arun)
    arun(save_agreement(reg, other["id"], user, _signed(facts="楼上漏水，楼上承担维修费用。")))
    assert "traffic_compensation" not in [d.key for d in reg.documents_for({**row, "dispute_type": "neighbour"})]


def test_plugin_document_over_http(settings, world, make_case, arun, login):
    from litestar.testing import TestClient

    from web.app import create_app

    plugins = [*DEFAULT_PLUGINS, TrafficDocsPlugin()]
    reg = build_registry(settings, plugins, entry_points=False)
    user = world["users"]["med-a"]
    case = make_case(world["rooms"]["a"], user, dispute_type="traffic", summary="两车追尾")
    other = make_case(world["rooms"]["a"], user)
    _mediate(reg, case["id"], user, arun)
    arun(save_agreement(reg, case["id"], user, _signed()))
    with TestClient(create_app(settings, plugins=plugins, entry_points=False), base_url="https://t.local") as client:
        login(client, "med-a")
        page = client.get(f"/cases/{case['id']}/file").text
        assert "道路交通事故损害赔偿调解协议书" in page and f"/cases/{case['id']}/documents/traffic_compensation.docx" in page
        html = client.get(f"/cases/{case['id']}/documents/traffic_compensation")
        assert html.status_code == 200 and "事故责任以交警部门出具的道路交通事故认定书为准" in html.text
        docx = client.get(f"/cases/{case['id']}/documents/traffic_compensation.docx")
        assert docx.status_code == 200 and "修车费3000元" in docx_text(docx.content)
        assert client.get(f"/cases/{other['id']}/documents/traffic_compensation").status_code == 404


def test_channel_document_required_for_archive(settings, world, arun, cipher):
    from core.users import create_room

    reg = build_registry(settings, [*DEFAULT_PLUGINS, ReferralChannelPlugin()], entry_points=False)
    room = arun(create_room("room-ref", name="诉调对接工作室", channel="reftest", organisation=world["orgs"][0]["id"],
                            number_prefix="诉调"))
    user = world["users"]["admin"]
    form = reg.form("reftest", "pre_filing")
    case = arun(create_case(reg, room=room, form=form, intake=CaseIntake(summary="租赁纠纷", dispute_type="contract"),
                            parties=[PartyIn(role="applicant", name="甲"), PartyIn(role="respondent", name="乙")],
                            fields=WalkInFields(), actor=user, cipher=cipher))
    arun(apply_transition(reg, case["id"], "decline", user, {"reason": "已起诉"}))
    arun(apply_transition(reg, case["id"], "close", user))
    arun(record_item(case["id"], user, "identity"))
    with pytest.raises(Refused) as err:
        arun(apply_transition(reg, case["id"], "archive", user))
    assert "14. 委派调解函（回执）" in err.value.message
    from core.cases import load_case

    row = arun(load_case(case["id"], user))
    entries = build_index(arun(load_facts(row)), tuple(reg.documents_for(row)))
    allowed = {e.key: e.title for e in entries if e.recordable}
    assert "reftest_referral_receipt" in allowed
    with pytest.raises(Refused):  # not a recordable item of this case
        arun(record_item(case["id"], user, "reftest_referral_receipt"))
    arun(record_item(case["id"], user, "reftest_referral_receipt", allowed=allowed, note="法官签收"))
    arun(apply_transition(reg, case["id"], "archive", user))


@pytest.fixture
def base_settings(tmp_path):
    return load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k" * 40})


def test_registration_errors_name_the_plugins(base_settings):
    class Copy:
        NAME = "copy_docs"

        @hookimpl
        def fengqiao_register_documents(self, settings):
            return [dataclasses.replace(TRAFFIC_DOC, title="副本")]

    with pytest.raises(RegistrationError) as err:
        build_registry(base_settings, [*DEFAULT_PLUGINS, TrafficDocsPlugin(), Copy()], entry_points=False)
    assert "'traffic_compensation'" in str(err.value) and "'traffic_docs'" in str(err.value)
    assert "'copy_docs'" in str(err.value)

    class Stray:
        NAME = "stray_docs"

        @hookimpl
        def fengqiao_register_documents(self, settings):
            return [dataclasses.replace(TRAFFIC_DOC, key="stray", channels=("nowhere",))]

    with pytest.raises(RegistrationError, match="unknown channel"):
        build_registry(base_settings, [*DEFAULT_PLUGINS, Stray()], entry_points=False)

    class Unenforced(ReferralChannelPlugin):
        guard_docs = ()

    with pytest.raises(RegistrationError, match="does not enforce it"):
        build_registry(base_settings, [*DEFAULT_PLUGINS, Unenforced()], entry_points=False)

    # a disabled channel's documents disappear with it
    reg = build_registry(base_settings.with_(enabled_channels=("general",)), [*DEFAULT_PLUGINS, ReferralChannelPlugin()],
                         entry_points=False)
    assert "reftest_referral_receipt" not in reg.documents

    with pytest.raises(RegistrationError, match="layout or a docx_template"):
        DocumentDef("bare", "空")
