"""The calendar's token: the database renews it on every write to the closures, so a calendar shared
under one token (working_calendar(closures_token=…)) never serves closures that changed since."""

import datetime as dt

import pytest
from django.db import connection

from pishkhan.core.calendar import WorkingCalendar, working_calendar
from pishkhan.core.models import CalendarVersion, Closure
from pishkhan.core.services import closure_add, closure_remove

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2025, 5, 12)


def token() -> str:
    return CalendarVersion.objects.get(pk=1).token


def test_every_write_to_the_closures_renews_the_token_even_one_that_bypasses_the_services():
    seen = [token()]
    closure_add(date=MONDAY, reason="Air pollution")
    seen.append(token())
    Closure.objects.filter(date=MONDAY).update(reason="Snow")  # as the admin or a script would
    seen.append(token())
    Closure.objects.filter(date=MONDAY).update(date=MONDAY + dt.timedelta(days=1))
    seen.append(token())
    closure_remove(date=MONDAY + dt.timedelta(days=1))
    seen.append(token())
    assert len(set(seen)) == len(seen)
    assert all(len(t) == 32 for t in seen)


def test_a_calendar_is_shared_under_one_token_and_reads_the_closures_once(django_assert_num_queries):
    current = token()
    shared = working_calendar(closures_token=current)
    assert shared.is_working_day(MONDAY)  # the one closure query
    with django_assert_num_queries(0):
        assert working_calendar(closures_token=current) is shared
        assert shared.is_working_day(MONDAY + dt.timedelta(days=1))


def test_a_closure_recorded_after_a_calendar_was_shared_is_seen_under_the_new_token():
    shared = working_calendar(closures_token=token())
    assert shared.is_working_day(MONDAY)
    closure_add(date=MONDAY, reason="Air pollution")
    renewed = working_calendar(closures_token=token())
    assert renewed is not shared
    assert not renewed.is_working_day(MONDAY)
    assert renewed.why_closed(MONDAY) == "Air pollution"
    # Without a token: a calendar of its own, as always.
    assert working_calendar() is not working_calendar()
    assert not working_calendar().is_working_day(MONDAY)


def test_a_calendar_remembers_the_lead_times_it_counted(django_assert_num_queries):
    calendar = WorkingCalendar()
    first = calendar.add_working_days(MONDAY, 10)
    with django_assert_num_queries(0):
        assert calendar.add_working_days(MONDAY, 10) == first
    assert WorkingCalendar(closures={}).add_working_days(MONDAY, 10) == first


def test_the_closure_triggers_are_in_place_after_every_migration():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'core_closure'"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "core_closure_token_insert",
                "core_closure_token_update",
                "core_closure_token_delete",
            }
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'core_closure'::regclass AND NOT tgisinternal"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "core_closure_token",
                "core_closure_token_truncate",
            }
