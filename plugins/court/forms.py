"""Intake forms and transition forms of the court channel (诉调对接).

Two referral kinds (最高人民法院关于人民法院特邀调解的规定 第十一条):

- ``pre_filing`` 委派调解 — before the court files the case, with the parties' consent;
- ``entrusted`` 委托调解 — after filing; the court case number and the procedure (ordinary or
  simplified) are required, because the mediation period depends on it (第二十七条).

One declaration per form serves the HTML form, the partner API (``fields``) and JSON Schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core import clock
from core.channels import IntakeForm

__all__ = [
    "PreFilingFields",
    "EntrustedFields",
    "INTAKE_FORMS",
    "ReturnForm",
    "TerminationForm",
    "TERMINATION_GROUNDS",
    "RETURN_REASONS",
    "PacketForm",
    "DecisionForm",
    "ApplicationForm",
]

PROCEDURE_LABELS = {"ordinary": "普通程序", "simplified": "简易程序"}


class _CourtFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    court_name: Annotated[str, Meta(title="委派/委托法院", min_length=2, max_length=100)]
    court_reference: Annotated[str, Meta(title="法院编号（委派调解号/案号）", min_length=2, max_length=100)]
    judge_contact: Annotated[str, Meta(title="承办法官或书记员及联系方式", min_length=2, max_length=200)]
    received_on: Annotated[dt.date, Meta(title="签收法院材料日期", description="调解期限自签收之日起算")]
    cause_of_action: Annotated[str, Meta(title="案由", min_length=2, max_length=100)]
    parties_consent: Annotated[bool, Meta(title="当事人同意调解")] = True

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.received_on > clock.today():
            problems.append(("received_on", "签收日期不能晚于今天"))
        return problems


class PreFilingFields(_CourtFields, forbid_unknown_fields=True, kw_only=True):
    """委派调解: a dispute the court refers before filing (诉前调解)."""

    def check(self) -> list[tuple[str, str]]:
        problems = super().check()
        if not self.parties_consent:
            problems.append(("parties_consent", "委派调解须经当事人同意（特邀调解规定 第十一条）"))
        return problems


class EntrustedFields(_CourtFields, forbid_unknown_fields=True, kw_only=True):
    """委托调解: a filed case the court entrusts for mediation."""

    court_case_number: Annotated[str, Meta(title="法院立案案号", min_length=4, max_length=100)]
    procedure: Annotated[
        Literal["ordinary", "simplified"],
        Meta(title="审理程序", extra={"labels": PROCEDURE_LABELS},
             description="普通程序委托调解期限15日，简易程序7日"),
    ]


INTAKE_FORMS = (
    IntakeForm(
        channel="court",
        kind="pre_filing",
        label="委派调解（诉前）",
        label_en="Pre-filing referral (委派调解)",
        schema=PreFilingFields,
        deadline_rule="court_pre_filing",
        description="人民法院立案前经当事人同意委派调解（特邀调解规定 第十一条）",
    ),
    IntakeForm(
        channel="court",
        kind="entrusted",
        label="委托调解（立案后）",
        label_en="Entrusted after filing (委托调解)",
        schema=EntrustedFields,
        deadline_rule="court_entrusted_ordinary",
        description="人民法院立案后委托调解；简易程序案件期限7日，普通程序15日（特邀调解规定 第二十七条）",
    ),
)

RETURN_REASONS = {
    "not_mediable": "纠纷不适宜调解",
    "party_refuses": "当事人不同意调解",
    "conflict": "调解员需回避且无法另行指派",
    "outside_scope": "不属于本调解组织受理范围",
    "other": "其他原因",
}

TERMINATION_GROUNDS = {
    "party_refuses_mediation": "当事人明确拒绝继续调解",
    "cannot_contact": "期限内无法联系到当事人",
    "refuses_to_sign": "当事人拒绝在调解协议上签字",
    "no_agreement": "当事人分歧较大，难以达成调解协议",
    "expired": "调解期限届满未达成协议",
    "false_mediation": "疑似虚假调解",
    "not_suitable": "纠纷不宜调解（涉及公共利益或第三人利益等）",
    "other": "其他导致调解无法进行的情形",
}
"""Termination grounds (人民法院在线调解规则 第二十五条; 特邀调解规定 第二十六条)."""


class ReturnForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Decline a referral and return the materials to the court."""

    ground: Annotated[
        Literal["not_mediable", "party_refuses", "conflict", "outside_scope", "other"],
        Meta(title="退回原因", extra={"labels": RETURN_REASONS}),
    ]
    reason: Annotated[str, Meta(title="退回说明", min_length=2, max_length=1000, extra={"widget": "textarea"})]


class TerminationForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Terminate a mediation without agreement; the court resumes filing or trial (第二十一条)."""

    ground: Annotated[
        Literal["party_refuses_mediation", "cannot_contact", "refuses_to_sign", "no_agreement", "expired",
                "false_mediation", "not_suitable", "other"],
        Meta(title="终止调解事由", extra={"labels": TERMINATION_GROUNDS}),
    ]
    reason: Annotated[str, Meta(title="情况说明", min_length=2, max_length=1000, extra={"widget": "textarea"})]


class PacketForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The judicial-confirmation packet: which materials are in hand (民诉法解释 第三百五十四条)."""

    agreement: Annotated[bool, Meta(title="调解协议书")] = False
    hosting_proof: Annotated[bool, Meta(title="调解组织主持调解的证明")] = False
    identity: Annotated[bool, Meta(title="双方当事人身份证明")] = False
    contacts: Annotated[bool, Meta(title="当事人联系方式及送达地址")] = False
    property_proof: Annotated[bool, Meta(title="与财产权利有关的证明材料")] = False
    complete: Annotated[bool, Meta(title="确认材料齐全")] = False


class ApplicationForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The parties' joint application for judicial confirmation was filed with the court."""

    applied_on: Annotated[dt.date, Meta(title="共同申请日期")]
    court_name: Annotated[str, Meta(title="受理法院", min_length=2, max_length=100)]

    def check(self) -> list[tuple[str, str]]:
        return [("applied_on", "申请日期不能晚于今天")] if self.applied_on > clock.today() else []


class DecisionForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The court's decision on the application (民诉法 第二百零六条; 民诉法解释 第三百五十八条)."""

    decision: Annotated[
        Literal["confirmed", "rejected"],
        Meta(title="法院裁定", extra={"labels": {"confirmed": "裁定确认有效", "rejected": "裁定驳回申请"}}),
    ]
    decided_on: Annotated[dt.date, Meta(title="裁定日期")]
    ruling_number: Annotated[str, Meta(title="裁定书文号", max_length=100)] | None = None
    reason: Annotated[str, Meta(title="驳回理由", max_length=1000, extra={"widget": "textarea"})] | None = None

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.decision == "rejected" and not (self.reason or "").strip():
            problems.append(("reason", "驳回申请须填写理由"))
        if self.decided_on > clock.today():
            problems.append(("decided_on", "裁定日期不能晚于今天"))
        return problems
