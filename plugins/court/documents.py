"""Documents of the court channel, as data (core documents engine: print page and DOCX).

- 调解情况报告（致人民法院）: the written report of the result to the referring court
  (特邀调解规定 第二十六条: termination and its grounds are reported in writing; 第十九、二十条 for
  settlements: filing, or a court mediation document / withdrawal).
- 司法确认申请书: the parties' joint application for judicial confirmation (民事诉讼法 第二百零五条;
  民诉法解释 第三百五十三、三百五十四条), with the list of materials attached.
"""

from __future__ import annotations

from typing import Any

from core.documents.context import cn_date
from core.documents.model import DocumentDef, Fields, Layout, PartySignatures, PartyTable, Section, Seal, Title

from plugins.court.forms import PROCEDURE_LABELS, RETURN_REASONS, TERMINATION_GROUNDS

__all__ = ["DOCUMENTS"]

_RESULTS = {"settled": "调解成功", "terminated": "调解不成，终止调解", "returned": "不予接收，退回人民法院",
            "withdrawn": "当事人撤回调解申请"}
_FOLLOW_UPS = {"filed": "调解协议已送人民法院备案", "document_requested": "请求人民法院依法出具民事调解书",
               "withdrawal_requested": "原告申请撤回起诉"}


async def _court_context(base: Any) -> dict[str, Any]:
    from plugins.court.records import PACKET_ITEMS, load_record

    record = await load_record(int(base["case"]["id"])) or {}
    intake = base["case"]["intake"]
    ground = record.get("result_ground") or ""
    return {"court": {
        "name": intake.get("court_name", ""),
        "reference": intake.get("court_reference", ""),
        "case_number": intake.get("court_case_number", ""),
        "procedure": PROCEDURE_LABELS.get(intake.get("procedure", ""), ""),
        "cause": intake.get("cause_of_action", ""),
        "judge": intake.get("judge_contact", ""),
        "received_on": cn_date(record.get("received_on")),
        "result": _RESULTS.get(record.get("result", ""), "尚在办理中"),
        "ground": TERMINATION_GROUNDS.get(ground) or RETURN_REASONS.get(ground) or "",
        "follow_up": _FOLLOW_UPS.get(record.get("follow_up", ""), ""),
        "concluded_on": cn_date(record.get("concluded_on")),
        "days": record.get("days_to_close") if record.get("days_to_close") is not None else "",
        "materials": "；".join(label for key, label in PACKET_ITEMS.items() if (record.get("packet") or {}).get(key)),
        "has_result": bool(record.get("result")),
    }}


REPORT = DocumentDef(
    "court_mediation_report", "调解情况报告（致人民法院）",
    Layout((
        Title("调解情况报告", subtitle="{{ case.number }}"),
        Fields((("致", "{{ court.name }}"), ("法院编号", "{{ court.reference }}"),
                ("立案案号", "{{ court.case_number }}"), ("案由", "{{ court.cause }}"),
                ("签收材料日期", "{{ court.received_on }}"), ("调解结束日期", "{{ court.concluded_on }}"))),
        PartyTable(),
        Section("调解结果", "{{ court.result }}{% if court.ground %}（{{ court.ground }}）{% endif %}"
                           "{% if court.follow_up %}；{{ court.follow_up }}{% endif %}。"),
        Section("调解协议内容", "{% if has_agreement %}{{ agreement.terms }}{% else %}（无）{% endif %}"),
        Seal(),
    )),
    channels=("court",), context=_court_context, available=lambda ctx: bool(ctx["court"]["has_result"]), order=60,
    description="向委派/委托法院书面报告调解结果（特邀调解规定 第二十六条）",
)

APPLICATION = DocumentDef(
    "court_confirmation_application", "司法确认申请书",
    Layout((
        Title("司法确认申请书"),
        PartyTable(),
        Section("请求事项", "请求{{ court.name }}依法确认双方于{{ agreement.signed_on }}经{{ org.committee }}主持调解"
                           "达成的调解协议（{{ agreement.number }}）有效。"),
        Section("事实和理由", "双方因{{ court.cause }}经人民法院委派（{{ court.reference }}），由{{ org.committee }}"
                             "调解达成协议。协议系双方自愿达成，不违反法律、行政法规强制性规定，不损害国家利益、"
                             "社会公共利益和他人合法权益。双方共同申请司法确认。"),
        Section("附：申请材料", "{{ court.materials or '（材料清单尚未勾选）' }}"),
        PartySignatures(),
    )),
    channels=("court",), kinds=("pre_filing",), context=_court_context,
    available=lambda ctx: bool(ctx["has_agreement"]) and ctx["court"]["result"] == "调解成功", order=61,
    description="当事人共同向人民法院申请司法确认（民事诉讼法 第二百零五条；民诉法解释 第三百五十三、三百五十四条）",
)

DOCUMENTS = (REPORT, APPLICATION)
