"""Wall-clock time in the deployment's zone (China Standard Time). Tests may freeze it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["TZ", "now", "today", "freeze"]

TZ = ZoneInfo("Asia/Shanghai")
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else dt.datetime.now(TZ)


def today() -> dt.date:
    return now().astimezone(TZ).date()


def freeze(at: dt.datetime | None) -> None:
    """Freeze (or with ``None`` unfreeze) the clock — for tests and the demo loader."""
    global _frozen
    _frozen = at
