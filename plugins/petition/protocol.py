"""The petition channel's protocol: the eight steps of the Yunnan plan as states and transitions, and
the petition regulation's deadlines (信访工作条例 2022) as deadline rules.

=================  ==========================  ==================
step               state (label)               core lifecycle
=================  ==========================  ==================
1 接谈             received 接谈登记            registered
2 评析             accepted / declined          accepted / declined
3 委托             entrusted 已办理委托手续      accepted
4 办理             handling 办理中               in_mediation
5 处理意见         proposed 已提出处理意见       in_mediation
6 引导解决         resolved / guided            settled / not_settled
7 协调救助         aid 协调救助（结案）          closed
8 立卷归档         archived                     archived
=================  ==========================  ==================

Guards: entrustment needs the dedicated team (plan, supervisor, deadline, members); a major case needs
a recorded joint consultation (会商) before the proposal; no proposal while a forensic appraisal is
outstanding; a resolution needs a recorded mediation session and a signed agreement; archiving needs the case file.
"""

from __future__ import annotations

from typing import Any

from core.channels import HandoffProtocol, ProtocolState, Transition
from core.deadlines import Citation, DayUnit, DeadlineRule, ExtensionMode
from core.documents.guards import require_case_file
from core.lifecycle import CoreStatus as S
from core.protocol_kit import CaseContext, WithdrawForm, require_session, require_signed_agreement

from plugins.petition.forms import (
    AcceptForm,
    AidForm,
    EntrustForm,
    GuideForm,
    PetitionDeclineForm,
    ProposalForm,
    ResolveForm,
)

__all__ = ["PROTOCOL", "DEADLINE_RULES", "STEPS", "require_team", "require_consultation_if_major"]

STATES = (
    ProtocolState("received", "接谈登记", S.REGISTERED),
    ProtocolState("accepted", "评析：受理", S.ACCEPTED),
    ProtocolState("declined", "评析：不予受理", S.DECLINED),
    ProtocolState("entrusted", "已办理委托手续", S.ACCEPTED),
    ProtocolState("handling", "办理中", S.IN_MEDIATION),
    ProtocolState("proposed", "已提出处理意见", S.IN_MEDIATION),
    ProtocolState("resolved", "达成调解协议，信访了结", S.SETTLED),
    ProtocolState("guided", "引导诉讼、仲裁、行政复议", S.NOT_SETTLED),
    ProtocolState("withdrawn", "信访人撤回", S.WITHDRAWN),
    ProtocolState("aid", "协调申请救助（结案）", S.CLOSED),
    ProtocolState("concluded", "结案", S.CLOSED),
    ProtocolState("archived", "立卷归档", S.ARCHIVED, terminal=True),
)

STEPS = (
    ("接谈", ("received",)),
    ("评析", ("accepted", "declined")),
    ("委托", ("entrusted",)),
    ("办理", ("handling",)),
    ("处理意见", ("proposed",)),
    ("引导解决", ("resolved", "guided", "withdrawn")),
    ("救助", ("aid", "concluded")),
    ("归档", ("archived",)),
)
"""The eight steps and the states that belong to each (for the step bar on the case page)."""


async def _file(case_id: int) -> dict[str, Any] | None:
    from plugins.petition.tables import PetitionFile

    return await PetitionFile.select().where(PetitionFile.case == case_id).first()


async def require_team(ctx: CaseContext) -> str | None:
    """One case, one team, one plan, one number: entrustment needs all of them."""
    from plugins.petition.tables import TeamMember

    f = await _file(ctx.case["id"])
    if f is None or not f["number"] or not f["plan"] or not f["supervisor"] or not f["team_deadline"]:
        return "请先组建专调小组：化解方案、督办人和限时销号日期（一案一组、一案一策、一案一号）"
    if not await TeamMember.exists().where(TeamMember.file == f["id"]):
        return "专调小组至少需要一名成员"
    return None


async def require_consultation_if_major(ctx: CaseContext) -> str | None:
    """A major/complex case is first discussed in a joint consultation (会商) before the proposal."""
    from plugins.petition.tables import WorkRecord

    f = await _file(ctx.case["id"])
    if f is not None and f["grade"] == "major" and not await WorkRecord.exists().where(
            WorkRecord.case == ctx.case["id"], WorkRecord.kind == "consultation"):
        return "重大疑难复杂案件须先提交人民调解工作室会商，记录会商意见后再提出处理意见"
    return None


