"""Schemas of what a mediator records on a case: sessions (调解) and agreements (调解协议)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["SessionIn", "AgreementIn", "PauseIn", "ResumeIn", "ExtendIn"]


class SessionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    held_at: Annotated[dt.datetime, Meta(title="调解时间")]
    place: Annotated[str, Meta(title="调解地点", min_length=1, max_length=200)]
    online: Annotated[bool, Meta(title="线上（视频）调解")] = False
    attendees: Annotated[str, Meta(title="参加人员", min_length=1, max_length=1000, extra={"widget": "textarea"})]
    record: Annotated[str, Meta(title="调解笔录", min_length=1, max_length=20000, extra={"widget": "textarea"})]
    outcome: Annotated[
        Literal["continue", "agreement", "failed"],
        Meta(title="本次结果", extra={"labels": {"continue": "继续调解", "agreement": "达成协议", "failed": "未达成协议"}}),
    ] = "continue"


class AgreementIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    form: Annotated[
        Literal["written", "oral"],
        Meta(title="协议形式", extra={"labels": {"written": "书面协议（调解协议书）", "oral": "口头协议"}}),
    ] = "written"
    facts: Annotated[
        str, Meta(title="纠纷事实、争议事项及各方责任", max_length=5000, extra={"widget": "textarea"})
    ] | None = None
    terms: Annotated[str, Meta(title="协议内容", min_length=2, max_length=5000, extra={"widget": "textarea"})]
    amount: Annotated[decimal.Decimal, Meta(title="协议金额（元）")] | None = None
    performance_method: Annotated[str, Meta(title="履行方式", max_length=200)] | None = None
    performance_deadline: Annotated[dt.date, Meta(title="履行期限")] | None = None
    signed_by_parties: Annotated[bool, Meta(title="当事人已签名（盖章或按指印）")] = False
    signed_by_mediator: Annotated[bool, Meta(title="调解员已签名")] = False
    sealed: Annotated[bool, Meta(title="已加盖调解委员会印章")] = False
    signed_on: Annotated[dt.date, Meta(title="签订日期")] | None = None

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if self.amount is not None and (not self.amount.is_finite() or self.amount < 0):
            problems.append(("amount", "金额不能为负数"))
        if self.form == "written" and not self.facts:
            problems.append(("facts", "书面协议须载明纠纷事实、争议事项及各方责任（人民调解法 第二十九条）"))
        if self.form == "written" and not self.performance_method:
            problems.append(("performance_method", "书面协议须载明履行方式（人民调解法 第二十九条）"))
        if self.signed_by_parties and self.signed_on is None:
            problems.append(("signed_on", "已签名的协议须填写签订日期"))
        return problems


class PauseIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Stop the clock while e.g. an appraisal (鉴定) runs; its choices come from the rule."""

    event: Annotated[str, Meta(title="暂停事由", min_length=1, max_length=64)]
    start_on: Annotated[dt.date, Meta(title="暂停起始日期")]
    reason: Annotated[str, Meta(title="说明", min_length=2, max_length=500, extra={"widget": "textarea"})]


class ResumeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    end_on: Annotated[dt.date, Meta(title="恢复计算日期")]


class ExtendIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    days: Annotated[int, Meta(title="延长天数", ge=1, le=365)]
    by: Annotated[str, Meta(title="同意或批准人", min_length=1, max_length=100)]
    reason: Annotated[str, Meta(title="延长理由", min_length=2, max_length=500, extra={"widget": "textarea"})]
