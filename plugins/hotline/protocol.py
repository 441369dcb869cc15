"""The hotline protocol and its deadline rule, as data.

派单 dispatched → 签收 signed for → 调解中 in mediation → 已解决 resolved / 未解决 not resolved /
退回热线 returned for re-dispatch → 已回访 callback done (满意 / 不满意) → 结案 closed → 归档.

Each state maps onto one core lifecycle step, so the hotline keeps the core lifecycle (and the
monthly report stays right). Where the same hotline step lands on two core steps (returning an order
before or after signing for it; a callback after a resolved or an unresolved order) the protocol has
two states and two transitions with the same label; only one of them is ever offered.

The hotline hears about sign-for, the result (resolved, not resolved, returned), the callback and
closing: those transitions are partner events (``partner_event=True``), delivered through the outbox.
"""

from core.channels import HandoffProtocol, ProtocolState, Transition
from core.deadlines import Citation, DayUnit, DeadlineRule
from core.documents.guards import require_case_file
from core.lifecycle import CoreStatus as S
from core.protocol_kit import NotSettledForm, WithdrawForm, require_session, require_signed_agreement

from plugins.hotline.forms import CallbackForm, ReturnForm

__all__ = ["PROTOCOL", "DEADLINE_RULES", "RULE_KEY", "RESULT_STATES", "CALLBACK_STATES", "RETURN_STATES"]

RULE_KEY = "hotline_work_order"

DEADLINE_RULES = (
    DeadlineRule(
        key=RULE_KEY,
        label="工单办理时限",
        label_en="Work order completion",
        limit=5,
        unit=DayUnit.WORKING,
        starts_on="registered",
        citations=(
            Citation("潍坊市12345政务服务便民热线管理办法", "第二十条",
                     "承办单位一般应在 5 个工作日内办结；法律法规另有规定的从其规定"),
            Citation("北京市接诉即办工作条例", "第十三条", "办理时限由热线按诉求类型确定"),
        ),
        overridable=True,
    ),
)
"""The deployment default (5 working days from dispatch); a work order's own ``completion_due``
takes precedence. Deployments override the default with ``[deadlines.hotline_work_order] limit = …``."""

STATES = (
    ProtocolState("dispatched", "已派单（待签收）", S.REGISTERED),
    ProtocolState("signed_for", "已签收", S.ACCEPTED),
    ProtocolState("in_mediation", "调解中", S.IN_MEDIATION),
    ProtocolState("resolved", "已解决（待回访）", S.SETTLED),
    ProtocolState("not_resolved", "未解决（待回访）", S.NOT_SETTLED),
    ProtocolState("returned", "已退回热线", S.DECLINED),
    ProtocolState("returned_signed", "已退回热线", S.NOT_SETTLED),
    ProtocolState("withdrawn", "来电人撤回", S.WITHDRAWN),
    ProtocolState("callback_resolved", "已回访", S.SETTLED),
    ProtocolState("callback_not_resolved", "已回访", S.NOT_SETTLED),
    ProtocolState("closed", "已结案", S.CLOSED),
    ProtocolState("archived", "已归档", S.ARCHIVED, terminal=True),
)

RESULT_STATES = {"resolved": "resolved", "not_resolved": "not_resolved", "returned_signed": "returned",
                 "returned": "returned"}
"""State → the order's result as the hotline reports it."""
CALLBACK_STATES = ("callback_resolved", "callback_not_resolved")
RETURN_STATES = ("returned", "returned_signed")

TRANSITIONS = (
    Transition("sign_for", ("dispatched",), "signed_for", "签收", "hotline.signed_for", style="primary",
               partner_event=True, label_en="Sign for the order"),
    Transition("return_unsigned", ("dispatched",), "returned", "退回热线重新派单", "hotline.returned",
               form=ReturnForm, style="danger", partner_event=True, label_en="Return for re-dispatch"),
    Transition("start_mediation", ("signed_for",), "in_mediation", "开始调解", "case.mediation_started",
               style="primary"),
    Transition("resolve", ("in_mediation",), "resolved", "已解决（调解成功）", "case.settled",
               guards=(require_session, require_signed_agreement), style="primary", partner_event=True),
    Transition("not_resolve", ("signed_for", "in_mediation"), "not_resolved", "未解决（调解不成）",
               "case.not_settled", form=NotSettledForm, style="danger", partner_event=True),
    Transition("return_to_hotline", ("signed_for", "in_mediation"), "returned_signed", "退回热线重新派单",
               "hotline.returned", form=ReturnForm, style="danger", partner_event=True,
               label_en="Return for re-dispatch"),
    Transition("withdraw", ("dispatched", "signed_for", "in_mediation"), "withdrawn", "来电人撤回",
               "case.withdrawn", form=WithdrawForm, partner_event=True),
    Transition("callback", ("resolved",), "callback_resolved", "回访来电人", "hotline.callback_done",
               form=CallbackForm, style="primary", partner_event=True, label_en="Call back the caller"),
    Transition("callback_unresolved", ("not_resolved",), "callback_not_resolved", "回访来电人",
               "hotline.callback_done", form=CallbackForm, style="primary", partner_event=True,
               label_en="Call back the caller"),
    Transition("close", ("callback_resolved", "callback_not_resolved", "returned", "returned_signed", "withdrawn"),
               "closed", "结案", "case.closed", style="primary", partner_event=True),
    Transition("archive", ("closed",), "archived", "归档", "case.archived", guards=(require_case_file(),),
               style="primary"),
)

PROTOCOL = HandoffProtocol(channel="hotline", initial="dispatched", states=STATES, transitions=TRANSITIONS)
