"""The police channel's protocol (警调对接), its transition forms and guards, and its deadline rules.

transferred (已移交) → accepted (受理) or returned (退回派出所) → in mediation → settled (agreement,
performance recorded by follow-ups) → fed back to the station (反馈, closes the case) — or not settled /
ended by a new violation or flight → returned to the station for handling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.channels import HandoffProtocol, ProtocolState, Transition
from core.deadlines import Citation, DayUnit, DeadlineRule, ExtensionMode
from core.documents.guards import require_case_file
from core.lifecycle import CoreStatus as S
from core.protocol_kit import CaseContext, WithdrawForm, require_session, require_signed_agreement

from plugins.police.forms import EXCLUSION_LABELS

__all__ = [
    "DEADLINE_RULES",
    "END_GROUNDS",
    "EndMediationForm",
    "FeedbackForm",
    "PROTOCOL",
    "ReturnForm",
    "eligibility_problems",
    "guardian_problem",
]

ROUTE_STATION = "police_station"
ROUTE_LABELS = {ROUTE_STATION: "退回公安机关依法处理"}

END_GROUNDS = {
    "new_violation": "调解过程中又针对对方实施违反治安管理行为",
    "flight": "违反治安管理行为人逃跑",
    "party_refuses": "当事人不愿继续调解",
}
"""Grounds that end a mediation and return the case to the station (程序规定 第一百七十九条)."""

RETURN_GROUNDS = {**EXCLUSION_LABELS, "not_mediable": "不属于调解范围的其他情形", "other": "其他原因"}


# --------------------------------------------------------------------------- rule checks (pure)


def intake_of(case: Mapping[str, Any]) -> dict[str, Any]:
    intake = case.get("intake") or {}
    if isinstance(intake, str):
        intake = msgspec.json.decode(intake) if intake else {}
    return dict(intake)


def eligibility_problems(case: Mapping[str, Any]) -> list[str]:
    """The exclusions of 程序规定 第一百七十九条 recorded on a public-order transfer (labels)."""
    if case.get("kind") != "public_order":
        return []
    intake = intake_of(case)
    return [label for key, label in EXCLUSION_LABELS.items() if intake.get(f"excluded_{key}")]


def guardian_problem(case: Mapping[str, Any]) -> str | None:
    """A minor is involved and no guardian is recorded (程序规定 第一百八十一条)."""
    intake = intake_of(case)
    if intake.get("minor_involved") and not (intake.get("guardian_name") or "").strip():
        return "本案涉及未成年人，须先登记其监护人并通知到场，方可安排调解（公安机关办理行政案件程序规定 第一百八十一条）"
    return None


def _eligible(ctx: CaseContext) -> str | None:
    found = eligibility_problems(ctx.case)
    if found:
        return ("本案存在不适用调解的情形：" + "、".join(found)
                + "，不能受理，请退回派出所依法处理（公安机关办理行政案件程序规定 第一百七十九条）")
    return None


def _guardian(ctx: CaseContext) -> str | None:
    return guardian_problem(ctx.case)


def _performed(ctx: CaseContext) -> str | None:
    if (ctx.agreement or {}).get("fulfilment") != "performed":
        return "协议尚未履行完毕：请先在回访中记录“已履行”，再向派出所反馈"
    return None


def _not_performed(ctx: CaseContext) -> str | None:
    if (ctx.agreement or {}).get("fulfilment") == "performed":
        return "协议已履行，请向派出所反馈履行情况"
    return None


# --------------------------------------------------------------------------- transition forms


class ReturnForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Return a transfer to the station instead of accepting it (不予受理，退回派出所)."""

    ground: Annotated[
        Literal["hired_violence", "gang_fight", "provoking_trouble", "repeat_offender", "party_refuses",
                "not_mediable", "other"],
        Meta(title="退回事由", extra={"labels": RETURN_GROUNDS}),
    ]
    reason: Annotated[str, Meta(title="退回说明", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    advice: Annotated[str, Meta(title="告知当事人的其他解决途径", max_length=1000,
                                extra={"widget": "textarea"})] | None = None


class NotSettledForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(title="调解不成的原因", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    route: Annotated[Literal["police_station"], Meta(title="处理去向", extra={"labels": ROUTE_LABELS})] = ROUTE_STATION


class EndMediationForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new violation during mediation, flight or a refusal ends the mediation (第一百七十九条)."""

    ground: Annotated[Literal["new_violation", "flight", "party_refuses"],
                      Meta(title="终止调解的事由", extra={"labels": END_GROUNDS})]
    occurred_on: Annotated[dt.date, Meta(title="发生日期")]
    reason: Annotated[str, Meta(title="情况说明", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    route: Annotated[Literal["police_station"], Meta(title="处理去向", extra={"labels": ROUTE_LABELS})] = ROUTE_STATION


class FeedbackForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Feedback to the station once the agreement is performed, with the parties' written application
    for no penalty (治安管理处罚法 第九条; 程序规定 第一百八十六条) where they made one."""

    no_penalty_application: Annotated[bool, Meta(title="当事人已书面申请不予处罚（治安调解案件）")] = False
    applied_on: Annotated[dt.date, Meta(title="书面申请日期")] | None = None
    applicants: Annotated[str, Meta(title="申请人", max_length=200)] | None = None
    note: Annotated[str, Meta(title="反馈说明", min_length=2, max_length=1000, extra={"widget": "textarea"})]

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.no_penalty_application and self.applied_on is None:
            problems.append(("applied_on", "请填写书面申请日期"))
        if self.no_penalty_application and not (self.applicants or "").strip():
            problems.append(("applicants", "请填写提出书面申请的当事人"))
        return problems


class BreachForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(title="未履行情况", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    route: Annotated[Literal["police_station"], Meta(title="处理去向", extra={"labels": ROUTE_LABELS})] = ROUTE_STATION


# --------------------------------------------------------------------------- the state machine

STATES = (
    ProtocolState("transferred", "已移交，待受理", S.REGISTERED),
    ProtocolState("accepted", "已受理", S.ACCEPTED),
    ProtocolState("returned", "不予受理，已退回派出所", S.DECLINED),
    ProtocolState("in_mediation", "调解中", S.IN_MEDIATION),
    ProtocolState("settled", "调解成功，待履行", S.SETTLED),
    ProtocolState("returned_unsettled", "调解终止，已退回派出所处理", S.NOT_SETTLED),
    ProtocolState("withdrawn", "当事人撤回", S.WITHDRAWN),
    ProtocolState("fed_back", "已履行并反馈派出所（结案）", S.CLOSED),
    ProtocolState("breach_returned", "协议未履行，已退回派出所处理（结案）", S.CLOSED),
    ProtocolState("closed", "已结案", S.CLOSED),
    ProtocolState("archived", "已归档", S.ARCHIVED, terminal=True),
)

TRANSITIONS = (
    Transition("accept", ("transferred",), "accepted", "受理", "case.accepted", guards=(_eligible,),
               style="primary", partner_event=True),
    Transition("return_to_station", ("transferred",), "returned", "不予受理，退回派出所", "case.declined",
               roles=("mediator", "supervisor", "admin", "system"), form=ReturnForm, style="danger",
               partner_event=True),
    Transition("start_mediation", ("accepted",), "in_mediation", "开始调解", "case.mediation_started",
               guards=(_guardian,), style="primary"),
    Transition("settle", ("in_mediation",), "settled", "调解成功", "case.settled",
               guards=(require_session, require_signed_agreement), style="primary", partner_event=True),
    Transition("not_settle", ("accepted", "in_mediation"), "returned_unsettled", "调解不成，退回派出所",
               "case.not_settled", form=NotSettledForm, style="danger", partner_event=True),
    Transition("end_mediation", ("accepted", "in_mediation"), "returned_unsettled",
               "终止调解（又实施违法行为、逃跑或拒绝调解）", "case.not_settled", form=EndMediationForm,
               style="danger", partner_event=True),
    Transition("withdraw", ("transferred", "accepted", "in_mediation"), "withdrawn", "当事人撤回",
               "case.withdrawn", form=WithdrawForm, partner_event=True),
    Transition("feedback", ("settled",), "fed_back", "向派出所反馈履行情况并结案", "police.feedback",
               form=FeedbackForm, guards=(_performed,), style="primary", partner_event=True),
    Transition("report_breach", ("settled",), "breach_returned", "协议未履行，退回派出所处理",
               "police.agreement_breached", form=BreachForm, guards=(_not_performed,), style="danger",
               partner_event=True),
    Transition("close", ("returned", "returned_unsettled", "withdrawn"), "closed", "结案", "case.closed",
               style="primary", partner_event=True),
    Transition("archive", ("fed_back", "breach_returned", "closed"), "archived", "归档", "case.archived",
               guards=(require_case_file(),), style="primary"),
)

PROTOCOL = HandoffProtocol(channel="police", initial="transferred", states=STATES, transitions=TRANSITIONS)


# --------------------------------------------------------------------------- deadline rules

FIRST_SESSION = DeadlineRule(
    key="police_first_session",
    label="首次调解期限",
    label_en="First mediation session",
    limit=3,
    unit=DayUnit.WORKING,
    starts_on="accepted",
    citations=(
        Citation("公安机关治安调解工作规范", "第九条",
                 "自受理之日起三个工作日内调解；需要伤情、价值鉴定的，自鉴定结论作出之日起计算"),
    ),
    tolling_events=("appraisal",),
)

SECOND_SESSION = DeadlineRule(
    key="police_second_session",
    label="第二次调解期限",
    label_en="Second session window",
    limit=7,
    unit=DayUnit.WORKING,
    starts_on="first_session",
    citations=(
        Citation("公安机关办理行政案件程序规定", "第一百八十三条",
                 "调解一般为一次；必要时可以增加一次，第二次调解应当在第一次调解后七个工作日内完成"),
    ),
    overridable=False,
)

STATION_CASE_LIMIT = DeadlineRule(
    key="police_station_case_limit",
    label="公安机关办案期限（供参考）",
    label_en="The station's own case limit (context)",
    limit=30,
    unit=DayUnit.CALENDAR,
    starts_on="station_accepted",
    citations=(
        Citation("治安管理处罚法", "第九十九条",
                 "自受理之日起三十日内办结；重大、复杂的经上一级公安机关批准可延长三十日；鉴定期间不计入（2012年文本）"),
        Citation("公安机关办理行政案件程序规定", "第一百八十五条",
                 "调解未达成协议或者达成协议后不履行的，办案期限从此时起计算"),
    ),
    tolling_events=("appraisal",),
    extension=ExtensionMode.APPROVAL,
    extension_cap=30,
)

DEADLINE_RULES = (FIRST_SESSION, SECOND_SESSION, STATION_CASE_LIMIT)