async def require_no_open_appraisal(ctx: CaseContext) -> str | None:
    """The proposal rests on the facts: an outstanding forensic appraisal must come back first."""
    from plugins.petition.tables import WorkRecord

    rows = await WorkRecord.select(WorkRecord.kind).where(
        WorkRecord.case == ctx.case["id"], WorkRecord.kind.is_in(["appraisal_request", "appraisal_result"]))
    requested = sum(1 for r in rows if r["kind"] == "appraisal_request")
    returned = sum(1 for r in rows if r["kind"] == "appraisal_result")
    return "司法鉴定意见尚未收到，不能提出处理意见" if requested > returned else None


TRANSITIONS = (
    Transition("accept", ("received",), "accepted", "评析：受理", "case.accepted", form=AcceptForm,
               style="primary", partner_event=True),
    Transition("decline", ("received",), "declined", "评析：不予受理（告知并预警）", "case.declined",
               form=PetitionDeclineForm, style="danger", partner_event=True),
    Transition("entrust", ("accepted",), "entrusted", "办理委托手续", "petition.entrusted", form=EntrustForm,
               guards=(require_team,), style="primary"),
    Transition("start_handling", ("entrusted",), "handling", "开始办理", "case.mediation_started", style="primary"),
    Transition("propose", ("handling",), "proposed", "提出处理意见", "petition.proposed", form=ProposalForm,
               guards=(require_no_open_appraisal, require_consultation_if_major), style="primary"),
    Transition("resolve", ("proposed",), "resolved", "引导解决：达成调解协议", "case.settled", form=ResolveForm,
               guards=(require_session, require_signed_agreement), style="primary", partner_event=True),
    Transition("guide", ("proposed",), "guided", "引导解决：诉讼、仲裁、行政复议", "case.not_settled",
               form=GuideForm, style="danger", partner_event=True),
    Transition("withdraw", ("received", "accepted", "entrusted", "handling", "proposed"), "withdrawn",
               "信访人撤回", "case.withdrawn", form=WithdrawForm, partner_event=True),
    Transition("request_aid", ("resolved", "guided"), "aid", "协调申请救助并结案", "petition.aid_requested",
               form=AidForm, partner_event=True),
    Transition("close", ("resolved", "guided", "declined", "withdrawn"), "concluded", "结案", "case.closed",
               style="primary", partner_event=True),
    Transition("archive", ("aid", "concluded"), "archived", "立卷归档", "case.archived",
               guards=(require_case_file(),), style="primary"),
)

PROTOCOL = HandoffProtocol(channel="petition", initial="received", states=STATES, transitions=TRANSITIONS)

_REG = "信访工作条例"

DEADLINE_RULES = (
    DeadlineRule(
        key="petition_acceptance", label="决定是否受理期限", label_en="Decision on acceptance",
        limit=15, unit=DayUnit.CALENDAR, starts_on="received",
        citations=(Citation(_REG, "第二十二条", "信访部门收到信访事项，应当在15日内分别按照下列方式处理"),
                   Citation(_REG, "第二十三条", "自收到信访事项之日起15日内书面告知信访人是否受理")),
    ),
    DeadlineRule(
        key="petition_handling", label="信访事项办理期限", label_en="Handling period",
        limit=60, unit=DayUnit.CALENDAR, starts_on="accepted", tolling_events=("appraisal",),
        extension=ExtensionMode.APPROVAL, extension_cap=30,
        citations=(Citation(_REG, "第三十四条", "自受理之日起60日内办结；情况复杂的，经本机关负责人批准，"
                            "可以适当延长办理期限，但延长期限不得超过30日，并告知信访人延期理由"),),
    ),
    DeadlineRule(
        key="petition_review_application", label="申请复查期限", label_en="Applying for review",
        limit=30, unit=DayUnit.CALENDAR, starts_on="opinion_received",
        citations=(Citation(_REG, "第三十五条", "自收到书面答复之日起30日内请求原办理机关的上一级机关复查"),),
    ),
    DeadlineRule(
        key="petition_review_decision", label="复查意见期限", label_en="Review decision",
        limit=30, unit=DayUnit.CALENDAR, starts_on="review_requested",
        citations=(Citation(_REG, "第三十五条", "收到复查请求之日起30日内提出复查意见"),),
    ),
    DeadlineRule(
        key="petition_re_review_application", label="申请复核期限", label_en="Applying for re-review",
        limit=30, unit=DayUnit.CALENDAR, starts_on="review_received",
        citations=(Citation(_REG, "第三十六条", "自收到复查意见之日起30日内向复查机关的上一级机关请求复核"),),
    ),
    DeadlineRule(
        key="petition_re_review_decision", label="复核意见期限", label_en="Re-review decision",
        limit=30, unit=DayUnit.CALENDAR, starts_on="re_review_requested",
        citations=(Citation(_REG, "第三十六条", "收到复核请求之日起30日内提出复核意见；听证时间不计算在内"),),
        tolling_events=("hearing",),
    ),
)
