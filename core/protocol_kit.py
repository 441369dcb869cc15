"""Building blocks for channel protocols: standard transition forms and guards.

Channels compose these into their :class:`core.channels.HandoffProtocol`; the case engine
(``core.cases``) knows nothing about any particular channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "CaseContext",
    "DeclineForm",
    "NotSettledForm",
    "WithdrawForm",
    "ROUTE_LABELS",
    "require_signed_agreement",
    "require_session",
]

ROUTE_LABELS = {
    "litigation": "诉讼",
    "arbitration": "仲裁",
    "administrative_review": "行政复议",
    "other": "其他途径",
}


@dataclass(frozen=True)
class CaseContext:
    """What a guard may look at: the case row and what is recorded on it."""

    case: dict[str, Any]
    agreement: dict[str, Any] | None
    sessions: int
    parties: list[dict[str, Any]] = field(default_factory=list)


class DeclineForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(title="不予受理理由", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    advice: Annotated[
        str, Meta(title="告知当事人的其他解决途径", max_length=1000, extra={"widget": "textarea"})
    ] | None = None


class NotSettledForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(title="调解不成的原因", min_length=2, max_length=1000, extra={"widget": "textarea"})]
    route: Annotated[
        Literal["litigation", "arbitration", "administrative_review", "other"],
        Meta(title="建议的解决途径（导入法治轨道）", extra={"labels": ROUTE_LABELS}),
    ]


class WithdrawForm(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(title="撤回原因", min_length=2, max_length=1000, extra={"widget": "textarea"})]


def require_signed_agreement(ctx: CaseContext) -> str | None:
    """Settlement needs an agreement: written ones signed by the parties and the mediator and sealed
    (人民调解法 第二十九条); oral ones recorded (第三十条)."""
    a = ctx.agreement
    if a is None:
        return "请先记录调解协议"
    if a["form"] == "written" and not (a["signed_by_parties"] and a["signed_by_mediator"] and a["sealed"]):
        return "书面调解协议须经各方当事人签名、调解员签名并加盖调解委员会印章后生效"
    return None


def require_session(ctx: CaseContext) -> str | None:
    """At least one mediation session must be recorded."""
    return None if ctx.sessions > 0 else "请先记录至少一次调解"
