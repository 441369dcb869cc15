"""Intake forms of the police channel (警调对接): the transfer form (移交函) of a police station.

One schema per referral kind serves the HTML intake page, the partner API (``fields`` of
``POST /api/v1/referrals``) and its JSON Schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.channels import IntakeForm

__all__ = [
    "APPRAISAL_LABELS",
    "CivilFields",
    "EXCLUSION_LABELS",
    "INTAKE_FORMS",
    "PublicOrderFields",
    "VIOLATION_LABELS",
]

EXCLUSION_LABELS = {
    "hired_violence": "雇凶伤害他人",
    "gang_fight": "结伙斗殴",
    "provoking_trouble": "寻衅滋事",
    "repeat_offender": "多次实施违反治安管理行为",
    "party_refuses": "当事人明确表示不愿意调解",
}
"""The cases the police may not mediate (公安机关办理行政案件程序规定 第一百七十九条) known at intake.
A new violation during mediation and flight arise later: see ``protocol.EndMediationForm``."""

VIOLATION_LABELS = {
    "fight": "殴打他人",
    "minor_injury": "故意伤害（轻微伤）",
    "property_damage": "故意损毁财物",
    "other": "其他因民间纠纷引起的违反治安管理行为",
}

APPRAISAL_LABELS = {"none": "无需鉴定", "injury": "伤情鉴定待出结果", "value": "财物价值鉴定待出结果",
                    "both": "伤情和价值鉴定均待出结果"}


class _Transfer(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What every transfer form (移交函) of a police station says."""

    station: Annotated[str, Meta(title="移交派出所", min_length=2, max_length=100,
                                 description="如：某某县公安局城关派出所")]
    incident_number: Annotated[str, Meta(title="警情号", min_length=2, max_length=64)]
    transfer_letter_number: Annotated[str, Meta(title="移交函编号", max_length=64)] | None = None
    officer: Annotated[str, Meta(title="移交民警", min_length=1, max_length=50)]
    officer_phone: Annotated[str, Meta(title="民警联系电话", pattern=r"^[0-9+\- ]{5,20}$", max_length=20)]
    incident_at: Annotated[dt.datetime, Meta(title="警情发生时间", tz=True)]
    incident_place: Annotated[str, Meta(title="警情发生地点", min_length=2, max_length=200)]
    station_accepted_on: Annotated[dt.date, Meta(
        title="公安机关受案日期", description="用于显示派出所自身的办案期限（治安管理处罚法 第九十九条）")] | None = None
    injuries_losses: Annotated[str, Meta(title="伤情及财物损失情况", max_length=2000,
                                         extra={"widget": "textarea"})] | None = None
    minor_involved: Annotated[bool, Meta(title="涉及未成年人（监护人须到场）")] = False
    guardian_name: Annotated[str, Meta(title="未成年人的监护人姓名", max_length=50)] | None = None
    appraisal_pending: Annotated[
        Literal["none", "injury", "value", "both"],
        Meta(title="伤情或价值鉴定", extra={"labels": APPRAISAL_LABELS}),
    ] = "none"

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.station_accepted_on and self.station_accepted_on < self.incident_at.date():
            problems.append(("station_accepted_on", "受案日期不能早于警情发生时间"))
        if self.guardian_name is not None and not self.guardian_name.strip():
            problems.append(("guardian_name", "请填写监护人姓名，或留空"))
        return problems


class PublicOrderFields(_Transfer, forbid_unknown_fields=True, kw_only=True):
    """A minor public-order case arising from a civil dispute (治安调解, 治安管理处罚法 第九条)."""

    violation: Annotated[
        Literal["fight", "minor_injury", "property_damage", "other"],
        Meta(title="违反治安管理行为", extra={"labels": VIOLATION_LABELS}),
    ]
    # the exclusions of 程序规定 第一百七十九条 known at intake, one checkbox each (see EXCLUSION_LABELS)
    excluded_hired_violence: Annotated[bool, Meta(title="不适用调解：雇凶伤害他人")] = False
    excluded_gang_fight: Annotated[bool, Meta(title="不适用调解：结伙斗殴")] = False
    excluded_provoking_trouble: Annotated[bool, Meta(title="不适用调解：寻衅滋事")] = False
    excluded_repeat_offender: Annotated[bool, Meta(title="不适用调解：多次实施违反治安管理行为")] = False
    excluded_party_refuses: Annotated[bool, Meta(title="不适用调解：当事人明确表示不愿意调解")] = False


class CivilFields(_Transfer, forbid_unknown_fields=True, kw_only=True):
    """A neighbour, family or other civil dispute met on a call-out (出警遇到的民间纠纷)."""


INTAKE_FORMS = (
    IntakeForm(
        channel="police",
        kind="public_order",
        label="治安调解移交（因民间纠纷引起的轻微治安案件）",
        label_en="Minor public-order case transferred for mediation",
        schema=PublicOrderFields,
        deadline_rule="police_first_session",
        default_dispute_type="damages",
        description="打架斗殴、轻微伤害、损毁财物等因民间纠纷引起的违反治安管理行为；调解达成协议并履行的，"
                    "当事人可书面申请不予处罚（治安管理处罚法 第九条；公安机关办理行政案件程序规定 第一百七十八条）",
    ),
    IntakeForm(
        channel="police",
        kind="civil",
        label="民间纠纷移交（出警遇到的邻里、家庭等纠纷）",
        label_en="Civil dispute met on a call-out",
        schema=CivilFields,
        deadline_rule="police_first_session",
        default_dispute_type="neighbour",
        description="民警出警时遇到的邻里、婚姻家庭等民间纠纷，移交驻所调解室调解（人民调解法 第十八条）",
    ),
)
