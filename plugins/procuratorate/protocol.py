"""The procuratorate channel's protocol, deadline rule and guards.

States beyond the core lifecycle:

- ``eligible`` (core step *registered*): the eligibility checker found a criminal reconciliation
  admissible (刑事诉讼法 第二百八十八条). Only the system enters and leaves it, when a check is
  recorded; a criminal reconciliation can be accepted only from here.
- ``reported`` (core step *settled*): the outcome (agreement, performance, the victim's view on
  leniency) has been reported to the procuratorate for its leniency / non-prosecution decision
  (partner event ``procuratorate.outcome_reported``). For a criminal reconciliation the report needs
  the compensation performed — or, for instalments agreed with a guarantee and the victim's consent,
  the first instalment (人民检察院刑事诉讼规则 第四百九十九条) — and the case closes only after it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.channels import HandoffProtocol, ProtocolState, Transition
from core.deadlines import Citation, DayUnit, DeadlineRule, ExtensionMode
from core.documents.guards import require_case_file
from core.lifecycle import CoreStatus as S
from core.protocol_kit import (
    CaseContext,
    DeclineForm,
    NotSettledForm,
    WithdrawForm,
    require_session,
    require_signed_agreement,
)

__all__ = ["PROTOCOL", "RECONCILIATION_RULE", "ReportForm", "VICTIM_VIEW_LABELS", "is_instalment"]

CRIMINAL = "criminal_reconciliation"

RECONCILIATION_RULE = DeadlineRule(
    key="procuratorate_reconciliation",
    label="刑事和解期限（审查起诉期限内）",
    label_en="Reconciliation within the prosecution review period",
    limit=30,
    unit=DayUnit.CALENDAR,
    starts_on="accepted",
    citations=(
        Citation("中华人民共和国刑事诉讼法", "第一百七十二条", "审查起诉一个月以内作出决定，重大、复杂的案件可以延长十五日"),
        Citation("人民检察院刑事诉讼规则", "第四百九十九条", "赔偿至迟在人民检察院作出从宽处理决定前履行"),
    ),
    extension=ExtensionMode.APPROVAL,
    extension_cap=15,
)

VICTIM_VIEW_LABELS = {
    "requests_leniency": "被害人要求司法机关对犯罪嫌疑人依法从宽处理",
    "agrees_leniency": "被害人同意司法机关对犯罪嫌疑人依法从宽处理",
}


class ReportForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Report of a reconciliation's outcome to the procuratorate (和解及履行情况报送)."""

    victim_view: Annotated[Literal["requests_leniency", "agrees_leniency"],
                           Meta(title="被害人对从宽处理的意见", extra={"labels": VICTIM_VIEW_LABELS})]
    apology_made: Annotated[bool, Meta(title="犯罪嫌疑人已赔礼道歉")] = False
    notes: Annotated[str, Meta(title="报送说明", max_length=2000, extra={"widget": "textarea"})] | None = None


def is_instalment(agreement: dict[str, Any] | None) -> bool:
    """Whether the agreement provides for payment in instalments (分期履行)."""
    if not agreement:
        return False
    text = f"{agreement.get('terms') or ''}\n{agreement.get('performance_method') or ''}"
    return "分期" in text


def _kind(ctx: CaseContext) -> str:
    return ctx.case.get("kind", "")


def require_eligibility(ctx: CaseContext) -> str | None:
    """A criminal reconciliation is accepted only after the checker found it admissible."""
    if _kind(ctx) == CRIMINAL and ctx.case.get("state") != "eligible":
        return ("刑事和解案件须经适用条件审查且符合条件后方可受理（刑事诉讼法 第二百八十八条）；"
                "请查看“刑事和解适用条件审查”")
    return None


def require_reconciliation_agreement(ctx: CaseContext) -> str | None:
    """A 和解协议书 is written and signed by the parties only (刑诉规则 第四百九十八条); other kinds
    follow the people's-mediation rule (人民调解法 第二十九条)."""
    if _kind(ctx) != CRIMINAL:
        return require_signed_agreement(ctx)
    a = ctx.agreement
    if a is None:
        return "请先记录和解协议书"
    if a["form"] != "written":
        return "刑事和解须制作书面和解协议书（人民检察院刑事诉讼规则 第四百九十八条）"
    if not a["signed_by_parties"]:
        return "和解协议书须经双方当事人签名后方可确认和解（人民检察院刑事诉讼规则 第四百九十八条）"
    return None


