"""The few SQL fragments that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from core import clock

__all__ = ["Dialect", "current"]


def _utc_offset_hours() -> int:
    # China has kept UTC+8 without daylight saving since 1991.
    import datetime as dt

    offset = dt.datetime(2020, 1, 1, tzinfo=clock.TZ).utcoffset()
    return int(offset.total_seconds() // 3600) if offset else 0


@dataclass(frozen=True)
class Dialect:
    sqlite: bool

    def period(self, ts: str) -> str:
        """``YYYYMM`` (an integer) of a timestamp column, in China time."""
        if self.sqlite:
            return f"CAST(strftime('%Y%m', {ts}, '{_utc_offset_hours():+d} hours') AS INTEGER)"
        return f"CAST(to_char({ts} AT TIME ZONE '{clock.TZ.key}', 'YYYYMM') AS INTEGER)"

    def contains(self, haystack: str, needle: str) -> str:
        return f"instr({haystack}, {needle}) > 0" if self.sqlite else f"strpos({haystack}, {needle}) > 0"

    def fen(self, amount: str) -> str:
        """An amount in yuan (NUMERIC) as integer fen."""
        return f"CAST(ROUND({amount} * 100) AS BIGINT)"


def current() -> Dialect:
    from core.db import is_sqlite

    return Dialect(sqlite=is_sqlite())
