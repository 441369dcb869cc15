"""The general channel's protocol: exactly the core case lifecycle."""

from core.channels import HandoffProtocol, ProtocolState, Transition
from core.documents.guards import require_case_file
from core.lifecycle import CoreStatus as S
from core.protocol_kit import (
    DeclineForm,
    NotSettledForm,
    WithdrawForm,
    require_session,
    require_signed_agreement,
)

STATES = tuple(ProtocolState(key=s.value, label=s.label, status=s, terminal=s is S.ARCHIVED) for s in S)

TRANSITIONS = (
    Transition("accept", ("registered",), "accepted", "受理", "case.accepted", style="primary", partner_event=True),
    Transition("decline", ("registered",), "declined", "不予受理", "case.declined", form=DeclineForm,
               style="danger", partner_event=True),
    Transition("start_mediation", ("accepted",), "in_mediation", "开始调解", "case.mediation_started",
               style="primary"),
    Transition("settle", ("in_mediation",), "settled", "调解成功", "case.settled",
               guards=(require_session, require_signed_agreement), style="primary", partner_event=True),
    Transition("not_settle", ("accepted", "in_mediation"), "not_settled", "调解不成（终止调解）",
               "case.not_settled", form=NotSettledForm, style="danger", partner_event=True),
    Transition("withdraw", ("registered", "accepted", "in_mediation"), "withdrawn", "当事人撤回",
               "case.withdrawn", form=WithdrawForm, partner_event=True),
    Transition("close", ("settled", "not_settled", "withdrawn", "declined"), "closed", "结案", "case.closed",
               style="primary", partner_event=True),
    Transition("archive", ("closed",), "archived", "归档", "case.archived", guards=(require_case_file(),),
               style="primary"),
)

PROTOCOL = HandoffProtocol(channel="general", initial="registered", states=STATES, transitions=TRANSITIONS)
