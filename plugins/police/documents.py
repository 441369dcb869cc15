"""The police channel's documents: the parties' written application for no penalty (不予处罚申请书,
公安机关办理行政案件程序规定 第一百八十六条) and the feedback letter to the station (调解情况反馈函).
Both are layouts filled from the core document context plus :func:`_context`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.documents.context import cn_date
from core.documents.model import DocumentDef, Fields, Layout, Line, Para, PartySignatures, Seal, Section, Title
from core.tables import Case, CaseEvent

__all__ = ["DOCUMENTS"]

_TRANSFER = Fields((
    ("移交派出所", "{{ case.intake.station }}"),
    ("警情号", "{{ case.intake.incident_number }}"),
    ("移交民警", "{{ case.intake.officer }}"),
    ("调解室案号", "{{ case.number }}"),
))

NO_PENALTY = Layout((
    Title("不予处罚申请书"),
    Line("{{ case.intake.station }}："),
    _TRANSFER,
    Para("申请人因{{ case.summary }}一事，经{{ org.committee }}{{ org.room }}调解，于{{ agreement.signed_on }}达成"
         "人民调解协议（协议编号{{ agreement.number }}），约定：{{ agreement.terms }}"),
    Para("该协议已于{{ police.performed_on or followup.done_on }}履行完毕。依照《中华人民共和国治安管理处罚法》第九条、"
         "《公安机关办理行政案件程序规定》第一百八十六条，申请人书面申请对本案违反治安管理行为人不予处罚。"),
    PartySignatures(),
    Line("申请日期：　　年　　月　　日", align="right"),
))

FEEDBACK = Layout((
    Title("调解情况反馈函"),
    Line("{{ case.intake.station }}："),
    _TRANSFER,
    Para("贵所于{{ case.registered_on }}移交的{{ party_names }}{{ case.dispute_type_label }}纠纷，本室已调解完毕，现将情况反馈如下："),
    Section("调解结果", "{{ police.result }}"),
    Section("协议内容", "{{ agreement.terms or '（无）' }}"),
    Fields((
        ("协议金额", "{{ agreement.amount_text }}"),
        ("履行期限", "{{ agreement.performance_deadline }}"),
        ("履行情况", "{{ agreement.fulfilment }}"),
        ("当事人书面申请不予处罚", "{{ police.no_penalty_text }}"),
    )),
    Section("说明", "{{ police.note }}"),
    Seal(),
))


async def _context(ctx: Mapping[str, Any]) -> dict[str, Any]:
    rows = await CaseEvent.select(CaseEvent.type, CaseEvent.data, CaseEvent.created_at).where(
        CaseEvent.case == ctx["case"]["id"],
        CaseEvent.type.is_in(["police.feedback", "police.agreement_performed", "police.agreement_breached"]),
    ).order_by(CaseEvent.id).output(load_json=True)
    feedback = next((r["data"] for r in reversed(rows) if r["type"] == "police.feedback"), {})
    performed = next((r for r in reversed(rows) if r["type"] == "police.agreement_performed"), None)
    breach = next((r["data"] for r in reversed(rows) if r["type"] == "police.agreement_breached"), {})
    if feedback.get("no_penalty_application"):
        text = f"是（{feedback.get('applicants') or ''}，{feedback.get('applied_on') or ''}）"
    else:
        text = "否" if feedback else "尚未反馈"
    case = await Case.select(Case.status, Case.state, Case.outcome, Case.outcome_reason).where(
        Case.id == ctx["case"]["id"]).first()
    reason = case["outcome_reason"] or ""
    if case["outcome"].startswith("settled"):
        result = "调解成功，达成调解协议" + ("；协议未履行，退回贵所依法处理" if breach else "")
    elif case["outcome"] == "not_settled":
        result = f"调解不成，退回贵所依法处理：{reason}"
    elif case["outcome"] == "declined":
        result = f"不予受理，退回贵所依法处理：{reason}"
    elif case["outcome"] == "withdrawn":
        result = f"当事人撤回调解申请：{reason}"
    else:
        result = "调解中"
    return {"police": {
        "result": result,
        "performed_on": cn_date(performed["created_at"]) if performed else "",
        "no_penalty_text": text,
        "note": feedback.get("note") or breach.get("reason") or "",
    }}


def _performed(ctx: Mapping[str, Any]) -> bool:
    return bool(ctx.get("has_agreement")) and ctx["agreement"]["fulfilment"] == "已履行"


def _concluded(ctx: Mapping[str, Any]) -> bool:
    return ctx["case"]["status"] in {"settled", "not_settled", "closed", "archived"}


DOCUMENTS = (
    DocumentDef("police_no_penalty_application", "不予处罚申请书", NO_PENALTY, channels=("police",),
                kinds=("public_order",), available=_performed, context=_context, order=70,
                description="治安调解协议履行后，当事人向公安机关书面申请不予处罚（程序规定 第一百八十六条）"),
    DocumentDef("police_feedback", "调解情况反馈函", FEEDBACK, channels=("police",), available=_concluded,
                context=_context, order=75, description="向移交的派出所反馈调解结果和协议履行情况"),
)
