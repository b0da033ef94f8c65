import io
import itertools

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from pishkhan.cases.events import case_chains_verify, case_event_payload, event_append
from pishkhan.cases.models import Case, CaseEvent
from pishkhan.cases.services import case_advance
from pishkhan.core.hashchain import CHANGED, DELETED, GENESIS, TRUNCATED, chain_hash
from tests.cases.factories import T0, make_district, submit_case

pytestmark = pytest.mark.django_db


def verify():
    """Run `pishkhan audit verify` as a caller would: (exit status, what it printed)."""
    out = io.StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def lift_append_only_guard():
    """What someone bent on rewriting a case's history does first: drop the triggers. Inside the
    test's transaction, so they come back when it rolls back."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER cases_caseevent_no_update")
            cursor.execute("DROP TRIGGER cases_caseevent_no_delete")
        else:
            cursor.execute("DROP TRIGGER cases_caseevent_append_only ON cases_caseevent")


def run_sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def moved_case(world):
    """A case with four events: submitted, then review, inspect and tech_review completed."""
    case = submit_case(service=world.service, district=world.district, now=T0)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    case_advance(case=case, step_id="inspect", outcome="done", actor=world.inspector, now=T0)
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=world.clerk, now=T0)
    case.refresh_from_db()
    return case


def test_each_event_links_to_the_one_before_and_the_case_holds_the_head(moved_case):
    events = list(moved_case.events.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    for event in events:
        assert event.hash == chain_hash(event.prev_hash, case_event_payload(event))
    assert (moved_case.event_seq, moved_case.event_hash) == (4, events[-1].hash)
    assert case_chains_verify() == []


def test_an_event_read_back_hashes_as_it_did_when_written(moved_case):
    event = event_append(
        case=Case.objects.select_for_update().get(pk=moved_case.pk),
        activity="deadline_changed",
        completed_at=T0,
        reason="سه‌شنبه تعطیل شد",
        data={"due_at": T0, "ratio": 1.5, "whole": 2.0, "nested": {"b": (1, "۲")}},
    )
    stored = CaseEvent.objects.get(pk=event.pk)
    assert (
        stored.data
        == event.data
        == {
            "due_at": "2025-05-03T06:30:00.000000Z",
            "ratio": 1.5,
            "whole": 2,
            "nested": {"b": [1, "۲"]},
        }
    )
    assert type(event.data["whole"]) is int
    assert chain_hash(stored.prev_hash, case_event_payload(stored)) == stored.hash
    assert case_chains_verify() == []


def test_the_triggers_are_in_place_after_every_migration():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_caseevent'"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "cases_caseevent_no_update",
                "cases_caseevent_no_delete",
            }
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases_caseevent'::regclass AND NOT tgisinternal"
            )
            assert {row[0] for row in cursor.fetchall()} == {"cases_caseevent_append_only"}


def test_the_database_refuses_to_update_or_delete_a_case_event(moved_case):
    event = moved_case.events.get(seq=2)
    event.reason = "rewritten"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(outcome="reject")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(case=moved_case).delete()
    event.refresh_from_db()
    assert (event.reason, event.outcome) == ("", "approve")
    assert moved_case.events.count() == 4


def test_two_writers_without_the_lock_cannot_fork_a_chain(moved_case):
    stale = Case.objects.get(pk=moved_case.pk)
    stale.event_seq, stale.event_hash = 3, moved_case.events.get(seq=3).hash
    with pytest.raises(IntegrityError), transaction.atomic():
        event_append(case=stale, activity="escalated", completed_at=T0)


def test_a_clean_set_of_logs_verifies(moved_case):
    status, out = verify()
    assert status == 0
    assert "case event logs OK" in out


def test_a_changed_event_is_reported_with_the_cases_tracking_code(moved_case):
    lift_append_only_guard()
    run_sql(
        "UPDATE cases_caseevent SET outcome = %s WHERE case_id = %s AND seq = %s",
        ["reject", moved_case.pk, 2],
    )
    status, out = verify()
    assert status == 1
    assert f"#2 changed: Case {moved_case.tracking_code}: Row #2 was changed" in out
    assert [(p.seq, p.kind) for p in case_chains_verify()] == [(2, CHANGED)]


def test_a_deleted_event_is_reported(moved_case):
    lift_append_only_guard()
    run_sql("DELETE FROM cases_caseevent WHERE case_id = %s AND seq = %s", [moved_case.pk, 2])
    status, out = verify()
    assert status == 1
    assert f"#3 deleted: Case {moved_case.tracking_code}: Row #2 is missing" in out
    assert [(p.seq, p.kind) for p in case_chains_verify()] == [(3, DELETED)]


def test_a_truncated_log_is_reported(moved_case):
    lift_append_only_guard()
    CaseEvent.objects.filter(case=moved_case, seq__gt=2).delete()
    status, out = verify()
    assert status == 1
    assert f"#3 truncated: Case {moved_case.tracking_code}: The log ends at row #2" in out
    assert [(p.seq, p.kind) for p in case_chains_verify()] == [(3, TRUNCATED)]


def test_only_the_tampered_case_is_reported_among_many(world):
    cases = [submit_case(service=world.service, district=make_district(), now=T0) for _ in range(4)]
    for case in cases:
        case_advance(case=case, step_id="review", outcome="approve", actor=_any_clerk(case), now=T0)
    lift_append_only_guard()
    target = cases[2]
    run_sql("DELETE FROM cases_caseevent WHERE case_id = %s", [target.pk])
    problems = case_chains_verify()
    assert [(p.seq, p.kind) for p in problems] == [(1, TRUNCATED)]
    assert target.tracking_code in problems[0].message


def _any_clerk(case):
    from tests.cases.factories import make_staff

    return make_staff(role="clerk", district=case.district)


def test_the_admin_shows_cases_and_events_read_only(rf):
    for model in (Case, CaseEvent):
        model_admin = admin.site._registry[model]
        request = rf.get("/")
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    assert "tracking_code" in admin.site._registry[Case].search_fields


@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_empties_the_event_log_and_keeps_it_append_only(world):
    case = submit_case(service=world.service, district=world.district)
    call_command("flush", interactive=False, verbosity=0)
    assert not CaseEvent.objects.exists()
    test_the_triggers_are_in_place_after_every_migration()
    assert not Case.objects.filter(pk=case.pk).exists()
