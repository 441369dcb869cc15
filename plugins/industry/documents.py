"""The expert-opinion document: consultations and their written opinions, part of the case file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.documents.context import cn_date
from core.documents.model import DocumentDef, Fields, Layout, Para, Repeat, Title

__all__ = ["opinions_document"]

LAYOUT = Layout((
    Title("专家咨询意见", subtitle="{{ case.number }}"),
    Fields((("委员会", "{{ case.channel_label }}"), ("纠纷类型", "{{ case.dispute_type_label }}"))),
    Repeat("expert_opinions", "{{ row.category }}：{{ row.question }}", (
        "专家：{{ row.expert }}",
        "出具日期：{{ row.given_on }}",
        "意见：{{ row.opinion }}",
    ), empty="（本案未进行专家咨询）"),
    Para("以上意见由人民调解员按专家出具的书面意见录入，原件附卷。专家存在应当回避情形的，已记录回避且未出具意见。"),
))


async def _context(ctx: Mapping[str, Any]) -> dict[str, Any]:
    from plugins.industry.experts import consultations_for_case

    rows = []
    for cons in await consultations_for_case(None, int(ctx["case"]["id"])):
        for o in cons["opinions"]:
            expert = "，".join(x for x in (o["expert_name"], o["expert_employer"], o["expert_title"]) if x)
            rows.append({"category": cons["category"], "question": cons["question"], "expert": expert,
                         "given_on": cn_date(o["given_on"]), "opinion": o["opinion"]})
    return {"expert_opinions": rows}


def opinions_document(channels: tuple[str, ...]) -> DocumentDef:
    return DocumentDef("industry_expert_opinions", "专家咨询意见", LAYOUT, channels=channels, file_item="evidence",
                       context=_context, order=45, description="专家库专家出具的书面意见（附卷）")
