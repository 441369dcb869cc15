"""What a reconciliation agreement (和解协议书) must and must not say, and its document.

Checked by the core agreement validator before the agreement may be marked signed
(``fengqiao_register_agreement_requirements``), for criminal reconciliations only:

- the parties may settle civil liability (compensation, apology) and the victim's view on leniency,
  never facts, evidence, charge or sentence (人民检察院刑事诉讼规则 第四百九十五条): the 协议内容
  must not touch those (patterns in the rule data);
- it states the compensation or apology and the victim's forgiveness and request for / consent to
  lenient treatment (第四百九十八条);
- it is written and signed by the parties only: neither the mediator's signature nor a seal
  (第四百九十八条; prosecutors neither sign nor seal, the mediator's part is in the 笔录);
- compensation is performed immediately, at the latest before the procuratorate's decision;
  instalments only with a guarantee and the victim's consent (第四百九十九条).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from core.documents.model import (
    AgreementCheck,
    AgreementRequirement,
    DocumentDef,
    Fields,
    Layout,
    Line,
    Para,
    PartySignatures,
    PartyTable,
    Section,
    Title,
)
from plugins.procuratorate.rules import ReconciliationRules

__all__ = ["agreement_requirements", "DOCUMENTS"]

WHERE: dict[str, Any] = {"channels": ("procuratorate",), "kinds": ("criminal_reconciliation",)}


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def agreement_requirements(rules: ReconciliationRules) -> list[AgreementRequirement]:
    cite_neg, cite_agr, cite_perf = rules.cite("negotiable"), rules.cite("agreement"), rules.cite("performance")

    def not_negotiable(a: AgreementCheck) -> str | None:
        found = rules.forbidden_in(a.text("terms", "performance_method"))
        if not found:
            return None
        what = "；".join(f"“{m}”涉及{touches}" for m, touches in found)
        return (f"和解协议只能约定赔偿损失、赔礼道歉等民事责任事项和被害人对从宽处理的意见，不得对案件事实认定、"
                f"证据采信、法律适用和定罪量刑进行协商（{cite_neg}）：{what}。被害人的意见请写为"
                "“请求（同意）司法机关对犯罪嫌疑人依法从宽处理”")

    def civil_liability(a: AgreementCheck) -> str | None:
        text = a.text("terms")
        if any(w in text for w in ("赔偿", "赔礼道歉", "道歉", "补偿")):
            return None
        return f"和解协议须写明犯罪嫌疑人赔偿损失、赔礼道歉等内容（{cite_agr}）"

    def forgiveness(a: AgreementCheck) -> str | None:
        text = a.text("terms")
        if "谅解" in text and "从宽" in text:
            return None
        return (f"和解协议须写明被害人对犯罪嫌疑人予以谅解，并要求或者同意司法机关对犯罪嫌疑人依法从宽处理"
                f"（{cite_agr}）")

    def written(a: AgreementCheck) -> str | None:
        return None if a.agreement.get("form", "written") == "written" else f"刑事和解须制作书面和解协议书（{cite_agr}）"

    def parties_only(a: AgreementCheck) -> str | None:
        if a.agreement.get("signed_by_mediator") or a.agreement.get("sealed"):
            return (f"和解协议书由双方当事人签名，检察人员不签字、不加盖印章，调解员亦不在协议上签名、盖章"
                    f"（主持调解情况记入调解笔录）（{cite_agr}）")
        return None

    def instalments(a: AgreementCheck) -> str | None:
        text = a.text("terms", "performance_method")
        if "分期" not in text:
            return None
        missing = []
        if "担保" not in text:
            missing.append("提供的担保")
        if not ("被害人同意" in text or "同意分期" in text):
            missing.append("被害人同意分期履行")
        if missing:
            return f"分期履行须提供有效担保并经被害人同意，协议须写明{'和'.join(missing)}（{cite_perf}）"
        return None

    def performance_time(a: AgreementCheck) -> str | None:
        agreement = a.agreement
        text = f"{agreement.get('terms') or ''}\n{agreement.get('performance_method') or ''}"
        if "分期" in text:
            return None
        deadline, signed = _date(agreement.get("performance_deadline")), _date(agreement.get("signed_on"))
        if deadline is None:
            return None  # the core validator asks for a deadline wherever money is paid
        intake = a.case.get("intake") or {}
        due = _date(intake.get("decision_due_on")) if isinstance(intake, Mapping) else None
        if due is not None:
            if deadline > due:
                return (f"赔偿至迟应在检察机关作出从宽处理决定（{due.isoformat()}）前履行；履行期限不能晚于该日"
                        f"（{cite_perf}）")
            return None
        days = rules.thresholds.immediate_performance_days
        if signed is not None and (deadline - signed).days > days:
            return (f"和解协议约定的赔偿应在双方签署后立即履行（{cite_perf}）；确需较长期限的，请登记检察机关拟作出"
                    "决定的日期，或经被害人同意并提供担保后约定分期履行")
        return None

    return [
        AgreementRequirement("procuratorate_written", "书面和解协议书", written, field="form",
                             citation=cite_agr, **WHERE),
        AgreementRequirement("procuratorate_not_negotiable", "不协商事实、证据、罪名和量刑", not_negotiable,
                             field="terms", citation=cite_neg, **WHERE),
        AgreementRequirement("procuratorate_civil_liability", "赔偿损失、赔礼道歉等内容", civil_liability,
                             field="terms", citation=cite_agr, **WHERE),
        AgreementRequirement("procuratorate_forgiveness", "被害人谅解及对从宽处理的意见", forgiveness,
                             field="terms", citation=cite_agr, **WHERE),
        AgreementRequirement("procuratorate_parties_only", "仅由双方当事人签名", parties_only,
                             field="sealed", citation=cite_agr, **WHERE),
        AgreementRequirement("procuratorate_instalments", "分期履行须有担保并经被害人同意", instalments,
                             field="performance_method", citation=cite_perf, **WHERE),
        AgreementRequirement("procuratorate_performance_time", "立即履行，至迟在检察机关决定前履行",
                             performance_time, field="performance_deadline", citation=cite_perf, **WHERE),
    ]


def _has_written_agreement(ctx: Mapping[str, Any]) -> bool:
    return bool(ctx.get("has_agreement")) and ctx["agreement"]["form"] == "written"


RECONCILIATION_AGREEMENT = Layout((
    Title("和解协议书", subtitle="{{ agreement.number }}"),
    Line("检察机关：{{ case.intake.procuratorate }}　案号：{{ case.intake.procuratorate_case_number }}", align="right"),
    PartyTable(columns=(
        ("身份", "{{ {'applicant': '被害人', 'respondent': '犯罪嫌疑人'}.get(row.role, row.role_label) }}"),
        ("姓名/名称", "{{ row.name }}"),
        ("身份证号/统一社会信用代码", "{{ row.id_text }}"),
        ("联系电话", "{{ row.phone }}"),
        ("住址", "{{ row.address }}"),
    )),
    Section("案件的主要事实", "{{ agreement.facts }}"),
    Para("犯罪嫌疑人真诚悔罪，承认自己所犯罪行，对指控的犯罪没有异议。经{{ org.committee }}调解，双方当事人"
         "自愿就赔偿损失、赔礼道歉等民事责任事项及被害人对从宽处理的意见达成如下和解："),
    Section("和解内容", "{{ agreement.terms }}"),
    Fields((
        ("赔偿金额", "{{ agreement.amount_text }}"),
        ("履行方式", "{{ agreement.performance_method }}"),
        ("履行期限", "{{ agreement.performance_deadline }}"),
    )),
    Para("双方确认：本协议未涉及案件事实认定、证据采信、法律适用和定罪量刑等依法属于司法机关职权范围的事项"
         "（人民检察院刑事诉讼规则 第四百九十五条）。赔偿损失的内容在双方签署后立即履行，至迟在人民检察院作出"
         "从宽处理决定前履行；分期履行的，已提供有效担保并经被害人同意（第四百九十九条）。"),
    Para("本协议书一式三份，双方当事人各持一份，另一份交{{ case.intake.procuratorate or '人民检察院' }}附卷备查"
         "（人民检察院刑事诉讼规则 第四百九十八条）。本协议书由双方当事人签名。"),
    PartySignatures(suffix="（签名或按指印）"),
    Line("{{ agreement.signed_on or doc_date }}", align="right"),
))

DOCUMENTS = (
    DocumentDef("procuratorate_reconciliation_agreement", "和解协议书（刑事和解）", RECONCILIATION_AGREEMENT,
                channels=("procuratorate",), kinds=("criminal_reconciliation",), file_item="agreement",
                available=_has_written_agreement, order=51,
                description="双方当事人签名，一式三份；检察人员和调解员不签名、不盖章（刑诉规则 第四百九十八条）"),
)
