"""Working-day calendar for mainland China, with deployment additions.

Whether a date is a working day is decided in this order (the first rule that knows wins):

1. the deployment's ``extra_holidays`` (local holidays: not working) and ``extra_workdays``
   (local make-up days: working);
2. an official schedule the deployment supplied for that date's year (:class:`YearSchedule`):
   listed holidays are not working, listed make-up days are working, any other date is working
   on Monday–Friday;
3. the ``chinese_calendar`` library, for the years it knows (2004–2026 in version 1.11.0);
4. otherwise Monday–Friday, and the date is *provisional*: the State Council has not yet
   published (or the deployment has not yet entered) that year's schedule, so anything computed
   from the date may change once it is added.

The library is never called twice for the same date (a module-level cache).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

import chinese_calendar

__all__ = ["WorkCalendar", "YearSchedule"]

_ONE_DAY = timedelta(days=1)
_SETTINGS_KEYS = frozenset({"extra_holidays", "extra_workdays", "official"})


@functools.lru_cache(maxsize=16384)
def _library_is_workday(d: date) -> bool | None:
    """The library's answer for ``d``, or ``None`` when it has no data for that year."""
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


def _is_weekday(d: date) -> bool:
    return d.weekday() < 5


@dataclass(frozen=True)
class YearSchedule:
    """One year's official holiday schedule (放假安排), as published by the State Council.

    Attributes:
        holidays: Days off that would otherwise be working days (weekday holidays); listing
            weekend days of a holiday is allowed and harmless.
        workdays: Make-up working days (调休上班), usually weekends.

    Raises:
        ValueError: a date is listed both as a holiday and as a working day.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"dates listed as both holiday and workday: {_iso_list(both)}")

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day under this schedule (Mon–Fri unless listed)."""
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return _is_weekday(d)


