"""Documents of the built-in committees (RULES.md §3.9: 道路交通事故损害赔偿调解书, 医疗纠纷调解协议书)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.documents.model import (
    DocumentDef,
    Fields,
    Layout,
    Line,
    Para,
    PartySignatures,
    PartyTable,
    Seal,
    Section,
    Signatures,
    Title,
)

__all__ = ["MEDICAL_AGREEMENT", "TRAFFIC_AGREEMENT"]

NUMBER = Line("编号：{{ case.number }}", align="right")
TERMS = Fields((("协议金额", "{{ agreement.amount_text }}"), ("履行方式", "{{ agreement.performance_method }}"),
                ("履行期限", "{{ agreement.performance_deadline }}")))
SIGN = (PartySignatures(), Signatures(("人民调解员（签名）：",)), Seal(date="{{ agreement.signed_on or doc_date }}"))


def _written(ctx: Mapping[str, Any]) -> bool:
    return bool(ctx.get("has_agreement")) and (ctx.get("agreement") or {}).get("form") == "written"


TRAFFIC_AGREEMENT = DocumentDef(
    "traffic_agreement", "道路交通事故损害赔偿调解书", Layout((
        Title("道路交通事故损害赔偿调解书", subtitle="{{ agreement.number }}"),
        NUMBER,
        PartyTable(),
        Fields((("道路交通事故认定书", "{{ case.intake.certificate_no }}"),
                ("各方责任比例", "申请人方 {{ case.intake.applicant_liability }}%，被申请人方 "
                               "{{ case.intake.respondent_liability }}%"),
                ("承保保险公司", "{{ case.intake.insurers }}"))),
        Section("事故简要事实、损失情况及各方责任", "{{ agreement.facts }}"),
        Section("损害赔偿的项目、数额及协议内容", "{{ agreement.terms }}"),
        TERMS,
        Para("本调解书一式{{ agreement.copies }}份，当事人各执一份，人民调解委员会留存一份。"),
        *SIGN,
    )),
    channels=("traffic",), file_item="agreement", available=_written, order=31,
    description="道路交通事故处理程序规定 第九十三条所列内容",
)

MEDICAL_AGREEMENT = DocumentDef(
    "medical_agreement", "医疗纠纷人民调解协议书", Layout((
        Title("医疗纠纷人民调解协议书", subtitle="{{ agreement.number }}"),
        NUMBER,
        PartyTable(),
        Fields((("医疗机构", "{{ case.intake.hospital }}"), ("科室", "{{ case.intake.department }}"),
                ("诊疗时间", "{{ case.intake.treatment_from }} 至 {{ case.intake.treatment_to }}"))),
        Section("纠纷事实、争议事项及各方责任", "{{ agreement.facts }}"),
        Section("协议内容", "{{ agreement.terms }}"),
        TERMS,
        Para("双方当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认（医疗纠纷预防和处理条例 第三十九条）。"
             "本协议不公开（第四十二条）。"),
        *SIGN,
    )),
    channels=("medical",), file_item="agreement", available=_written, order=31,
)
