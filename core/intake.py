"""Schemas shared by every channel's intake: the common case fields and the parties.

The HTML intake form and the partner API (``POST /api/v1/referrals``) both validate with these, plus
the channel kind's own ``fields`` schema (``IntakeForm.schema``).
"""

from __future__ import annotations

import decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from core.idnumbers import id_number_problem, normalise_id_number, phone_problem

__all__ = ["CaseIntake", "PartyIn", "PARTY_ROLES"]

PARTY_ROLES = {
    "applicant": "申请人",
    "respondent": "被申请人",
    "third_party": "第三人",
    "representative": "代理人",
}


class PartyIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A party as entered at intake or sent by a partner."""

    role: Annotated[
        Literal["applicant", "respondent", "third_party", "representative"],
        Meta(title="角色", extra={"labels": PARTY_ROLES}),
    ] = "applicant"
    kind: Annotated[
        Literal["person", "organization"],
        Meta(title="类型", extra={"labels": {"person": "自然人", "organization": "单位"}}),
    ] = "person"
    name: Annotated[str, Meta(title="姓名/名称", min_length=1, max_length=100)]
    id_number: Annotated[str, Meta(title="身份证号", max_length=18)] | None = None
    phone: Annotated[str, Meta(title="联系电话", max_length=20)] | None = None
    address: Annotated[str, Meta(title="住址", max_length=200)] | None = None
    credit_code: Annotated[str, Meta(title="统一社会信用代码", max_length=18)] | None = None

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.id_number:
            if self.kind != "person":
                problems.append(("id_number", "单位当事人不填身份证号"))
            elif msg := id_number_problem(self.id_number):
                problems.append(("id_number", msg))
        if self.phone and (msg := phone_problem(self.phone)):
            problems.append(("phone", msg))
        if self.credit_code and (len(self.credit_code) != 18 or not self.credit_code.isalnum()):
            problems.append(("credit_code", "统一社会信用代码应为18位字母或数字"))
        return problems

    def normalised_id(self) -> str:
        return normalise_id_number(self.id_number or "")


class CaseIntake(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The fields every case has, whatever its channel."""

    summary: Annotated[
        str, Meta(title="纠纷简要情况", min_length=1, max_length=2000, extra={"widget": "textarea"})
    ]
    dispute_type: Annotated[str, Meta(title="纠纷类型", min_length=1, max_length=64, extra={"codes": "dispute_type"})]
    source: Annotated[str, Meta(title="案件来源", max_length=64, extra={"codes": "case_source"})] | None = None
    claims: Annotated[str, Meta(title="申请事项", max_length=2000, extra={"widget": "textarea"})] | None = None
    amount: Annotated[decimal.Decimal, Meta(title="涉及金额（元）")] | None = None
    people_count: Annotated[int, Meta(title="涉及人数", ge=1, le=100000)] = 2

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.amount is not None:
            if not self.amount.is_finite() or self.amount < 0:
                problems.append(("amount", "金额不能为负数"))
            elif self.amount.as_tuple().exponent < -2:  # type: ignore[operator]
                problems.append(("amount", "金额最多保留两位小数"))
            elif self.amount >= decimal.Decimal("1e12"):
                problems.append(("amount", "金额过大"))
        return problems
