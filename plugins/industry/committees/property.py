"""物业纠纷人民调解委员会. No national procedural time limit was found (RULES.md §3.7), so the general
people's-mediation period applies."""

from __future__ import annotations

import decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from plugins.industry.model import Committee, ExpertCategory

ISSUES = {"fees": "物业费", "repairs": "维修养护", "public_areas": "共有部位与公共收益", "services": "服务质量", "other": "其他"}


class PropertyFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """物业纠纷调解申请的专门信息."""

    property_company: Annotated[str, Meta(title="物业服务企业", min_length=2, max_length=200)]
    owners_committee: Annotated[str, Meta(title="业主委员会", max_length=200)] | None = None
    estate: Annotated[str, Meta(title="物业项目（小区）及房屋", min_length=2, max_length=300)]
    issues: Annotated[list[Literal["fees", "repairs", "public_areas", "services", "other"]],
                      Meta(title="争议事项", min_length=1, extra={"labels": ISSUES})]
    fees_in_dispute: Annotated[decimal.Decimal, Meta(title="争议物业费（元）")] | None = None
    repair_item: Annotated[str, Meta(title="维修事项", max_length=500)] | None = None

    def check(self) -> list[tuple[str, str]]:
        if "repairs" in self.issues and not self.repair_item:
            return [("repair_item", "争议涉及维修时请写明维修事项")]
        if self.fees_in_dispute is not None and self.fees_in_dispute < 0:
            return [("fees_in_dispute", "金额不能为负数")]
        return []


COMMITTEE = Committee(
    key="property",
    name="物业纠纷人民调解委员会",
    short_name="物调委",
    name_en="Property management mediation committee",
    sector_body="住房和城乡建设（房屋管理）部门、街道办事处",
    intake=PropertyFields,
    dispute_types=("property_management",),
    deadline_rule="general_mediation",
    expert_categories=(ExpertCategory("building", "建筑与设备维修"), ExpertCategory("pricing", "物业服务收费"),
                       ExpertCategory("law", "物业管理法规")),
    description="业主、业主委员会与物业服务企业之间的物业服务纠纷",
)
