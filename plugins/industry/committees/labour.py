"""劳动争议人民调解委员会 — 劳动争议调解仲裁法 (2007) 第十条至第十六条."""

from __future__ import annotations

import decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.channels import StatisticDef, Transition
from core.deadlines import Citation, DeadlineRule
from plugins.industry.model import Committee, ExpertCategory

LAW = "劳动争议调解仲裁法"


class LabourFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """劳动争议调解申请的专门信息."""

    employer: Annotated[str, Meta(title="用人单位", min_length=2, max_length=200)]
    employer_credit_code: Annotated[str, Meta(title="用人单位统一社会信用代码", max_length=18)] | None = None
    wage_arrears: Annotated[decimal.Decimal, Meta(title="拖欠工资金额（元）")] | None = None
    work_injury: Annotated[bool, Meta(title="涉及工伤")] = False
    injury_compensation: Annotated[decimal.Decimal, Meta(title="工伤医疗费、经济补偿或赔偿金（元）")] | None = None

    def check(self) -> list[tuple[str, str]]:
        return [(k, "金额不能为负数") for k in ("wage_arrears", "injury_compensation")
                if (getattr(self, k) or 0) < 0]


class ArbitrationForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(title="未达成协议的情况", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    route: Annotated[Literal["arbitration"], Meta(title="引导途径", extra={"labels": {"arbitration": "劳动争议仲裁"}})] = (
        "arbitration")


def payment_order_applies(case) -> bool:
    """第十六条: wages, work-injury medical costs or compensation agreed — the worker may apply for 支付令."""
    intake = case.get("intake") or {}
    return case.get("status") in {"settled", "closed", "archived"} and bool(
        intake.get("wage_arrears") or intake.get("injury_compensation"))


def notices(case) -> list[str]:
    out = []
    if case.get("status") in {"registered", "accepted", "in_mediation"} and case.get("overdue"):
        out.append("自收到调解申请之日起十五日内未达成调解协议，当事人可以依法申请劳动争议仲裁（第十四条）；"
                   "请告知当事人并可执行“引导申请仲裁”")
    if payment_order_applies(case):
        out.append("调解协议涉及支付拖欠劳动报酬、工伤医疗费、经济补偿或赔偿金，用人单位在协议约定期限内不履行的，"
                   "劳动者可以持调解协议书依法向人民法院申请支付令（第十六条）")
    return out


COMMITTEE = Committee(
    key="labour",
    name="劳动争议人民调解委员会",
    short_name="劳调委",
    name_en="Labour dispute mediation committee",
    sector_body="人力资源社会保障部门、工会、企业代表组织",
    intake=LabourFields,
    dispute_types=("labour",),
    deadline_rule="labour_mediation",
    rules=(DeadlineRule(
        key="labour_mediation", label="劳动争议调解期限", limit=15, unit="calendar", starts_on="registered",
        citations=(Citation(LAW, "第十四条", "自收到调解申请之日起15日内未达成协议的，可以申请仲裁"),),
        label_en="Labour mediation period"),),
    expert_categories=(ExpertCategory("labour_law", "劳动法"), ExpertCategory("social_insurance", "社会保险"),
                       ExpertCategory("occupational_health", "职业健康与工伤")),
    statistics=(
        StatisticDef("labour_wage_arrears_cases", "劳调委欠薪纠纷登记（件）", channel="labour", counts="registered",
                     when=(("dispute_type", "under", "labour.wage_arrears"),), label_en="Wage arrears", order=10),
        StatisticDef("labour_arbitration_cases", "劳调委引导仲裁（件）", channel="labour", counts="status:not_settled",
                     when=(("suggested_route", "=", "arbitration"),), label_en="Guided to arbitration", order=11),
    ),
    transitions=(Transition("guide_arbitration", ("accepted", "in_mediation"), "not_settled",
                            "引导申请仲裁", "case.not_settled", form=ArbitrationForm, style="danger",
                            partner_event=True),),
    notices=notices,
    description="劳动者与用人单位之间的劳动争议，含拖欠农民工工资",
)
