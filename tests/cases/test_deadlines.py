import datetime as dt

import pytest

from pishkhan.cases.deadlines import case_due_at, step_due_at, suspended_working_days
from pishkhan.cases.models import Case
from pishkhan.catalog.definition import definition_from_dict
from pishkhan.core.calendar import TEHRAN, WorkingCalendar
from tests.cases.factories import T0, small_process

DEFINITION = definition_from_dict(small_process())
# Friday weekend, no holidays, a closure on Tuesday 6 May 2025.
CALENDAR = WorkingCalendar(
    weekend=["fri"], closures={dt.date(2025, 5, 6): "dust storm"}, holiday_provider=lambda year: {}
)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=TEHRAN).astimezone(dt.UTC)


def test_a_step_is_due_its_working_days_after_the_day_it_arrived_skipping_closures():
    review = DEFINITION.step("review")  # 2 working days
    # Saturday 3 May: Sunday 4, Monday 5 count; Tuesday 6 is closed.
    assert step_due_at(step=review, assigned_at=T0, calendar=CALENDAR) == end_of(dt.date(2025, 5, 5))
    inspect = DEFINITION.step("inspect")  # 3 working days: Sun, Mon, (Tue closed) Wed
    assert step_due_at(step=inspect, assigned_at=T0, calendar=CALENDAR) == end_of(dt.date(2025, 5, 7))


def test_an_automatic_step_is_due_the_same_day_and_gateways_have_no_deadline():
    assert step_due_at(step=DEFINITION.step("issue"), assigned_at=T0, calendar=CALENDAR) == end_of(
        dt.date(2025, 5, 3)
    )
    assert step_due_at(step=DEFINITION.step("checks"), assigned_at=T0, calendar=CALENDAR) is None
    assert step_due_at(step=DEFINITION.step("issued"), assigned_at=T0, calendar=CALENDAR) is None


def test_the_moment_is_read_in_tehran_time():
    # 21:00 UTC on Friday 2 May is 00:30 on Saturday 3 May in Tehran.
    late = dt.datetime(2025, 5, 2, 21, 0, tzinfo=dt.UTC)
    assert step_due_at(step=DEFINITION.step("review"), assigned_at=late, calendar=CALENDAR) == end_of(
        dt.date(2025, 5, 5)
    )


def test_the_case_deadline_uses_the_legal_deadline_else_the_norm_and_moves_with_suspensions():
    case = Case(submitted_at=T0, suspended_days=0)
    legal = case_due_at(case=case, definition=DEFINITION, calendar=CALENDAR)
    assert legal == CALENDAR.deadline_for(started_at=T0, working_days=30)
    norm_only = definition_from_dict(small_process(legal_deadline_days=None))
    assert case_due_at(case=case, definition=norm_only, calendar=CALENDAR) == CALENDAR.deadline_for(
        started_at=T0, working_days=10
    )
    neither = definition_from_dict(small_process(legal_deadline_days=None, service_norm_days=None))
    assert case_due_at(case=case, definition=neither, calendar=CALENDAR) is None

    case.suspended_days = 2
    assert case_due_at(case=case, definition=DEFINITION, calendar=CALENDAR) == CALENDAR.deadline_for(
        started_at=T0, working_days=32
    )
    # Suspended since Saturday; on Wednesday Sunday, Monday and Wednesday have passed (Tuesday closed).
    case.suspended_since = T0
    wednesday = T0 + dt.timedelta(days=4)
    assert case_due_at(case=case, definition=DEFINITION, calendar=CALENDAR, now=wednesday) == (
        CALENDAR.deadline_for(started_at=T0, working_days=35)
    )


def test_suspended_working_days_count_from_the_day_after_and_never_go_negative():
    assert suspended_working_days(since=T0, until=T0, calendar=CALENDAR) == 0
    assert suspended_working_days(since=T0, until=T0 + dt.timedelta(days=2), calendar=CALENDAR) == 2
    assert suspended_working_days(since=T0 + dt.timedelta(days=2), until=T0, calendar=CALENDAR) == 0


@pytest.mark.parametrize("days", [2.5, 2.1])
def test_a_fraction_of_a_day_counts_as_a_whole_day(days):
    step = DEFINITION.step("review")
    step.deadline_days = days
    try:
        assert step_due_at(step=step, assigned_at=T0, calendar=CALENDAR) == CALENDAR.deadline_for(
            started_at=T0, working_days=3
        )
    finally:
        step.deadline_days = 2