def require_performance(ctx: CaseContext) -> str | None:
    """Compensation is performed before the outcome is reported (刑诉规则 第四百九十九条)."""
    if _kind(ctx) != CRIMINAL:
        return None
    a = ctx.agreement
    if a is None:
        return "请先记录和解协议书"
    fulfilment = a.get("fulfilment") or "pending"
    if fulfilment == "performed":
        return None
    if fulfilment == "partial" and is_instalment(a):
        return None
    if is_instalment(a):
        return "分期履行的，须至少履行首期后方可报送；请先通过回访记录履行情况（人民检察院刑事诉讼规则 第四百九十九条）"
    return ("和解协议约定的赔偿须在签署后立即履行，至迟在检察机关作出从宽处理决定前履行；"
            "请先通过回访记录履行情况，再向检察机关报送（人民检察院刑事诉讼规则 第四百九十九条）")


def require_reported(ctx: CaseContext) -> str | None:
    """A settled criminal reconciliation is reported to the procuratorate before closing."""
    if _kind(ctx) == CRIMINAL and ctx.case.get("state") == "settled":
        if (ctx.agreement or {}).get("fulfilment") == "breached":
            return None  # not performed: nothing to report for leniency; closing tells the partner
        return "请先向检察机关报送和解及履行情况，再结案"
    return None


STATE_LABELS = {
    "registered": "已登记（待审查）",
    "eligible": "符合刑事和解条件",
    "settled": "已达成和解（待履行、报送）",
    "reported": "已报送检察机关",
}

STATES = (
    *(ProtocolState(key=s.value, label=STATE_LABELS.get(s.value, s.label), status=s, terminal=s is S.ARCHIVED)
      for s in S),
    ProtocolState(key="eligible", label=STATE_LABELS["eligible"], status=S.REGISTERED),
    ProtocolState(key="reported", label=STATE_LABELS["reported"], status=S.SETTLED),
)

TRANSITIONS = (
    Transition("confirm_eligible", ("registered",), "eligible", "确认符合刑事和解条件", "procuratorate.eligible",
               roles=("system",), label_en="Eligible for reconciliation"),
    Transition("revoke_eligible", ("eligible",), "registered", "复查不符合刑事和解条件",
               "procuratorate.eligibility_revoked", roles=("system",), label_en="No longer eligible"),
    Transition("accept", ("registered", "eligible"), "accepted", "受理", "case.accepted", style="primary",
               partner_event=True, guards=(require_eligibility,)),
    Transition("decline", ("registered", "eligible"), "declined", "不予受理", "case.declined", form=DeclineForm,
               style="danger", partner_event=True),
    Transition("start_mediation", ("accepted",), "in_mediation", "开始调解", "case.mediation_started",
               style="primary"),
    Transition("settle", ("in_mediation",), "settled", "达成和解", "case.settled",
               guards=(require_session, require_reconciliation_agreement), style="primary", partner_event=True),
    Transition("report", ("settled",), "reported", "向检察机关报送和解及履行情况", "procuratorate.outcome_reported",
               form=ReportForm, guards=(require_performance,), style="primary", partner_event=True,
               label_en="Report the outcome to the procuratorate"),
    Transition("not_settle", ("accepted", "in_mediation"), "not_settled", "和解不成（终止调解）",
               "case.not_settled", form=NotSettledForm, style="danger", partner_event=True),
    Transition("withdraw", ("registered", "eligible", "accepted", "in_mediation"), "withdrawn", "当事人撤回",
               "case.withdrawn", form=WithdrawForm, partner_event=True),
    Transition("close", ("settled", "reported", "not_settled", "withdrawn", "declined"), "closed", "结案",
               "case.closed", guards=(require_reported,), style="primary", partner_event=True),
    Transition("archive", ("closed",), "archived", "归档", "case.archived", guards=(require_case_file(),),
               style="primary"),
)

PROTOCOL = HandoffProtocol(channel="procuratorate", initial="registered", states=STATES, transitions=TRANSITIONS)
