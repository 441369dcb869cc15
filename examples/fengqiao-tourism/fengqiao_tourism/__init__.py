"""旅游纠纷人民调解委员会: an example Fengqiao industry committee, as an outside package."""

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core import hookimpl
from core.deadlines import Citation, DeadlineRule
from plugins.industry.model import Committee, ExpertCategory

KINDS = {"itinerary": "擅自变更行程", "shopping": "强迫购物", "quality": "服务质量", "refund": "退团退费"}


class TourismFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """旅游纠纷调解申请的专门信息."""

    agency: Annotated[str, Meta(title="旅行社", min_length=2, max_length=200)]
    contract_no: Annotated[str, Meta(title="旅游合同编号", max_length=64)] | None = None
    departed_on: Annotated[dt.date, Meta(title="出发日期")]
    destination: Annotated[str, Meta(title="目的地", min_length=1, max_length=100)]
    complaint: Annotated[Literal["itinerary", "shopping", "quality", "refund"],
                         Meta(title="争议事项", extra={"labels": KINDS})]


COMMITTEE = Committee(
    key="tourism",
    name="旅游纠纷人民调解委员会",
    short_name="旅调委",
    name_en="Tourism dispute mediation committee",
    sector_body="文化和旅游主管部门",
    intake=TourismFields,
    dispute_types=("consumer", "contract"),
    deadline_rule="tourism_mediation",
    rules=(DeadlineRule(
        key="tourism_mediation", label="旅游纠纷调解期限", limit=30, unit="calendar", starts_on="accepted",
        citations=(Citation("人民调解工作若干规定", "第三十三条", "调解纠纷一般在一个月内调结"),),
        extension="consent"),),
    expert_categories=(ExpertCategory("tourism_service", "旅游服务质量"), ExpertCategory("law", "旅游法律")),
    panel_template=Path(__file__).parent / "templates" / "panel.html",
)


@hookimpl
def fengqiao_industry_committees(settings):
    return [COMMITTEE]
