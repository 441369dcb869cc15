"""The core case lifecycle (登记 → 受理 → 调解中 → 调解成功/不成 → 结案 → 归档).

Channel protocols map each of their states onto one of these steps; the protocol validator refuses a
transition whose mapped step is not an edge here, so every channel keeps the same lifecycle.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CoreStatus", "ALLOWED", "EVENT_LABELS", "OPEN_STATUSES", "STATUS_LABELS"]


class CoreStatus(StrEnum):
    REGISTERED = "registered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_MEDIATION = "in_mediation"
    SETTLED = "settled"
    NOT_SETTLED = "not_settled"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    ARCHIVED = "archived"

    def can_move_to(self, other: CoreStatus) -> bool:
        return other in ALLOWED[self]

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


ALLOWED: dict[CoreStatus, frozenset[CoreStatus]] = {
    CoreStatus.REGISTERED: frozenset({CoreStatus.ACCEPTED, CoreStatus.DECLINED, CoreStatus.WITHDRAWN}),
    CoreStatus.ACCEPTED: frozenset({CoreStatus.IN_MEDIATION, CoreStatus.WITHDRAWN, CoreStatus.NOT_SETTLED}),
    CoreStatus.IN_MEDIATION: frozenset(
        {CoreStatus.SETTLED, CoreStatus.NOT_SETTLED, CoreStatus.WITHDRAWN}
    ),
    CoreStatus.SETTLED: frozenset({CoreStatus.CLOSED}),
    CoreStatus.NOT_SETTLED: frozenset({CoreStatus.CLOSED}),
    CoreStatus.WITHDRAWN: frozenset({CoreStatus.CLOSED}),
    CoreStatus.DECLINED: frozenset({CoreStatus.CLOSED}),
    CoreStatus.CLOSED: frozenset({CoreStatus.ARCHIVED}),
    CoreStatus.ARCHIVED: frozenset(),
}

STATUS_LABELS: dict[CoreStatus, str] = {
    CoreStatus.REGISTERED: "已登记",
    CoreStatus.ACCEPTED: "已受理",
    CoreStatus.DECLINED: "不予受理",
    CoreStatus.IN_MEDIATION: "调解中",
    CoreStatus.SETTLED: "调解成功",
    CoreStatus.NOT_SETTLED: "调解不成",
    CoreStatus.WITHDRAWN: "已撤回",
    CoreStatus.CLOSED: "已结案",
    CoreStatus.ARCHIVED: "已归档",
}

EVENT_LABELS: dict[str, str] = {
    "case.registered": "登记",
    "case.session_recorded": "记录调解",
    "case.agreement_saved": "保存调解协议",
}
"""Labels of events that are not protocol transitions (transitions use their own label)."""

OPEN_STATUSES: frozenset[CoreStatus] = frozenset(
    {CoreStatus.REGISTERED, CoreStatus.ACCEPTED, CoreStatus.IN_MEDIATION}
)
