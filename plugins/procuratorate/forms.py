"""Intake forms of the procuratorate channel (检调对接).

Three referral kinds: ``criminal_reconciliation`` (刑事和解, the main one), ``civil_supervision``
(民事检察 cases where the procuratorate suggests settlement) and ``complaint`` (控告申诉 / 检察信访
matters fit for mediation).

Parties: in a criminal reconciliation the victim (被害人) is entered as the applicant and the suspect
(犯罪嫌疑人) as the respondent; :data:`PARTY_LABELS` gives the channel's names for the roles.

The offence field of ``criminal_reconciliation`` lists the offences of the deployment's rule data,
so its schema is built from the rules at start-up (:func:`intake_forms`).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from core.channels import IntakeForm
from plugins.procuratorate.rules import ReconciliationRules

__all__ = [
    "CHANNEL",
    "STAGE_LABELS",
    "PARTY_LABELS",
    "KIND_LABELS",
    "CivilSupervisionFields",
    "ComplaintFields",
    "intake_forms",
    "reconciliation_schema",
]

CHANNEL = "procuratorate"

STAGE_LABELS = {"arrest_review": "审查逮捕", "prosecution_review": "审查起诉"}
PARTY_LABELS = {
    "criminal_reconciliation": {"applicant": "被害人", "respondent": "犯罪嫌疑人"},
    "civil_supervision": {"applicant": "申请人", "respondent": "被申请人"},
    "complaint": {"applicant": "控告人/申诉人", "respondent": "被申请人"},
}
KIND_LABELS = {
    "criminal_reconciliation": "刑事和解",
    "civil_supervision": "民事检察和解",
    "complaint": "控告申诉（检察信访）",
}
COMPLAINT_LABELS = {"complaint": "控告", "appeal": "申诉", "letters_visits": "检察信访"}


def _money_problem(name: str, value: decimal.Decimal | None) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not value.is_finite() or value < 0:
        return [(name, "金额不能为负数")]
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return [(name, "金额最多保留两位小数")]
    if value >= decimal.Decimal("1e12"):
        return [(name, "金额过大")]
    return []


class _Common(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    procuratorate: Annotated[str, Meta(title="检察院", min_length=2, max_length=100,
                                       description="如：某某县人民检察院")]
    procuratorate_case_number: Annotated[str, Meta(title="检察院案号", min_length=2, max_length=100)]


def _check_reconciliation(self: Any) -> list[tuple[str, str]]:
    problems = _money_problem("compensation_claimed", self.compensation_claimed)
    years = self.likely_sentence_years
    if not years.is_finite() or years < 0:
        problems.append(("likely_sentence_years", "刑期不能为负数"))
    elif years > 25:
        problems.append(("likely_sentence_years", "有期徒刑最高不超过二十五年（数罪并罚）"))
    elif years.as_tuple().exponent < -2:  # type: ignore[operator]
        problems.append(("likely_sentence_years", "刑期最多保留两位小数"))
    if self.prior_intentional_crime_on and self.offence_on and self.prior_intentional_crime_on > self.offence_on:
        problems.append(("prior_intentional_crime_on", "前次故意犯罪日期不能晚于本案案发日期"))
    return problems


def reconciliation_schema(rules: ReconciliationRules) -> type[msgspec.Struct]:
    """The ``criminal_reconciliation`` fields, with the offences of ``rules`` as choices."""
    offence_type = Literal.__getitem__(rules.offence_names)  # type: ignore[attr-defined]
    fields: list[tuple[str, Any, Any] | tuple[str, Any]] = [
        ("offence", Annotated[offence_type, Meta(title="罪名（涉嫌）")]),
        ("stage", Annotated[Literal["arrest_review", "prosecution_review"],
                            Meta(title="诉讼阶段", extra={"labels": STAGE_LABELS})]),
        ("suspect_detained", Annotated[bool, Meta(title="犯罪嫌疑人被羁押")], False),
        ("from_civil_dispute", Annotated[bool, Meta(title="因民间纠纷引起")], False),
        ("likely_sentence_years", Annotated[decimal.Decimal, Meta(
            title="可能判处的有期徒刑（年）",
            description="检察机关评估的可能刑罚上限；拘役、管制或单处罚金填 0，一年半填 1.5")]),
        ("offence_on", Annotated[dt.date, Meta(title="案发日期")] | None, None),
        ("prior_intentional_crime_on", Annotated[dt.date, Meta(
            title="犯罪嫌疑人前次故意犯罪日期", description="无前科则不填")] | None, None),
        ("compensation_claimed", Annotated[decimal.Decimal, Meta(title="被害人主张的赔偿金额（元）")] | None, None),
        ("decision_due_on", Annotated[dt.date, Meta(
            title="检察机关拟作出决定日期", description="审查期限届满日；赔偿至迟在此前履行")] | None, None),
    ]
    return msgspec.defstruct(
        "CriminalReconciliationFields",
        fields,
        bases=(_Common,),
        kw_only=True,
        forbid_unknown_fields=True,
        namespace={"check": _check_reconciliation,
                   "__doc__": "Channel-specific fields of a criminal reconciliation (刑事和解)."},
        module=__name__,
    )


class CivilSupervisionFields(_Common, forbid_unknown_fields=True, kw_only=True):
    """A civil-procuratorial supervision case where the procuratorate suggests settlement."""

    court_case_number: Annotated[str, Meta(title="生效裁判案号", max_length=100)] | None = None
    court: Annotated[str, Meta(title="作出裁判的法院", max_length=100)] | None = None
    compensation_claimed: Annotated[decimal.Decimal, Meta(title="争议金额（元）")] | None = None
    decision_due_on: Annotated[dt.date, Meta(title="审查期限届满日")] | None = None

    def check(self) -> list[tuple[str, str]]:
        return _money_problem("compensation_claimed", self.compensation_claimed)


class ComplaintFields(_Common, forbid_unknown_fields=True, kw_only=True):
    """A complaint, appeal or letters-and-visits matter the procuratorate finds fit for mediation."""

    complaint_type: Annotated[Literal["complaint", "appeal", "letters_visits"],
                              Meta(title="事项类别", extra={"labels": COMPLAINT_LABELS})] = "letters_visits"
    offence: Annotated[str, Meta(title="涉及罪名或案由", max_length=100)] | None = None
    compensation_claimed: Annotated[decimal.Decimal, Meta(title="诉求金额（元）")] | None = None

    def check(self) -> list[tuple[str, str]]:
        return _money_problem("compensation_claimed", self.compensation_claimed)


def intake_forms(rules: ReconciliationRules) -> tuple[IntakeForm, ...]:
    return (
        IntakeForm(
            channel=CHANNEL,
            kind="criminal_reconciliation",
            label="刑事和解",
            label_en="Criminal reconciliation",
            schema=reconciliation_schema(rules),
            deadline_rule="procuratorate_reconciliation",
            default_dispute_type="damages",
            description="检察机关移送的轻微刑事案件，当事人就赔偿损失、赔礼道歉及被害人对从宽处理的意见进行和解"
                        "（刑事诉讼法 第二百八十八条至第二百九十条）。被害人登记为申请人，犯罪嫌疑人登记为被申请人。",
        ),
        IntakeForm(
            channel=CHANNEL,
            kind="civil_supervision",
            label="民事检察和解",
            label_en="Civil supervision settlement",
            schema=CivilSupervisionFields,
            deadline_rule="general_mediation",
            default_dispute_type="contract",
            description="民事诉讼监督案件中检察机关建议当事人和解的纠纷（人民检察院民事诉讼监督规则）",
        ),
        IntakeForm(
            channel=CHANNEL,
            kind="complaint",
            label="控告申诉（检察信访）",
            label_en="Complaint or petition to the procuratorate",
            schema=ComplaintFields,
            deadline_rule="general_mediation",
            default_dispute_type="other",
            description="控告申诉、检察信访事项中适宜调解的矛盾纠纷",
        ),
    )
