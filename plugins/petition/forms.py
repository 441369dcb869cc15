"""Forms of the petition channel, one ``msgspec.Struct`` each (HTML form, validation, JSON Schema).

The eight steps of the Yunnan plan (接谈 → 评析 → 委托 → 办理 → 处理意见 → 引导解决 → 救助 → 归档) each
have a form: the intake form is step 1, the transitions carry steps 2, 3, 5, 6, 7 and 8, and step 4
(办理) is a series of working records (:data:`RECORD_FORMS`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.channels import IntakeForm

__all__ = [
    "ReceiveFields", "AcceptForm", "PetitionDeclineForm", "EntrustForm", "ProposalForm", "ResolveForm",
    "GuideForm", "AidForm", "TeamForm", "MemberForm", "ReviewRecord", "RECORD_FORMS", "DISPLAY_FORMS", "RECORD_LABELS", "MAJOR_CRITERIA",
    "PROFESSIONS", "INTAKE_FORMS",
]

TEXT = {"widget": "textarea"}

MAJOR_CRITERIA = {
    "to_capital": "进京上访突出问题",
    "group": "10人以上的群众性信访",
    "leader_assigned": "领导包案",
    "long_span": "时间跨度大、政策界线模糊、调查取证难度大",
    "needs_notarisation": "需出具具有强制执行效力的公证文书",
    "needs_litigation": "需通过诉讼、仲裁途径解决",
}
"""The criteria of a major/complex petition (重大疑难复杂, Yunnan plan 四(四)1); any one makes it major."""

PROFESSIONS = {
    "lawyer": "律师",
    "mediator": "人民调解员",
    "notary": "公证员",
    "appraiser": "司法鉴定人员",
    "legal_service": "基层法律服务工作者",
    "legal_aid": "法律援助工作者",
    "other": "其他专业人士",
}

PETITION_FORMS = {"visit": "走访", "letter": "书信", "phone": "电话", "internet": "网络", "fax": "传真"}


class ReceiveFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 1, 接谈: what the petitioner said and brought (信访工作条例 第十七条、第十九条)."""

    petition_form: Annotated[
        Literal["visit", "letter", "phone", "internet", "fax"],
        Meta(title="信访形式", extra={"labels": PETITION_FORMS}),
    ] = "visit"
    statement: Annotated[str, Meta(title="信访人陈述要点", min_length=2, max_length=4000, extra=TEXT)]
    materials: Annotated[str, Meta(title="提交的材料", max_length=2000, extra=TEXT)] = ""
    petitioned_unit: Annotated[str, Meta(title="被信访单位（产生信访问题的单位）", max_length=200)] = ""
    representatives: Annotated[int, Meta(title="走访代表人数", ge=0, le=5,
                                         description="多人走访的，推选代表不超过5人（第二十条）")] = 0
    to_capital: Annotated[bool, Meta(title="进京上访")] = False
    leader_assigned: Annotated[bool, Meta(title="领导包案")] = False
    hardship: Annotated[bool, Meta(title="信访人生活困难")] = False


class AcceptForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 2, 评析 (accept): the assessment and the grading criteria that hold."""

    assessment: Annotated[str, Meta(title="评析意见（适合人民调解的理由）", min_length=2, max_length=4000, extra=TEXT)]
    to_capital: Annotated[bool, Meta(title="进京上访突出问题")] = False
    leader_assigned: Annotated[bool, Meta(title="领导包案")] = False
    long_span: Annotated[bool, Meta(title="时间跨度大、政策界线模糊、调查取证难度大")] = False
    needs_notarisation: Annotated[bool, Meta(title="需出具具有强制执行效力的公证文书")] = False
    needs_litigation: Annotated[bool, Meta(title="需通过诉讼、仲裁途径解决")] = False


class PetitionDeclineForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 2, 评析 (decline): advice to the petitioner and a warning to the agencies concerned."""

    reason: Annotated[str, Meta(title="不予受理理由", min_length=2, max_length=1000, extra=TEXT)]
    advice: Annotated[str, Meta(title="告知信访人的解决途径", min_length=2, max_length=1000, extra=TEXT)]
    warned_agencies: Annotated[str, Meta(title="预警通知的有关部门", min_length=2, max_length=500)]
    warning: Annotated[str, Meta(title="预警内容", min_length=2, max_length=1000, extra=TEXT)]


class EntrustForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 3, 委托: entrustment with the petitioned unit, or the bureau where no unit is responsible."""

    entrusted_unit: Annotated[str, Meta(title="委托单位（被信访单位）", max_length=200)] = ""
    bureau_handles: Annotated[bool, Meta(title="责任主体不明确，由信访部门委托")] = False
    unit_pays: Annotated[bool, Meta(title="办案补助由产生信访问题的单位承担")] = True
    entrusted_on: Annotated[dt.date, Meta(title="委托手续办理日期")]


class ProposalForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 5, 处理意见."""

    proposal: Annotated[str, Meta(title="处理意见", min_length=2, max_length=4000, extra=TEXT)]
    basis: Annotated[str, Meta(title="政策、法律和事实依据", min_length=2, max_length=4000, extra=TEXT)]


class ResolveForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 6, 引导解决 by agreement: the petition is concluded (信访了结)."""

    petition_concluded: Annotated[bool, Meta(title="信访人同意信访了结")] = True
    enforceable_notarisation: Annotated[bool, Meta(title="给付内容已申请办理具有强制执行效力的公证")] = False


class GuideForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 6, 引导解决 into the legal track (诉讼、仲裁、行政复议), with a legal-aid referral."""

    reason: Annotated[str, Meta(title="未达成协议的原因", min_length=2, max_length=1000, extra=TEXT)]
    route: Annotated[
        Literal["litigation", "arbitration", "administrative_review", "other"],
        Meta(title="引导的解决途径", extra={"labels": {"litigation": "诉讼", "arbitration": "仲裁",
                                                         "administrative_review": "行政复议", "other": "其他途径"}}),
    ]
    legal_aid: Annotated[bool, Meta(title="符合法律援助条件，已转介法律援助")] = False
    lawyer_choice: Annotated[str, Meta(title="代理律师（信访人自行决定）", max_length=200)] = ""


class AidForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Step 7, 协调救助."""

    aid_kind: Annotated[
        Literal["state_judicial_aid", "social_aid"],
        Meta(title="救助类型", extra={"labels": {"state_judicial_aid": "国家司法救助", "social_aid": "其他社会救助"}}),
    ]
    hardship: Annotated[str, Meta(title="生活困难情况", min_length=2, max_length=1000, extra=TEXT)]
    applied_to: Annotated[str, Meta(title="申请救助的机关或部门", min_length=2, max_length=200)]
    applied_on: Annotated[dt.date, Meta(title="申请日期")]


class TeamForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One case, one team, one plan: the plan, the supervisor and the deadline (限时销号)."""

    plan: Annotated[str, Meta(title="化解方案（一案一策）", min_length=2, max_length=8000, extra=TEXT)]
    supervisor: Annotated[int, Meta(title="督办人（用户编号）", ge=1)]
    team_deadline: Annotated[dt.date, Meta(title="限时销号日期")]


class MemberForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A member of the dedicated team: a user of the room, or an outside professional by name."""

    user: Annotated[int, Meta(title="本室人员（用户编号）", ge=1)] | None = None
    name: Annotated[str, Meta(title="姓名（室外人员）", max_length=100)] = ""
    profession: Annotated[
        Literal["lawyer", "mediator", "notary", "appraiser", "legal_service", "legal_aid", "other"],
        Meta(title="身份", extra={"labels": PROFESSIONS}),
    ]
    public_employee: Annotated[bool, Meta(title="公职人员（不领取办案补助）")] = False
    lead: Annotated[bool, Meta(title="承办人（组长）")] = False


# ---------------------------------------------------------------------------------------------- records


class VisitRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    held_on: Annotated[dt.date, Meta(title="日期")]
    place: Annotated[str, Meta(title="地点", min_length=1, max_length=200)]
    notes: Annotated[str, Meta(title="走访情况", min_length=2, max_length=4000, extra=TEXT)]


class InvestigationRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    held_on: Annotated[dt.date, Meta(title="日期")]
    method: Annotated[
        Literal["survey", "inspection", "inquiry", "policy_analysis"],
        Meta(title="方式", extra={"labels": {"survey": "调查", "inspection": "勘验", "inquiry": "询问",
                                             "policy_analysis": "政策法规适用分析"}}),
    ]
    findings: Annotated[str, Meta(title="调查结论", min_length=2, max_length=4000, extra=TEXT)]


class EvidenceRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    evidence_kind: Annotated[
        Literal["witness", "documentary", "physical"],
        Meta(title="证据种类", extra={"labels": {"witness": "证言", "documentary": "书证", "physical": "物证"}}),
    ]
    description: Annotated[str, Meta(title="证据内容", min_length=2, max_length=2000, extra=TEXT)]
    obtained_on: Annotated[dt.date, Meta(title="提取日期")]
    provider: Annotated[str, Meta(title="提供人", max_length=100)] = ""


class AppraisalRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A forensic appraisal (司法鉴定) the petitioner commissions; the handling clock pauses."""

    institution: Annotated[str, Meta(title="司法鉴定机构", min_length=2, max_length=200)]
    matter: Annotated[str, Meta(title="鉴定事项", min_length=2, max_length=1000, extra=TEXT)]
    requested_on: Annotated[dt.date, Meta(title="委托鉴定日期")]
    fee_payer: Annotated[str, Meta(title="鉴定费承担方（责任方；不明确的由同级财政）", max_length=200)] = ""


class AppraisalResult(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The appraisal opinion arrived; the handling clock runs again."""

    received_on: Annotated[dt.date, Meta(title="收到鉴定意见日期")]
    opinion: Annotated[str, Meta(title="鉴定意见", min_length=2, max_length=4000, extra=TEXT)]


class ConsultationRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A joint consultation (会商) of the room on a major case, before the proposal."""

    held_on: Annotated[dt.date, Meta(title="会商日期")]
    participants: Annotated[str, Meta(title="参加人员", min_length=2, max_length=1000)]
    conclusion: Annotated[str, Meta(title="会商意见", min_length=2, max_length=4000, extra=TEXT)]


class ReviewRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The petitioner asks the next-higher organ to review (复查) the handling opinion, or to re-review (复核)
    the review opinion (信访工作条例 第三十五、三十六条): within 30 days; the decision is due 30 days later."""

    level: Annotated[
        Literal["review", "re_review"],
        Meta(title="请求事项", extra={"labels": {"review": "复查", "re_review": "复核"}}),
    ]
    reply_received_on: Annotated[dt.date, Meta(title="信访人收到书面答复（处理意见或复查意见）日期")]
    requested_on: Annotated[dt.date, Meta(title="提出请求日期")]
    authority: Annotated[str, Meta(title="受理请求的机关", min_length=2, max_length=200)]


class NoteRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    notes: Annotated[str, Meta(title="工作记录", min_length=2, max_length=4000, extra=TEXT)]


RECORD_FORMS: dict[str, type[msgspec.Struct]] = {
    "visit": VisitRecord,
    "investigation": InvestigationRecord,
    "evidence": EvidenceRecord,
    "appraisal_request": AppraisalRequest,
    "appraisal_result": AppraisalResult,
    "consultation": ConsultationRecord,
    "review": ReviewRecord,
    "note": NoteRecord,
}
RECORD_LABELS = {
    "visit": "实地走访",
    "investigation": "调查、勘验",
    "evidence": "提取证据",
    "appraisal_request": "委托司法鉴定（期限暂停）",
    "appraisal_result": "收到鉴定意见（期限恢复）",
    "consultation": "会商",
    "review": "请求复查、复核",
    "note": "其他工作记录",
    "decline_warning": "不予受理：告知与预警",
    "aid": "协调救助",
}


DISPLAY_FORMS: dict[str, type[msgspec.Struct]] = {**RECORD_FORMS, "decline_warning": PetitionDeclineForm,
                                                 "aid": AidForm}
"""The form each kind of working record was validated with (field titles and choice labels for display)."""


INTAKE_FORMS = (
    IntakeForm(
        channel="petition",
        kind="visit",
        label="信访事项接谈登记",
        label_en="Petition reception",
        schema=ReceiveFields,
        deadline_rule="petition_handling",
        description="信访部门人民调解工作室接谈信访群众、登记信访事项（接谈信访群众）",
    ),
)
