"""The standard people's-mediation documents (人民调解文书), as layouts.

Sources: RULES §3.9 (the county 卷宗 package and its filling instructions), 人民调解法 第三条、第四条、
第二十三条、第二十四条、第二十九条、第三十一条、第三十三条. The official 2010 司法部 formats were
not available; fields follow the working templates found. Every dynamic part is a Jinja snippet
filled from :func:`core.documents.context.build_context`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.documents.model import (
    DocumentDef,
    Fields,
    Layout,
    Line,
    PageBreak,
    Para,
    PartySignatures,
    PartyTable,
    Repeat,
    Seal,
    Section,
    Signatures,
    Table,
    Title,
)

__all__ = ["CORE_DOCUMENTS", "NUMBER_LINE"]

NUMBER_LINE = Line("编号：{{ case.number }}", align="right")


def _has_written_agreement(ctx: Mapping[str, Any]) -> bool:
    return bool(ctx.get("has_agreement")) and ctx["agreement"]["form"] == "written"


def _has_oral_agreement(ctx: Mapping[str, Any]) -> bool:
    return bool(ctx.get("has_agreement")) and ctx["agreement"]["form"] == "oral"


APPLICATION = Layout((
    Title("人民调解申请书"),
    NUMBER_LINE,
    PartyTable(),
    Section("纠纷简要情况", "{{ case.summary }}"),
    Section("申请事项", "{{ case.claims }}"),
    Para("申请人自愿申请{{ org.committee }}对上述纠纷进行调解。"),
    Signatures(("申请人（签名或按指印）：",)),
    Line("申请日期：{{ case.registered_on }}", align="right"),
))

REGISTER = Layout((
    Title("人民调解受理登记表"),
    NUMBER_LINE,
    Fields((
        ("登记日期", "{{ case.registered_on }}"),
        ("纠纷类型", "{{ case.dispute_type_label }}"),
        ("案件来源", "{{ case.source_checks }}"),
        ("涉及金额", "{{ case.amount_text }}"),
        ("涉及人数", "{{ case.people_count }}人"),
        ("调解组织", "{{ org.room }}"),
    )),
    PartyTable(),
    Section("纠纷简要情况", "{{ case.summary }}"),
    Section("申请事项", "{{ case.claims }}"),
    Fields((
        ("受理意见", "{{ case.acceptance }}"),
        ("登记人", "{{ case.registrar }}"),
        ("承办人民调解员", "{{ case.mediator }}"),
    )),
    PartySignatures(),
    Seal(),
))

NOTICE = Layout((
    Title("人民调解当事人权利义务告知书"),
    NUMBER_LINE,
    Para("{{ party_names }}："),
    Para("{{ org.committee }}受理你们之间的{{ case.dispute_type_label }}纠纷。根据《中华人民共和国人民调解法》，"
         "现将当事人在人民调解活动中享有的权利和承担的义务告知如下："),
    Para("一、当事人享有下列权利（第二十三条）：（一）选择或者接受人民调解员；（二）接受调解、拒绝调解或者要求终止调解；"
         "（三）要求调解公开进行或者不公开进行；（四）自主表达意愿、自愿达成调解协议。"),
    Para("二、当事人履行下列义务（第二十四条）：（一）如实陈述纠纷事实；（二）遵守调解现场秩序，尊重人民调解员；"
         "（三）尊重对方当事人行使权利。"),
    Para("三、人民调解委员会调解民间纠纷，不收取任何费用（第四条）。人民调解不妨碍当事人依法通过仲裁、行政、司法等途径"
         "维护自己的权利（第三条）。"),
    Para("四、经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行（第三十一条）。"
         "双方当事人认为有必要的，可以自调解协议生效之日起三十日内共同向人民法院申请司法确认（第三十三条）。"),
    Para("以上内容已告知，当事人已知悉。"),
    PartySignatures("（签名或按指印）"),
    Signatures(("告知人（人民调解员）：",)),
    Seal(date="{{ case.accepted_on or doc_date }}"),
))

RECORD = Layout((
    Title("人民调解记录"),
    NUMBER_LINE,
    Fields((
        ("纠纷类型", "{{ case.dispute_type_label }}"),
        ("当事人", "{{ party_names }}"),
        ("人民调解员", "{{ case.mediator }}"),
    )),
    Para("调解开始前，人民调解员已告知当事人人民调解的性质、原则和效力，当事人的权利和义务，以及调解参与人的身份。"),
    Repeat("sessions", "第{{ row.n }}次调解", (
        "时间：{{ row.held_at }}",
        "地点：{{ row.place }}",
        "参加人员：{{ row.attendees }}",
        "记录：{{ row.record }}",
        "本次结果：{{ row.outcome_label }}",
    )),
    Section("调解结果", "{{ case.result_text }}"),
    PartySignatures(),
    Signatures(("人民调解员（签名）：", "记录人（签名）：")),
))

AGREEMENT = Layout((
    Title("人民调解协议书", subtitle="{{ agreement.number }}"),
    PartyTable(),
    Section("纠纷主要事实、争议事项及各方责任", "{{ agreement.facts }}"),
    Para("经{{ org.committee }}调解，双方当事人自愿达成如下协议："),
    Section("协议内容", "{{ agreement.terms }}"),
    Fields((
        ("协议金额", "{{ agreement.amount_text }}"),
        ("履行方式", "{{ agreement.performance_method }}"),
        ("履行期限", "{{ agreement.performance_deadline }}"),
    )),
    Para("本协议一式{{ agreement.copies }}份，当事人各执一份，人民调解委员会留存一份。本协议自各方当事人签名（盖章或按指印）、"
         "人民调解员签名并加盖人民调解委员会印章之日起生效。经人民调解委员会调解达成的调解协议，具有法律约束力，"
         "当事人应当按照约定履行（人民调解法 第二十九条、第三十一条）。"),
    Para("双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认（人民调解法 第三十三条）。"),
    PartySignatures(),
    Signatures(("人民调解员（签名）：",)),
    Seal(date="{{ agreement.signed_on or doc_date }}"),
))

ORAL_REGISTER = Layout((
    Title("人民调解口头协议登记表"),
    NUMBER_LINE,
    Fields((
        ("登记日期", "{{ agreement.signed_on or doc_date }}"),
        ("纠纷类型", "{{ case.dispute_type_label }}"),
        ("当事人", "{{ party_names }}"),
        ("人民调解员", "{{ case.mediator }}"),
    )),
    Section("纠纷简要情况", "{{ case.summary }}"),
    Section("口头协议内容", "{{ agreement.terms }}"),
    Fields((
        ("履行方式", "{{ agreement.performance_method }}"),
        ("履行期限", "{{ agreement.performance_deadline }}"),
    )),
    Para("口头调解协议自各方当事人达成协议之日起生效（人民调解法 第三十条）。"),
    Signatures(("人民调解员（签名）：",)),
    Seal(),
))

FOLLOW_UP = Layout((
    Title("人民调解回访记录"),
    NUMBER_LINE,
    Fields((
        ("被回访当事人", "{{ party_names }}"),
        ("协议编号", "{{ agreement.number }}"),
        ("回访事由", "了解调解协议履行情况（人民调解法 第三十一条）"),
        ("回访日期", "{{ followup.done_on }}"),
        ("协议履行情况", "{{ followup.performance }}"),
        ("当事人满意程度", "{{ followup.satisfaction }}"),
        ("是否另行起诉或已有判决", "{{ followup.suit }}"),
        ("有无激化迹象", "{{ followup.escalation }}"),
        ("采取的措施", "{{ followup.measures }}"),
        ("回访人", "{{ followup.visitor }}"),
    )),
    Section("回访情况", "{{ followup.notes }}"),
    Signatures(("被回访人（签名）：", "回访人（签名）：")),
))

CLOSING_REPORT = Layout((
    Title("人民调解结案报告表"),
    Fields((
        ("卷号", "{{ case.number }}"),
        ("承办单位", "{{ org.room }}"),
        ("承办人", "{{ case.mediator }}"),
        ("受案时间", "{{ case.accepted_on }}"),
        ("结案时间", "{{ case.closed_on }}"),
        ("案件来源", "{{ case.source_checks }}"),
        ("纠纷类型", "{{ case.dispute_type_label }}"),
        ("当事人", "{{ party_names }}"),
    )),
    Section("纠纷简要事实", "{{ case.summary }}"),
    Section("调解结果", "{{ case.result_text }}"),
    Fields((("协议履行情况", "{{ agreement.fulfilment }}"),)),
    Signatures(("承办人（签名）：", "审核人（签名）：")),
    Seal(date="{{ case.closed_on or doc_date }}"),
))

FILE_COVER = Layout((
    Title("{{ org.committee }}", subtitle="人民调解卷宗"),
    Fields((
        ("卷名", "{{ file.title }}"),
        ("卷号", "{{ case.number }}"),
        ("人民调解员", "{{ case.mediator }}"),
        ("调解日期", "{{ file.mediation_dates }}"),
        ("立卷人", "{{ file.filer }}"),
        ("立卷日期", "{{ file.filed_on }}"),
        ("保管期限", "{{ file.retention }}"),
    )),
    PageBreak(),
    Title("卷内目录", subtitle="{{ case.number }}"),
    Table("file.entries", (
        ("序号", "{{ row.no }}"),
        ("材料名称", "{{ row.title }}"),
        ("类别", "{{ row.requirement_label }}"),
        ("情况", "{{ row.status_label }}"),
        ("备注", "{{ row.note }}"),
    )),
    PageBreak(),
    Title("封底"),
    Fields((
        ("卷宗情况说明", "{{ file.statement }}"),
        ("立卷人", "{{ file.filer }}"),
        ("检查人", ""),
        ("立卷日期", "{{ file.filed_on }}"),
        ("归档校验码（SHA-256）", "{{ file.sha256 }}"),
    )),
))


def _after_outcome(ctx: Mapping[str, Any]) -> bool:
    return bool(ctx["case"]["outcome"])


CORE_DOCUMENTS: tuple[DocumentDef, ...] = (
    DocumentDef("application", "人民调解申请书", APPLICATION, file_item="application", order=10,
                description="当事人申请调解的书面申请（口头申请由调解员记录）"),
    DocumentDef("register", "人民调解受理登记表", REGISTER, file_item="application", order=20),
    DocumentDef("notice", "人民调解当事人权利义务告知书", NOTICE, file_item="notice", order=30),
    DocumentDef("record", "人民调解记录（调解笔录）", RECORD, file_item="record", order=40,
                available=lambda ctx: bool(ctx["sessions"])),
    DocumentDef("agreement", "人民调解协议书", AGREEMENT, file_item="agreement", order=50,
                available=_has_written_agreement),
    DocumentDef("oral_register", "人民调解口头协议登记表", ORAL_REGISTER, file_item="agreement", order=55,
                available=_has_oral_agreement),
    DocumentDef("follow_up", "人民调解回访记录", FOLLOW_UP, file_item="follow_up", order=60,
                available=lambda ctx: bool(ctx.get("has_agreement"))),
    DocumentDef("closing_report", "人民调解结案报告表", CLOSING_REPORT, order=70, available=_after_outcome),
    DocumentDef("file_cover", "卷宗封面、卷内目录及封底", FILE_COVER, file_item="back_cover", order=80),
)
