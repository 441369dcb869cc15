"""Tests for core.calendar.

Expected dates are the published 2026 schedule (国务院办公厅 2026 年部分节假日安排), checked
against chinese-calendar 1.11.0: National Day 10-01..10-07 off, make-up Sunday 09-20 and Saturday
10-10; Spring Festival make-up Saturday 02-14; Labour Day 05-01..05-05 off.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import WorkCalendar, YearSchedule

CAL = WorkCalendar()


def test_national_day_week_2026() -> None:
    for day in range(1, 8):
        assert not CAL.is_workday(date(2026, 10, day)), f"2026-10-0{day} is a holiday"
    assert CAL.is_workday(date(2026, 9, 30))
    assert CAL.is_workday(date(2026, 10, 8))
    assert CAL.is_workday(date(2026, 10, 10))  # make-up Saturday
    assert not CAL.is_workday(date(2026, 10, 11))  # ordinary Sunday
    assert CAL.is_workday(date(2026, 9, 20))  # make-up Sunday


def test_spring_festival_make_up_saturday() -> None:
    assert date(2026, 2, 14).weekday() == 5
    assert CAL.is_workday(date(2026, 2, 14))
    assert not CAL.is_workday(date(2026, 2, 15))


def test_ordinary_weekend_and_weekday() -> None:
    assert not CAL.is_workday(date(2026, 3, 7))
    assert CAL.is_workday(date(2026, 3, 9))
    assert not CAL.is_provisional(date(2026, 3, 7))


def test_add_workdays_across_national_day() -> None:
    # Thu 10-08, Fri 10-09, make-up Sat 10-10
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.add_workdays(date(2026, 9, 30), 4) == date(2026, 10, 12)


def test_add_workdays_zero() -> None:
    assert CAL.add_workdays(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert CAL.add_workdays(date(2026, 10, 1), 0) == date(2026, 10, 8)


def test_add_workdays_negative_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2026, 9, 30), -1)


def test_next_workday_and_workdays_between() -> None:
    assert CAL.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.next_workday(date(2026, 10, 9)) == date(2026, 10, 10)
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert CAL.workdays_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
    # (a, b]: the start day is excluded, the end day included
    assert CAL.workdays_between(date(2026, 9, 29), date(2026, 9, 30)) == 1


def test_year_boundary_is_provisional_not_a_crash() -> None:
    # 12-29, 12-30, 12-31, then 2027-01-01 (a Friday: Mon-Fri fallback), 2027-01-04
    due = CAL.add_workdays(date(2026, 12, 28), 5)
    assert due == date(2027, 1, 4)
    assert CAL.is_provisional(due)
    assert CAL.is_provisional(date(2027, 1, 1))
    assert not CAL.is_provisional(date(2026, 12, 31))
    assert CAL.any_provisional(date(2026, 12, 28), due)
    assert not CAL.any_provisional(date(2026, 12, 1), date(2026, 12, 31))


def test_supplied_2027_schedule_changes_result_and_clears_provisional() -> None:
    cal = WorkCalendar(official={2027: YearSchedule(holidays=frozenset({date(2027, 1, 1)}))})
    due = cal.add_workdays(date(2026, 12, 28), 5)
    assert due == date(2027, 1, 5)
    assert not cal.is_provisional(due)
    assert not cal.any_provisional(date(2026, 12, 28), due)


def test_supplied_schedule_make_up_day() -> None:
    saturday = date(2027, 2, 20)
    assert saturday.weekday() == 5
    cal = WorkCalendar(official={2027: YearSchedule(workdays=frozenset({saturday}))})
    assert cal.is_workday(saturday)
    assert not CAL.is_workday(saturday)


def test_local_extra_holiday_and_workday() -> None:
    cal = WorkCalendar(extra_holidays=frozenset({date(2026, 5, 6)}),
                       extra_workdays=frozenset({date(2026, 3, 8)}))
    assert CAL.is_workday(date(2026, 5, 6)) and not cal.is_workday(date(2026, 5, 6))
    assert not CAL.is_workday(date(2026, 3, 8)) and cal.is_workday(date(2026, 3, 8))
    # 04-30 then the Labour Day holiday 05-01..05-05, then local holiday 05-06
    assert cal.add_workdays(date(2026, 4, 29), 2) == date(2026, 5, 7)
    assert CAL.add_workdays(date(2026, 4, 29), 2) == date(2026, 5, 6)


def test_extra_days_beat_supplied_schedule_and_are_not_provisional() -> None:
    d = date(2027, 3, 1)  # a Monday
    cal = WorkCalendar(extra_holidays=frozenset({d}),
                       official={2027: YearSchedule(workdays=frozenset({d}))})
    assert not cal.is_workday(d)
    assert not WorkCalendar(extra_holidays=frozenset({d})).is_provisional(d)


def test_conflicting_days_refused() -> None:
    d = date(2026, 5, 6)
    with pytest.raises(ValueError, match="2026-05-06"):
        WorkCalendar(extra_holidays=frozenset({d}), extra_workdays=frozenset({d}))
    with pytest.raises(ValueError, match="2026-05-06"):
        YearSchedule(holidays=frozenset({d}), workdays=frozenset({d}))
    with pytest.raises(ValueError, match="2026"):
        WorkCalendar(official={2027: YearSchedule(holidays=frozenset({d}))})


def test_from_settings() -> None:
    cal = WorkCalendar.from_settings({
        "extra_holidays": ["2026-05-06"],
        "extra_workdays": [date(2026, 3, 8)],  # TOML parses dates natively
        "official": {"2027": {"holidays": ["2027-01-01"], "workdays": []}},
    })
    assert not cal.is_workday(date(2026, 5, 6))
    assert cal.is_workday(date(2026, 3, 8))
    assert not cal.is_workday(date(2027, 1, 1))
    assert not cal.is_provisional(date(2027, 1, 4))
    assert WorkCalendar.from_settings({}) == WorkCalendar()
    assert WorkCalendar.from_settings(None) == WorkCalendar()


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"extra_holidays": ["2026-13-01"]}, "2026-13-01"),
        ({"extra_holidays": ["2026/05/06"]}, "2026/05/06"),
        ({"extra_workdays": ["20260506"]}, "20260506"),
        ({"extra_workdays": "2026-05-06"}, "list"),
        ({"official": {"2027": {"holidays": ["2027-02-30"]}}}, r"official\.2027\.holidays"),
        ({"official": {"next": {"holidays": []}}}, "not a year"),
        ({"official": {"2027": {"holiday": []}}}, "holidays"),
        ({"extra_holiday": []}, "extra_holiday"),
    ],
)
def test_from_settings_rejects_bad_data(settings_: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkCalendar.from_settings(settings_)


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(2020, 1, 1), date(2027, 12, 31)), n=st.integers(1, 40))
def test_add_workdays_lands_on_workday_n_steps_away(start: date, n: int) -> None:
    due = CAL.add_workdays(start, n)
    assert due > start
    assert CAL.is_workday(due)
    assert CAL.workdays_between(start, due) == n
    assert CAL.workdays_between(start, due - timedelta(days=1)) == n - 1


@settings(max_examples=200, deadline=None)
@given(a=st.dates(date(2019, 6, 1), date(2031, 6, 30)), b=st.dates(date(2019, 6, 1), date(2031, 6, 30)))
def test_workdays_between_counts_every_day_across_years(a: date, b: date) -> None:
    """The running-count shortcut agrees with walking the days one by one, local days included, in
    either direction and across year boundaries (years the library knows and the fallback years)."""
    cal = WorkCalendar(extra_holidays={date(2026, 5, 6), date(2021, 1, 4)}, extra_workdays={date(2027, 3, 6)})
    lo, hi = min(a, b), max(a, b)
    walked = sum(cal.is_workday(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    assert cal.workdays_between(a, b) == (walked if a <= b else -walked)


@settings(max_examples=200, deadline=None)
@given(a=st.dates(date(2000, 1, 1), date(2040, 12, 31)), span=st.integers(0, 800))
def test_any_provisional_matches_a_walk(a: date, span: int) -> None:
    """Whether a range holds a provisional day (a year neither the library nor the deployment knows)
    agrees with asking day by day; local extra days are never provisional."""
    cal = WorkCalendar(extra_holidays={date(2038, 1, 1)}, extra_workdays={date(2039, 2, 5)},
                       official={2035: YearSchedule(holidays={date(2035, 1, 1)})})
    b = min(a + timedelta(days=span), date(2040, 12, 31))
    walked = any(cal.is_provisional(a + timedelta(days=i)) for i in range((b - a).days + 1))
    assert cal.any_provisional(a, b) is walked
    assert cal.any_provisional(b, a) is walked