@dataclass(frozen=True)
class WorkCalendar:
    """Working-day calendar: the official schedule plus a deployment's local additions.

    Attributes:
        extra_holidays: Local non-working days; they override everything else.
        extra_workdays: Local working days; they override everything but ``extra_holidays``
            (a date may not be in both).
        official: Official schedules by year, supplied by the deployment for years the
            ``chinese_calendar`` library does not know yet (it also overrides the library for
            years it does know).

    Raises:
        ValueError: a date is both an extra holiday and an extra workday, or an official
            schedule contains a date outside its year.
    """

    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    official: Mapping[int, YearSchedule] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        object.__setattr__(self, "official", MappingProxyType(dict(self.official)))
        both = self.extra_holidays & self.extra_workdays
        if both:
            raise ValueError(
                f"dates listed as both extra holiday and extra workday: {_iso_list(both)}"
            )
        # Per-year running counts of working days, filled on first use (the calendar is immutable).
        # Counting the working days between two dates then costs two lookups instead of a walk over
        # every day between them (pages count days overdue on cases years old).
        object.__setattr__(self, "_running", {})
        for year, schedule in self.official.items():
            stray = {d for d in schedule.holidays | schedule.workdays if d.year != year}
            if stray:
                raise ValueError(f"official schedule for {year} lists dates of another year: "
                                 f"{_iso_list(stray)}")

    # -- single dates ------------------------------------------------------------------------

    def _resolve(self, d: date) -> tuple[bool, bool]:
        """``(is_workday, is_provisional)`` for ``d``."""
        if d in self.extra_holidays:
            return False, False
        if d in self.extra_workdays:
            return True, False
        schedule = self.official.get(d.year)
        if schedule is not None:
            return schedule.is_workday(d), False
        known = _library_is_workday(d)
        if known is not None:
            return known, False
        return _is_weekday(d), True

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day (see the module docstring for precedence)."""
        return self._resolve(d)[0]

    def is_provisional(self, d: date) -> bool:
        """True when the answer for ``d`` came from the Monday–Friday fallback."""
        return self._resolve(d)[1]

    def any_provisional(self, a: date, b: date) -> bool:
        """Whether any date from ``a`` to ``b`` inclusive (in either order) is provisional."""
        lo, hi = min(a, b), max(a, b)
        return self._count(lo - _ONE_DAY, hi, provisional=True) > 0

    # -- counting ----------------------------------------------------------------------------

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d += _ONE_DAY
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day strictly after ``start``.

        ``n == 0`` returns ``start`` itself when it is a working day, otherwise the next
        working day (the first day on which work can happen "from" ``start``).

        Raises:
            ValueError: ``n`` is negative.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start if self.is_workday(start) else self.next_workday(start)
        d = start
        for _ in range(n):
            d = self.next_workday(d)
        return d

    def workdays_between(self, a: date, b: date) -> int:
        """The number of working days in ``(a, b]``.

        When ``b < a`` the result is negative: minus the working days in ``(b, a]``. So
        ``workdays_between(a, b) == -workdays_between(b, a)``, and 0 when ``a == b``.
        """
        if b < a:
            return -self.workdays_between(b, a)
        return self._count(a, b)

    def _count(self, a: date, b: date, *, provisional: bool = False) -> int:
        """Working days (``provisional``: provisional days) in ``(a, b]``, ``a <= b``."""
        k = 1 if provisional else 0
        first = self._running_of(a.year)[k]
        if a.year == b.year:
            return first[b.timetuple().tm_yday] - first[a.timetuple().tm_yday]
        count = first[-1] - first[a.timetuple().tm_yday]
        for year in range(a.year + 1, b.year):
            count += self._running_of(year)[k][-1]
        return count + self._running_of(b.year)[k][b.timetuple().tm_yday]

    def _running_of(self, year: int) -> tuple[list[int], list[int]]:
        """Running counts over ``year``: ``r[i]`` = working days (and provisional days) among its first
        ``i`` days (``r[0] = 0``)."""
        running = self._running.get(year)  # type: ignore[attr-defined]
        if running is None:
            work, prov, n, p, d = [0], [0], 0, 0, date(year, 1, 1)
            while d.year == year:
                is_work, is_prov = self._resolve(d)
                n += is_work
                p += is_prov
                work.append(n)
                prov.append(p)
                d += _ONE_DAY
            running = self._running[year] = (work, prov)  # type: ignore[attr-defined]
        return running

    # -- construction from settings ----------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> WorkCalendar:
        """Build a calendar from a plain mapping, e.g. the ``[calendar]`` section of the TOML.

        Example::

            {"extra_holidays": ["2026-05-06"], "extra_workdays": [],
             "official": {"2027": {"holidays": ["2027-01-01"], "workdays": []}}}

        Dates may be ISO strings (``"2026-05-06"``) or ``date`` objects (TOML dates); year
        keys may be strings or ints. Every key is optional.

        Raises:
            ValueError: an unknown key, a malformed date or year, or any error of the
                constructors; the message says where.
        """
        settings = settings or {}
        if not isinstance(settings, Mapping):
            raise ValueError("calendar settings must be a table/mapping")
        unknown = set(settings) - _SETTINGS_KEYS
        if unknown:
            raise ValueError(f"calendar: unknown setting(s) {sorted(unknown)}; "
                             f"allowed: {sorted(_SETTINGS_KEYS)}")
        official_raw = settings.get("official", {})
        if not isinstance(official_raw, Mapping):
            raise ValueError("calendar.official must map years to {holidays, workdays} tables")
        official: dict[int, YearSchedule] = {}
        for key, table in official_raw.items():
            where = f"calendar.official.{key}"
            if not (type(key) is int or (isinstance(key, str) and key.isascii()
                                         and key.isdigit() and len(key) == 4)):
                raise ValueError(f"{where}: {key!r} is not a year")
            year = int(key)
            if not isinstance(table, Mapping) or set(table) - {"holidays", "workdays"}:
                raise ValueError(f"{where} must be a table with only 'holidays' and 'workdays'")
            official[year] = YearSchedule(
                holidays=_parse_dates(table.get("holidays", []), f"{where}.holidays"),
                workdays=_parse_dates(table.get("workdays", []), f"{where}.workdays"),
            )
        return cls(
            extra_holidays=_parse_dates(settings.get("extra_holidays", []),
                                        "calendar.extra_holidays"),
            extra_workdays=_parse_dates(settings.get("extra_workdays", []),
                                        "calendar.extra_workdays"),
            official=official,
        )


def _parse_dates(values: Iterable[Any], where: str) -> frozenset[date]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"{where} must be a list of dates, got {values!r}")
    out: set[date] = set()
    for value in values:
        if type(value) is date:  # not datetime: a deadline date has no time of day
            out.add(value)
            continue
        if isinstance(value, str):
            try:
                # fromisoformat also takes "20260506"; require the documented YYYY-MM-DD form.
                if len(value) == 10:
                    out.add(date.fromisoformat(value))
                    continue
            except ValueError:
                pass
        raise ValueError(f"{where}: {value!r} is not a date (expected YYYY-MM-DD)")
    return frozenset(out)


def _iso_list(dates: Iterable[date]) -> str:
    return ", ".join(sorted(d.isoformat() for d in dates))
