"""道路交通事故损害赔偿纠纷人民调解委员会 — 道路交通事故处理程序规定 (2018) 第八十四条至第九十四条."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core import clock
from core.deadlines import Citation, DeadlineRule
from core.documents.model import must_mention
from plugins.industry.committees.documents import TRAFFIC_AGREEMENT
from plugins.industry.model import Committee, ExpertCategory

LAW = "道路交通事故处理程序规定"
INJURY = {
    "death": "造成人员死亡（丧葬事宜结束之日起算）",
    "injury": "造成人员受伤（治疗终结之日起算）",
    "disability": "因伤致残（定残之日起算）",
    "property": "财产损失（损失确定之日起算）",
}
START = {"death": "丧葬事宜结束", "injury": "治疗终结", "disability": "定残", "property": "损失确定"}


class TrafficFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """道路交通事故损害赔偿调解申请的专门信息."""

    certificate_no: Annotated[str, Meta(title="道路交通事故认定书编号", min_length=4, max_length=64)]
    injury_type: Annotated[Literal["death", "injury", "disability", "property"],
                           Meta(title="损害类型", extra={"labels": INJURY})]
    start_on: Annotated[dt.date, Meta(
        title="调解期限起算日", description="丧葬事宜结束、治疗终结、定残或损失确定之日（第九十条）")] | None = None
    applicant_liability: Annotated[int, Meta(title="申请人方责任比例（%）", ge=0, le=100)]
    respondent_liability: Annotated[int, Meta(title="被申请人方责任比例（%）", ge=0, le=100)]
    insurers: Annotated[str, Meta(title="承保保险公司（交强险、商业三者险）", max_length=300)] | None = None

    def check(self) -> list[tuple[str, str]]:
        if self.applicant_liability + self.respondent_liability != 100:
            return [("respondent_liability", "各方责任比例之和应为100%")]
        if self.start_on is not None and self.start_on > clock.today() + dt.timedelta(days=1):
            return [("start_on", "起算日不能晚于今天")]
        return []


def notices(case) -> list[str]:
    intake = case.get("intake") or {}
    out = [f"责任比例：申请人方 {intake.get('applicant_liability')}%，被申请人方 {intake.get('respondent_liability')}%"
           "；调解书应载明各方责任比例（第九十三条）"]
    if not case.get("clock_started_on"):
        out.append(f"调解期限尚未起算：请在{START.get(intake.get('injury_type', ''), '损失确定')}之日记录起算日（第九十条）")
    out.append("人民调解未达成协议的，当事人可在三日内申请公安机关交通管理部门调解（第八十五条）")
    return out


COMMITTEE = Committee(
    key="traffic",
    name="道路交通事故损害赔偿纠纷人民调解委员会",
    short_name="交调委",
    name_en="Road traffic accident mediation committee",
    sector_body="公安机关交通管理部门、司法行政部门",
    intake=TrafficFields,
    dispute_types=("traffic",),
    deadline_rule="traffic_mediation",
    rules=(DeadlineRule(
        key="traffic_mediation", label="交通事故损害赔偿调解期限", limit=10, unit="calendar", starts_on="start_date",
        citations=(Citation(LAW, "第九十条", "自起算日（按损害类型）起10日内调解终结"),), overridable=True,
        label_en="Traffic mediation window"),),
    expert_categories=(ExpertCategory("forensic", "法医临床"), ExpertCategory("vehicle", "车辆与事故鉴定"),
                       ExpertCategory("insurance", "保险理赔")),
    documents=(TRAFFIC_AGREEMENT,),
    agreement_requirements=(must_mention(
        "traffic_liability_ratio", "各方的责任比例", ("责任",), fields=("facts", "terms"), field="facts",
        citation="道路交通事故处理程序规定 第九十三条", channels=("traffic",)),),
    notices=notices,
    clock_start_field="start_on",
    description="道路交通事故损害赔偿纠纷（道交一体化）",
)
