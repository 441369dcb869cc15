"""The court channel's protocol (诉调对接) and its deadline rules, as data.

received (签收) → accepted by the mediator (or returned to the court with reasons) → in mediation →
settled, or terminated on one of the online-mediation rules' grounds, or withdrawn → the follow-up the
court needs (委派: the agreement is filed with the court, 备案; 委托: a request for a court mediation
document, 调解书, or the claimant's withdrawal, 撤诉) → result reported to the court and case closed →
archived. Every step the court must know is a partner event (``partner_event=True``).
"""

from __future__ import annotations

from typing import Any

from core.channels import HandoffProtocol, ProtocolState, Transition
from core.deadlines import Citation, DayUnit, DeadlineRule, ExtensionMode
from core.documents.guards import require_case_file
from core.lifecycle import CoreStatus as S
from core.protocol_kit import CaseContext, WithdrawForm, require_session, require_signed_agreement

from plugins.court.forms import ReturnForm, TerminationForm

__all__ = ["PROTOCOL", "deadline_rules", "CLOCK_STARTS", "ACCEPTANCE_RULE", "ENTRUSTED_RULES"]

STATES = (
    ProtocolState("received", "已签收待接收", S.REGISTERED),
    ProtocolState("accepted", "调解员已接收", S.ACCEPTED),
    ProtocolState("returned", "已退回法院", S.DECLINED),
    ProtocolState("in_mediation", "调解中", S.IN_MEDIATION),
    ProtocolState("settled", "调解成功", S.SETTLED),
    ProtocolState("filed", "调解协议已送法院备案", S.SETTLED),
    ProtocolState("document_requested", "已申请法院出具调解书", S.SETTLED),
    ProtocolState("withdrawal_requested", "原告申请撤诉", S.SETTLED),
    ProtocolState("terminated", "调解终止", S.NOT_SETTLED),
    ProtocolState("withdrawn", "当事人撤回", S.WITHDRAWN),
    ProtocolState("closed", "已报告法院并结案", S.CLOSED),
    ProtocolState("archived", "已归档", S.ARCHIVED, terminal=True),
)


def only_kind(kind: str, message: str) -> Any:
    def guard(ctx: CaseContext) -> str | None:
        return None if ctx.case.get("kind") == kind else message

    guard.__name__ = f"only_{kind}"
    return guard


def require_consent(ctx: CaseContext) -> str | None:
    """委派调解 needs the parties' consent (特邀调解规定 第十一条)."""
    if ctx.case.get("kind") == "pre_filing" and not (ctx.case.get("intake") or {}).get("parties_consent", True):
        return "委派调解须经当事人同意，请先记录当事人同意"
    return None


TRANSITIONS = (
    Transition("accept", ("received",), "accepted", "接收委派/委托", "case.accepted", style="primary",
               partner_event=True, guards=(require_consent,)),
    Transition("return_to_court", ("received",), "returned", "不予接收，退回法院", "case.declined",
               form=ReturnForm, style="danger", partner_event=True),
    Transition("start_mediation", ("accepted",), "in_mediation", "开始调解", "case.mediation_started",
               style="primary"),
    Transition("settle", ("in_mediation",), "settled", "调解成功", "case.settled",
               guards=(require_session, require_signed_agreement), style="primary", partner_event=True),
    Transition("terminate", ("accepted", "in_mediation"), "terminated", "终止调解", "case.not_settled",
               form=TerminationForm, style="danger", partner_event=True),
    Transition("withdraw", ("received", "accepted", "in_mediation"), "withdrawn", "当事人撤回", "case.withdrawn",
               form=WithdrawForm, partner_event=True),
    Transition("file_agreement", ("settled",), "filed", "调解协议送法院备案", "court.agreement_filed",
               guards=(only_kind("pre_filing", "只有委派调解的协议需送法院备案"),), style="primary",
               partner_event=True),
    Transition("request_document", ("settled",), "document_requested", "申请法院出具调解书",
               "court.mediation_document_requested",
               guards=(only_kind("entrusted", "只有委托调解案件可申请法院出具调解书"),), style="primary",
               partner_event=True),
    Transition("request_withdrawal", ("settled",), "withdrawal_requested", "原告申请撤诉",
               "court.withdrawal_requested",
               guards=(only_kind("entrusted", "只有委托调解案件由原告申请撤诉"),), partner_event=True),
    Transition("report_and_close", ("filed", "document_requested", "withdrawal_requested", "terminated",
                                    "withdrawn", "returned"),
               "closed", "书面报告法院并结案", "case.closed", style="primary", partner_event=True),
    Transition("archive", ("closed",), "archived", "归档", "case.archived", guards=(require_case_file(),),
               style="primary"),
)

PROTOCOL = HandoffProtocol(channel="court", initial="received", states=STATES, transitions=TRANSITIONS)

# --------------------------------------------------------------------------- deadlines

_SPECIAL = "最高人民法院关于人民法院特邀调解的规定"
_ONLINE = "人民法院在线调解规则"

CLOCK_STARTS = {"receipt": "received", "acceptance": "accepted"}
"""``[channels.court] clock_start``: ``receipt`` (default; 特邀调解规定 第二十七条, the mediator's signed
receipt of the court's materials) or ``acceptance`` (在线调解规则 第二十四条, acceptance on the platform)."""

ACCEPTANCE_RULE = "court_acceptance"
ENTRUSTED_RULES = {"ordinary": "court_entrusted_ordinary", "simplified": "court_entrusted_simplified"}


def deadline_rules(clock_start: str = "receipt") -> list[DeadlineRule]:
    starts = CLOCK_STARTS[clock_start]
    art = (Citation(_SPECIAL, "第二十七条", "委派调解30日；委托调解普通程序15日、简易程序7日；经当事人同意可延长；"
                                             "自调解员签收法院移交材料之日起算"),
           Citation(_ONLINE, "第二十四条", "期限自调解员在平台确认接受委派或委托之日起算"),
           Citation(_ONLINE, "第二十六条", "鉴定等期间不计入调解期限"))
    common = dict(unit=DayUnit.CALENDAR, starts_on=starts, citations=art, tolling_events=("appraisal",),
                  extension=ExtensionMode.CONSENT)
    return [
        DeadlineRule(key="court_pre_filing", label="委派调解期限", label_en="Pre-filing mediation period",
                     limit=30, **common),
        DeadlineRule(key="court_entrusted_ordinary", label="委托调解期限（普通程序）",
                     label_en="Entrusted mediation period (ordinary procedure)", limit=15, **common),
        DeadlineRule(key="court_entrusted_simplified", label="委托调解期限（简易程序）",
                     label_en="Entrusted mediation period (simplified procedure)", limit=7, **common),
        DeadlineRule(key=ACCEPTANCE_RULE, label="调解员接收期限", label_en="Mediator's acceptance",
                     limit=3, unit=DayUnit.WORKING, starts_on="received",
                     citations=(Citation(_ONLINE, "第十二条", "调解员应在收到委派或委托后三个工作日内决定是否接受"),)),
    ]
