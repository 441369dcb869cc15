"""The 12345 work order (工单) as an intake form, and the transition forms of the hotline protocol.

A work order arrives by the partner API (``POST /api/v1/referrals`` with ``channel: "hotline"``,
``kind: "work_order"``) or is keyed in by a mediator from the hotline's dispatch sheet. The caller is
the applicant party; the person or body complained about is the respondent.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.channels import IntakeForm
from core.clock import TZ as _TZ

__all__ = [
    "CATEGORIES",
    "CATEGORY_DISPUTE_TYPES",
    "WorkOrderFields",
    "ReturnForm",
    "CallbackForm",
    "INTAKE_FORMS",
    "SATISFACTION_LABELS",
]

CATEGORIES: dict[str, str] = {
    "neighbour": "邻里纠纷",
    "family": "婚姻家庭纠纷",
    "property_service": "物业服务纠纷",
    "wage_arrears": "劳资欠薪纠纷",
    "consumer": "消费维权纠纷",
    "housing_land": "房屋土地纠纷",
    "traffic": "交通事故纠纷",
    "contract_debt": "合同债务纠纷",
    "damages": "损害赔偿纠纷",
    "other": "其他矛盾纠纷",
}
"""The hotline's dispatch catalogue (派单分类) for matters it sends to people's mediation."""

CATEGORY_DISPUTE_TYPES: dict[str, str] = {
    "neighbour": "neighbour",
    "family": "marriage_family",
    "property_service": "property_management",
    "wage_arrears": "labour",
    "consumer": "consumer",
    "housing_land": "housing_land",
    "traffic": "traffic",
    "contract_debt": "contract",
    "damages": "damages",
    "other": "other",
}
"""Crosswalk from the hotline catalogue to the deployment's ``dispute_type`` code list (shown as a
hint in the docs; the referral still carries its own ``dispute_type``)."""

Category = Literal[
    "neighbour", "family", "property_service", "wage_arrears", "consumer", "housing_land", "traffic",
    "contract_debt", "damages", "other",
]


class WorkOrderFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Channel-specific fields of a 12345 work order (``fields`` of the referral)."""

    order_number: Annotated[str, Meta(title="工单编号", min_length=1, max_length=64)]
    category: Annotated[Category, Meta(title="派单分类", extra={"labels": CATEGORIES})]
    location: Annotated[str, Meta(title="事发地点", min_length=1, max_length=200)]
    grid: Annotated[str, Meta(title="所属网格", description="网格名称或编号", min_length=1, max_length=100)]
    dispatched_at: Annotated[dt.datetime, Meta(title="派单时间", tz=True)]
    grid_worker: Annotated[str, Meta(title="网格员", max_length=50)] | None = None
    grid_worker_phone: Annotated[str, Meta(title="网格员电话", max_length=20)] | None = None
    response_due: Annotated[dt.datetime, Meta(
        title="要求响应（签收）时间", tz=True,
        description="热线要求的签收时限；不填则按本部署默认（派单后 24 小时）")] | None = None
    completion_due: Annotated[dt.date, Meta(
        title="要求办结日期",
        description="热线要求的办结日期；不填则按本部署默认（派单后 5 个工作日）")] | None = None
    petition_reference: Annotated[str, Meta(
        title="信访件编号", max_length=64,
        description="该事项已进入信访程序时填写；此类事项不按 12345 工单受理")] | None = None

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.petition_reference and self.petition_reference.strip():
            problems.append((
                "petition_reference",
                f"该事项已进入信访程序（信访件编号 {self.petition_reference.strip()}），"
                "不按 12345 工单受理调解，请热线按信访渠道转办",
            ))
        if self.response_due is not None and self.response_due < self.dispatched_at:
            problems.append(("response_due", "要求响应时间不能早于派单时间"))
        if self.completion_due is not None and self.completion_due < self.dispatched_at.astimezone(_TZ).date():
            problems.append(("completion_due", "要求办结日期不能早于派单日期"))
        return problems


class ReturnForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """退回热线重新派单: why the order does not belong here, and where it should go."""

    reason: Annotated[str, Meta(title="退回理由", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    suggested_unit: Annotated[str, Meta(title="建议改派单位", max_length=100)] | None = None


SATISFACTION_LABELS = {"satisfied": "满意", "dissatisfied": "不满意"}


class CallbackForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """回访: the caller's verdict on the handling, reported back to the hotline."""

    satisfaction: Annotated[
        Literal["satisfied", "dissatisfied"], Meta(title="来电人评价", extra={"labels": SATISFACTION_LABELS})
    ]
    method: Annotated[
        Literal["phone", "visit", "sms"],
        Meta(title="回访方式", extra={"labels": {"phone": "电话回访", "visit": "上门回访", "sms": "短信回访"}}),
    ] = "phone"
    notes: Annotated[str, Meta(title="回访记录", max_length=1000, extra={"widget": "textarea"})] | None = None


INTAKE_FORMS = (
    IntakeForm(
        channel="hotline",
        kind="work_order",
        label="12345 热线工单",
        label_en="12345 hotline work order",
        schema=WorkOrderFields,
        deadline_rule="hotline_work_order",
        description="12345 政务服务便民热线派发至人民调解组织的矛盾纠纷工单（“12345+网格员+人民调解”）",
    ),
)
