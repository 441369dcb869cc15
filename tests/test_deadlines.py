"""Tests for core.deadlines.

Holiday facts used (published 2026 schedule): National Day 2026-10-01..07 off, Saturday 10-10 is
a make-up working day, Sunday 10-11 is a rest day. 2027 is not in chinese-calendar 1.11.0.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import WorkCalendar, YearSchedule
from core.deadlines import (
    CORE_RULES,
    GENERAL_JUDICIAL_CONFIRMATION,
    GENERAL_MEDIATION,
    Citation,
    DayUnit,
    DeadlineError,
    DeadlineRule,
    Extension,
    ExtensionMode,
    Pause,
    apply_overrides,
    compute_clock,
    rule_table,
)

CAL = WorkCalendar()
CITE = (Citation("测试规定", "第一条"),)


def make_rule(limit: int = 3, unit: DayUnit = DayUnit.WORKING, *,
              extension: ExtensionMode = ExtensionMode.CONSENT, cap: int | None = None,
              key: str = "test_rule") -> DeadlineRule:
    return DeadlineRule(key=key, label="测试期限", limit=limit, unit=unit, starts_on="accepted",
                        citations=CITE, tolling_events=("appraisal",), extension=extension,
                        extension_cap=cap)


POLICE_FIRST_SESSION = make_rule(3, DayUnit.WORKING, extension=ExtensionMode.NONE,
                                 key="police_first_session")


def ext(days: int, mode: ExtensionMode = ExtensionMode.CONSENT) -> Extension:
    return Extension(days=days, granted_on=date(2026, 1, 1), by="双方当事人", reason="同意延长",
                     mode=mode)


def due(rule: DeadlineRule, start: date, *, today: date | None = None, pauses=(),
        extensions=(), cal: WorkCalendar = CAL) -> date:
    return compute_clock(rule, cal, start, today or start, pauses, extensions).due


# -- calendar-day rules ----------------------------------------------------------------------

def test_general_mediation_plain_thirty_days() -> None:
    clock = compute_clock(GENERAL_MEDIATION, CAL, date(2026, 9, 20), date(2026, 10, 1))
    assert clock.due == date(2026, 10, 20)  # a Tuesday: no roll-over
    assert clock.days_left == 19
    assert clock.state == "running"
    assert not clock.paused and not clock.provisional
    assert clock.citation_text == "依据：《人民调解工作若干规定》第三十三条"


def test_calendar_due_in_national_day_moves_to_first_working_day_after() -> None:
    assert due(GENERAL_MEDIATION, date(2026, 9, 2)) == date(2026, 10, 8)  # nominal 10-02
    assert due(GENERAL_JUDICIAL_CONFIRMATION, date(2026, 9, 5)) == date(2026, 10, 8)


def test_calendar_due_on_make_up_saturday_stays_and_sunday_rolls() -> None:
    assert due(GENERAL_MEDIATION, date(2026, 9, 10)) == date(2026, 10, 10)
    assert due(GENERAL_MEDIATION, date(2026, 9, 11)) == date(2026, 10, 12)


def test_judicial_confirmation_citations() -> None:
    clock = compute_clock(GENERAL_JUDICIAL_CONFIRMATION, CAL, date(2026, 3, 2), date(2026, 3, 2))
    assert clock.citation_text == "依据：《人民调解法》第三十三条；《民事诉讼法》第二百零五条"
    assert str(Citation("人民调解法", "第三十三条")) == "《人民调解法》第三十三条"


# -- working-day rules -----------------------------------------------------------------------

def test_working_day_rule_across_national_day() -> None:
    clock = compute_clock(POLICE_FIRST_SESSION, CAL, date(2026, 9, 30), date(2026, 10, 1))
    assert clock.due == date(2026, 10, 10)  # 10-08, 10-09, make-up Saturday 10-10
    assert clock.days_left == 3
    assert clock.state == "due_soon"
    later = compute_clock(POLICE_FIRST_SESSION, CAL, date(2026, 9, 30), date(2026, 10, 9))
    assert later.days_left == 1


def test_states_overdue_due_soon_running() -> None:
    start = date(2026, 3, 2)  # due 2026-04-01 (Wednesday)
    assert compute_clock(GENERAL_MEDIATION, CAL, start, date(2026, 3, 10)).state == "running"
    assert compute_clock(GENERAL_MEDIATION, CAL, start, date(2026, 3, 29)).state == "due_soon"
    on_due = compute_clock(GENERAL_MEDIATION, CAL, start, date(2026, 4, 1))
    assert (on_due.state, on_due.days_left) == ("due_soon", 0)
    late = compute_clock(GENERAL_MEDIATION, CAL, start, date(2026, 4, 3))
    assert (late.state, late.days_left) == ("overdue", -2)


# -- tolling ---------------------------------------------------------------------------------

def test_tolling_pause_moves_calendar_due_by_its_length() -> None:
    rule = make_rule(30, DayUnit.CALENDAR)
    start = date(2026, 3, 2)
    assert due(rule, start) == date(2026, 4, 1)
    pause = Pause("appraisal", date(2026, 3, 10), date(2026, 3, 20))  # covers 10 days
    # nominal 04-11 is a Saturday: rolls to Monday 04-13
    assert due(rule, start, pauses=[pause]) == date(2026, 4, 13)
    assert due(make_rule(29, DayUnit.CALENDAR), start, pauses=[pause]) == date(2026, 4, 10)


def test_pause_of_other_event_is_ignored() -> None:
    rule = make_rule(30, DayUnit.CALENDAR)
    pause = Pause("vacation", date(2026, 3, 10), date(2026, 3, 20))
    clock = compute_clock(rule, CAL, date(2026, 3, 2), date(2026, 3, 15), [pause])
    assert clock.due == date(2026, 4, 1)
    assert not clock.paused and clock.pauses == ()


def test_overlapping_pauses_do_not_double_count() -> None:
    rule = make_rule(30, DayUnit.CALENDAR)
    start = date(2026, 3, 2)
    a = Pause("appraisal", date(2026, 3, 10), date(2026, 3, 20))
    b = Pause("appraisal", date(2026, 3, 15), date(2026, 3, 23))  # union: 03-10..03-22
    assert due(rule, start, pauses=[a, b]) == due(rule, start, pauses=[
        Pause("appraisal", date(2026, 3, 10), date(2026, 3, 23))])
    assert due(rule, start, pauses=[a, a]) == due(rule, start, pauses=[a])


def test_open_pause_is_paused_and_due_assumes_it_ends_today() -> None:
    rule = make_rule(30, DayUnit.CALENDAR)
    start = date(2026, 6, 1)  # due 07-01 without pauses
    pause = Pause("appraisal", date(2026, 6, 3))
    first = compute_clock(rule, CAL, start, date(2026, 6, 4), [pause])
    assert first.paused and first.state == "paused"
    assert first.due == date(2026, 7, 2)  # as if the pause ended today: 06-03 not counted
    assert first.due == due(rule, start, pauses=[Pause("appraisal", date(2026, 6, 3),
                                                       date(2026, 6, 4))])
    second = compute_clock(rule, CAL, start, date(2026, 6, 5), [pause])
    assert second.due == date(2026, 7, 3)
    assert second.days_left == first.days_left


def test_pause_after_deadline_ran_out_changes_nothing() -> None:
    rule = make_rule(30, DayUnit.CALENDAR)
    pause = Pause("appraisal", date(2026, 4, 5), None)
    clock = compute_clock(rule, CAL, date(2026, 3, 2), date(2026, 4, 10), [pause])
    assert clock.due == date(2026, 4, 1)
    assert clock.state == "overdue" and not clock.paused


def test_working_day_tolling_counts_working_days() -> None:
    rule = make_rule(3, DayUnit.WORKING)
    # pause covers 09-29, 09-30 and the holiday: 2 working days
    pause = Pause("appraisal", date(2026, 9, 29), date(2026, 10, 8))
    new_due = due(rule, date(2026, 9, 28), pauses=[pause])
    assert new_due == date(2026, 10, 10)  # 09-28 excluded; 10-08, 10-09, 10-10
    assert CAL.workdays_between(due(rule, date(2026, 9, 28)), new_due) == 2


def test_pause_end_before_start_refused() -> None:
    with pytest.raises(ValueError):
        Pause("appraisal", date(2026, 3, 10), date(2026, 3, 9))


# -- extensions ------------------------------------------------------------------------------

def test_consent_extension_unlimited() -> None:
    start = date(2026, 3, 2)
    assert due(GENERAL_MEDIATION, start, extensions=[ext(30), ext(60)]) == date(2026, 6, 30)


def test_extension_beyond_cap_refused() -> None:
    rule = make_rule(30, DayUnit.CALENDAR, extension=ExtensionMode.APPROVAL, cap=30)
    approved = [ext(20, ExtensionMode.APPROVAL), ext(10, ExtensionMode.APPROVAL)]
    assert due(rule, date(2026, 3, 2), extensions=approved) == due(
        make_rule(60, DayUnit.CALENDAR), date(2026, 3, 2))
    with pytest.raises(DeadlineError, match="超过上限") as info:
        due(rule, date(2026, 3, 2), extensions=[*approved, ext(1, ExtensionMode.APPROVAL)])
    assert "exceeds the cap" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_extension_not_allowed_or_wrong_mode() -> None:
    with pytest.raises(DeadlineError, match="cannot be extended"):
        due(GENERAL_JUDICIAL_CONFIRMATION, date(2026, 3, 2), extensions=[ext(5)])
    with pytest.raises(DeadlineError, match="approval"):
        due(make_rule(extension=ExtensionMode.APPROVAL), date(2026, 3, 2),
            extensions=[ext(5, ExtensionMode.CONSENT)])


def test_extension_validation() -> None:
    with pytest.raises(ValueError, match="approver"):
        Extension(5, date(2026, 1, 1), by="", reason="x", mode=ExtensionMode.APPROVAL)
    with pytest.raises(ValueError):
        ext(0)
    with pytest.raises(ValueError):
        ext(5, ExtensionMode.NONE)


# -- provisional -----------------------------------------------------------------------------

def test_due_in_unknown_year_is_provisional_until_schedule_supplied() -> None:
    start = date(2026, 12, 2)  # + 30 = 2027-01-01, a Friday
    clock = compute_clock(GENERAL_MEDIATION, CAL, start, start)
    assert (clock.due, clock.provisional) == (date(2027, 1, 1), True)
    cal = WorkCalendar(official={2027: YearSchedule(holidays=frozenset({date(2027, 1, 1)}))})
    clock = compute_clock(GENERAL_MEDIATION, cal, start, start)
    assert (clock.due, clock.provisional) == (date(2027, 1, 4), False)


def test_working_rule_into_2027_is_provisional() -> None:
    clock = compute_clock(make_rule(5), CAL, date(2026, 12, 28), date(2026, 12, 28))
    assert (clock.due, clock.provisional) == (date(2027, 1, 4), True)


# -- rule validation, overrides, table -------------------------------------------------------

@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": "Court-Rule"}, "slug"),
        ({"limit": 0}, "limit"),
        ({"citations": ()}, "Citation"),
        ({"unit": "weeks"}, "DayUnit"),
        ({"extension": "maybe"}, "ExtensionMode"),
        ({"extension_cap": -1}, "extension_cap"),
        ({"extension": ExtensionMode.NONE, "extension_cap": 5}, "extension_cap"),
    ],
)
def test_rule_validation(changes: dict, message: str) -> None:
    base = {"key": "court_rule", "label": "期限", "limit": 3, "unit": DayUnit.WORKING,
            "starts_on": "accepted", "citations": CITE, "extension": ExtensionMode.CONSENT}
    with pytest.raises(ValueError, match=message):
        DeadlineRule(**{**base, **changes})


def test_rule_accepts_enum_strings() -> None:
    unit: Any = "working"
    mode: Any = "approval"
    rule = DeadlineRule("court_rule", "期限", 3, unit, "accepted", CITE, extension=mode)
    assert rule.unit is DayUnit.WORKING and rule.extension is ExtensionMode.APPROVAL


def test_apply_overrides() -> None:
    pre_filing = DeadlineRule("court_pre_filing", "诉前调解期限", 30, DayUnit.CALENDAR, "accepted",
                              CITE, extension=ExtensionMode.CONSENT)
    rules = apply_overrides([*CORE_RULES, pre_filing],
                            {"court_pre_filing": {"limit": 30, "extension_cap": 30},
                             "general_mediation": {"limit": 15, "unit": "working"}})
    assert set(rules) == {"general_mediation", "general_judicial_confirmation", "court_pre_filing"}
    assert rules["court_pre_filing"].extension_cap == 30
    assert rules["general_mediation"].limit == 15
    assert rules["general_mediation"].unit is DayUnit.WORKING
    assert rules["general_judicial_confirmation"] is GENERAL_JUDICIAL_CONFIRMATION
    assert GENERAL_MEDIATION.limit == 30  # the constant is untouched


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"court_nothing": {"limit": 3}}, "court_nothing"),
        ({"general_judicial_confirmation": {"limit": 60}}, "cannot be overridden"),
        ({"general_mediation": {"label": "x"}}, "label"),
        ({"general_mediation": {"unit": "weeks"}}, "weeks"),
        ({"general_mediation": {"limit": -5}}, "limit"),
        ({"general_mediation": {"extension": "none", "extension_cap": 3}}, "extension_cap"),
    ],
)
def test_apply_overrides_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_overrides(CORE_RULES, overrides)


def test_core_rules_and_table() -> None:
    assert [r.key for r in CORE_RULES] == ["general_mediation", "general_judicial_confirmation"]
    assert not GENERAL_JUDICIAL_CONFIRMATION.overridable
    assert GENERAL_MEDIATION.extension is ExtensionMode.CONSENT
    assert GENERAL_MEDIATION.extension_cap is None
    table = json.loads(json.dumps(rule_table(CORE_RULES), ensure_ascii=False))
    assert table[1]["unit"] == "calendar"
    assert table[1]["extension"] == "none"
    assert [c["text"] for c in table[1]["citations"]] == [
        "《人民调解法》第三十三条", "《民事诉讼法》第二百零五条"]
    assert table[0]["citations"][0]["note"] == "一般在一个月内调结"


# -- properties ------------------------------------------------------------------------------

START = st.dates(date(2020, 1, 1), date(2026, 12, 31)) | st.dates(date(2026, 11, 1),
                                                                  date(2027, 6, 30))
UNITS = st.sampled_from(list(DayUnit))
PROPS = settings(max_examples=200, deadline=None)


@st.composite
def pauses(draw: st.DrawFn, start: date) -> list[Pause]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        s = start + timedelta(days=draw(st.integers(-5, 60)))
        out.append(Pause(draw(st.sampled_from(["appraisal", "other"])), s,
                         s + timedelta(days=draw(st.integers(0, 20)))))
    return out


@PROPS
@given(start=START, limit=st.integers(1, 40), unit=UNITS, data=st.data())
def test_due_never_before_start_and_always_a_working_day(
        start: date, limit: int, unit: DayUnit, data: st.DataObject) -> None:
    rule = make_rule(limit, unit)
    d = due(rule, start, pauses=data.draw(pauses(start)))
    assert d > start
    assert CAL.is_workday(d)
    if unit is DayUnit.CALENDAR:
        assert d >= start + timedelta(days=limit)


@PROPS
@given(start=START, limit=st.integers(1, 40), offset=st.integers(1, 40),
       length=st.integers(0, 30))
def test_calendar_tolling_equals_adding_its_days_before_roll_over(
        start: date, limit: int, offset: int, length: int) -> None:
    # A pause starting on or before the nominal due date (start + limit) that covers N days
    # gives the same due date as the rule with limit + N: the nominal date moved by exactly N.
    offset = min(offset, limit)
    s = start + timedelta(days=offset)
    pause = Pause("appraisal", s, s + timedelta(days=length))
    rule = make_rule(limit, DayUnit.CALENDAR)
    assert due(rule, start, pauses=[pause]) == due(make_rule(limit + length, DayUnit.CALENDAR),
                                                   start)


@PROPS
@given(start=START, limit=st.integers(1, 30), offset=st.integers(1, 60),
       length=st.integers(0, 30))
def test_working_tolling_moves_due_by_paused_working_days(
        start: date, limit: int, offset: int, length: int) -> None:
    rule = make_rule(limit, DayUnit.WORKING)
    old_due = due(rule, start)
    s = min(start + timedelta(days=offset), old_due)  # the pause begins before time ran out
    e = s + timedelta(days=length)
    paused_workdays = CAL.workdays_between(s - timedelta(days=1), e - timedelta(days=1))
    new_due = due(rule, start, pauses=[Pause("appraisal", s, e)])
    assert CAL.workdays_between(old_due, new_due) == paused_workdays


@PROPS
@given(start=START, limit=st.integers(1, 40), unit=UNITS, a=st.integers(1, 40),
       b=st.integers(1, 40))
def test_extensions_compose_additively(start: date, limit: int, unit: DayUnit, a: int,
                                       b: int) -> None:
    rule = make_rule(limit, unit)
    composed = due(rule, start, extensions=[ext(a), ext(b)])
    assert composed == due(rule, start, extensions=[ext(a + b)])
    assert due(rule, start, extensions=[ext(a)]) >= due(rule, start)
