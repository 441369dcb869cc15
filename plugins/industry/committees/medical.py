"""医疗纠纷人民调解委员会 (医调委) — 医疗纠纷预防和处理条例 (2018) 第三十一条至第四十二条."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from core.channels import StatisticDef, Transition
from core.deadlines import Citation, DeadlineRule
from core.documents.model import must_mention
from core.protocol_kit import CaseContext
from plugins.industry.committees.documents import MEDICAL_AGREEMENT
from plugins.industry.model import Committee, ExpertCategory

LAW = "医疗纠纷预防和处理条例"


class MedicalFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """医疗纠纷调解申请的专门信息."""

    hospital: Annotated[str, Meta(title="医疗机构", min_length=2, max_length=200)]
    department: Annotated[str, Meta(title="科室", max_length=100)] | None = None
    treatment_from: Annotated[dt.date, Meta(title="诊疗开始日期")]
    treatment_to: Annotated[dt.date, Meta(title="诊疗结束日期")] | None = None
    claimed_damage: Annotated[str, Meta(title="损害后果及赔偿请求", min_length=2, max_length=2000,
                                        extra={"widget": "textarea"})]
    claimed_amount: Annotated[decimal.Decimal, Meta(title="索赔金额（元）")] | None = None
    appraisal_requested: Annotated[bool, Meta(
        title="申请医疗损害鉴定", description="鉴定期间不计入调解期限（条例 第三十八条）")] = False
    insurer: Annotated[str, Meta(title="医疗责任保险承保机构", max_length=200)] | None = None
    claim_number: Annotated[str, Meta(title="保险理赔案号", max_length=100)] | None = None
    lawsuit_accepted: Annotated[bool, Meta(title="已向人民法院起诉且已被受理")] = False
    health_authority_accepted: Annotated[bool, Meta(title="已申请卫生主管部门调解且已被受理")] = False

    def check(self) -> list[tuple[str, str]]:
        if self.treatment_to is not None and self.treatment_to < self.treatment_from:
            return [("treatment_to", "诊疗结束日期不能早于开始日期")]
        if self.claim_number and not self.insurer:
            return [("insurer", "填写理赔案号时须注明承保机构")]
        if self.claimed_amount is not None and self.claimed_amount < 0:
            return [("claimed_amount", "金额不能为负数")]
        return []


def not_elsewhere(ctx: CaseContext) -> str | None:
    """条例 第三十一条: not accepted once a court or the health authority has accepted the dispute."""
    intake = ctx.case.get("intake") or {}
    if intake.get("lawsuit_accepted"):
        return "当事人已向人民法院提起诉讼并已被受理，医调委不予受理（医疗纠纷预防和处理条例 第三十一条）"
    if intake.get("health_authority_accepted"):
        return "当事人已申请卫生主管部门调解并已被受理，医调委不予受理（医疗纠纷预防和处理条例 第三十一条）"
    return None


class InsurancePaymentForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """调解理赔一体化: the insurer's payment under the agreement."""

    insurer: Annotated[str, Meta(title="承保机构", min_length=2, max_length=200)]
    claim_number: Annotated[str, Meta(title="理赔案号", min_length=2, max_length=100)]
    amount: Annotated[decimal.Decimal, Meta(title="赔付金额（元）")]
    paid_on: Annotated[dt.date, Meta(title="赔付日期")]

    def check(self) -> list[tuple[str, str]]:
        return [("amount", "赔付金额应大于0")] if self.amount <= 0 else []


def notices(case) -> list[str]:
    intake = case.get("intake") or {}
    out = ["医疗纠纷调解不公开进行；未经双方同意不得公开调解或公开调解协议（条例 第四十二条）",
           "达成协议后应告知当事人可以依法申请司法确认（条例 第三十九条）"]
    if intake.get("appraisal_requested"):
        out.append("已申请医疗损害鉴定：鉴定开始之日请暂停调解期限（事由“鉴定”），鉴定结束后恢复计算")
    if intake.get("claim_number"):
        out.append(f"调解理赔一体化：承保机构 {intake.get('insurer') or ''}，理赔案号 {intake['claim_number']}")
    return out


COMMITTEE = Committee(
    key="medical",
    name="医疗纠纷人民调解委员会",
    short_name="医调委",
    name_en="Medical dispute mediation committee",
    sector_body="卫生健康主管部门、司法行政部门",
    intake=MedicalFields,
    dispute_types=("medical",),
    deadline_rule="medical_mediation",
    rules=(DeadlineRule(
        key="medical_mediation", label="医疗纠纷调解期限", limit=30, unit="working", starts_on="accepted",
        citations=(Citation(LAW, "第三十八条", "自受理之日起30个工作日内完成；鉴定时间不计入"),),
        tolling_events=("appraisal",), extension="consent", label_en="Medical mediation period"),),
    expert_categories=(ExpertCategory("clinical", "临床医学"), ExpertCategory("pharmacy", "药学"),
                       ExpertCategory("forensic", "法医学"), ExpertCategory("law", "法学")),
    statistics=(StatisticDef("medical_insurance_paid_cases", "医调委保险赔付（件）", channel="medical",
                             counts="event:medical.insurance_paid", label_en="Insurer paid", order=10),),
    documents=(MEDICAL_AGREEMENT,),
    agreement_requirements=(must_mention(
        "medical_judicial_confirmation", "已告知当事人可以依法申请司法确认", ("司法确认",), fields=("terms",),
        citation="医疗纠纷预防和处理条例 第三十九条", channels=("medical",)),),
    accept_guards=(not_elsewhere,),
    transitions=(Transition("record_insurance_payment", ("settled",), "settled", "记录保险赔付",
                            "medical.insurance_paid", form=InsurancePaymentForm),),
    notices=notices,
    confidential=True,
    description="医疗机构与患方之间的医疗纠纷（医疗纠纷预防和处理条例）",
)
