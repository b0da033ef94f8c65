"""What an act on a case costs the database, and the SQL layer (cases.store) that keeps it small:
the case row locked and read once with its positions, the definition's identity, the calendar's
token and the actor's roles; then only the rows that changed are written."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pishkhan.cases import store
from pishkhan.cases.invariants import case_invariants_check
from pishkhan.cases.models import Case, Position, PositionState
from pishkhan.cases.services import case_advance
from pishkhan.core.calendar import WorkingCalendar, local_date
from pishkhan.core.services import closure_add
from tests.cases.factories import T0, submit_case

pytestmark = pytest.mark.django_db


def statements(queries) -> list[str]:
    """The statements an act sent, without the test's savepoints."""
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_an_advance_reads_the_case_once_and_asks_nothing_else(world):
    case = submit_case(service=world.service, district=world.district)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk)
    with CaptureQueriesContext(connection) as queries:
        case_advance(case=case, step_id="tech_review", outcome="approve", actor=world.clerk)
    sent = statements(queries)
    reads = [sql for sql in sent if sql.startswith("SELECT")]
    # The case row, locked (on SQLite the IMMEDIATE transaction already keeps other writers out),
    # then its positions.
    assert len(reads) == 2
    assert "FOR UPDATE" in reads[0] or connection.vendor == "sqlite"
    # No query of its own for the role binding, the closures or the version: folded into the reads.
    for table in ("accounts_rolebinding", "core_closure", "catalog_processversion", "core_calendarversion"):
        assert not [sql for sql in sent if table in sql and sql not in reads], table
    # tech_review leaves (its row deleted), the join counts an arrival, the event, the case's head.
    writes = [sql.split()[0] for sql in sent if sql not in reads]
    assert sorted(writes) == ["DELETE", "INSERT", "UPDATE", "UPDATE"]


def test_an_advance_leaves_the_position_rows_the_orm_would(world):
    case = submit_case(service=world.service, district=world.district)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    rows = {p.step_id: p for p in Position.objects.filter(case=case)}
    assert set(rows) == {"checks_done", "inspect", "tech_review"}
    assert rows["checks_done"].state == PositionState.WAITING_JOIN and rows["checks_done"].due_at is None
    calendar = WorkingCalendar()
    for step_id, days in (("inspect", 3), ("tech_review", 2)):
        row = rows[step_id]
        assert row.state == PositionState.QUEUED and row.branch_of == "checks"
        assert row.assigned_at == T0 and row.due_at == calendar.deadline_for(started_at=T0, working_days=days)
        assert row.district_id == world.district.pk and row.request == {}
    case.refresh_from_db()
    assert case.event_seq == 2 and case.events.get(seq=2).hash == case.event_hash


def test_a_closure_recorded_between_two_acts_counts_in_the_next_deadline(world):
    first = submit_case(service=world.service, district=world.district)
    case_advance(case=first, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    before = first.positions.get(step_id="tech_review").due_at
    closure_add(date=WorkingCalendar().add_working_days(local_date(T0), 1), reason="Snow")
    second = submit_case(service=world.service, district=world.district)
    case_advance(case=second, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    after = second.positions.get(step_id="tech_review").due_at
    assert after == WorkingCalendar().deadline_for(started_at=T0, working_days=2) > before


def test_rows_taking_over_each_others_steps_in_one_act_are_all_written(world):
    case = submit_case(service=world.service, district=world.district)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    with transaction.atomic(), store.act_cursor() as cursor:
        row = store.case_lock(cursor, case_id=case.pk, positions=True)
        by_step = {p.step_id: p for p in row.positions}
        # inspect's row takes over tech_review while tech_review's row moves on to pay.
        by_step["inspect"].step_id = "tech_review"
        by_step["tech_review"].step_id = "pay"
        by_step["tech_review"].due_at = T0 + dt.timedelta(days=7)
        store.positions_write(
            cursor,
            before=row.before,
            positions=[by_step["inspect"], by_step["tech_review"], by_step["checks_done"]],
        )
    rows = dict(Position.objects.filter(case=case).values_list("pk", "step_id"))
    assert rows == {
        by_step["inspect"].pk: "tech_review",
        by_step["tech_review"].pk: "pay",
        by_step["checks_done"].pk: "checks_done",
    }
    assert Position.objects.get(pk=by_step["tech_review"].pk).due_at == T0 + dt.timedelta(days=7)


def test_a_step_open_twice_is_reported_by_the_audits_invariant_check(world):
    # No unique index refuses it (ADR 0013): the engine opens a step once under the case's lock,
    # and `pishkhan audit verify` reports a row written past it.
    case = submit_case(service=world.service, district=world.district)
    assert case_invariants_check(case_ids=[case.pk]) == []
    row = case.positions.get()
    Position.objects.create(
        case=case, step_id=row.step_id, role=row.role, district=row.district, assigned_at=T0
    )
    problems = case_invariants_check(case_ids=[case.pk])
    assert f"{case.tracking_code}: step “{row.step_id}” is open twice" in problems


def test_a_case_without_open_steps_is_read_without_positions(world):
    case = submit_case(service=world.service, district=world.district)
    case_advance(case=case, step_id="review", outcome="reject", actor=world.clerk, reason="Incomplete")
    with transaction.atomic(), store.act_cursor() as cursor:
        row = store.case_lock(cursor, case_id=case.pk, positions=True, user=world.clerk)
        assert row.case.pk == case.pk and row.case.status == "rejected"
        assert row.positions == [] and row.before == {} and row.bound_roles == set()
        assert store.case_lock(cursor, case_id=-1, positions=True) is None


def test_a_statement_refused_in_a_batch_raises_djangos_error_and_the_act_leaves_nothing(world):
    from django.db import IntegrityError

    from pishkhan.cases.events import event_append

    case = submit_case(service=world.service, district=world.district)
    head = (case.event_seq, case.event_hash)
    with pytest.raises(IntegrityError), transaction.atomic(), store.act_cursor() as cursor:
        row = store.case_lock(cursor, case_id=case.pk, positions=True)
        with cursor.batch():
            event_append(case=row.case, activity="note", completed_at=T0, cursor=cursor)
            row.case.event_seq -= 1  # a second event with the same number: the unique (case, seq)
            event_append(case=row.case, activity="note", completed_at=T0, cursor=cursor)
    case.refresh_from_db()
    assert (case.event_seq, case.event_hash) == head
    assert not case.events.filter(activity="note").exists()


def test_the_locked_case_and_positions_are_the_instances_the_orm_would_load(world):
    case = submit_case(service=world.service, district=world.district)
    case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk, now=T0)
    with transaction.atomic(), store.act_cursor() as cursor:
        row = store.case_lock(cursor, case_id=case.pk, positions=True, user=world.clerk)
    loaded = Case.objects.get(pk=case.pk)
    for model_field in Case._meta.concrete_fields:
        assert getattr(row.case, model_field.attname) == getattr(loaded, model_field.attname), (
            model_field.name
        )
    assert (row.case._state.adding, row.case._state.db) == (False, "default")
    by_pk = {p.pk: p for p in Position.objects.filter(case=case)}
    assert [p.pk for p in row.positions] == [
        p.pk for p in Position.objects.filter(case=case).order_by("due_at", "assigned_at", "pk")
    ]
    for position in row.positions:
        for model_field in Position._meta.concrete_fields:
            assert getattr(position, model_field.attname) == getattr(by_pk[position.pk], model_field.attname)
    assert row.bound_roles == {"clerk"}  # tech_review is the clerk's; inspect the inspector's


def test_the_locked_cases_answers_are_parsed_only_when_read_and_then_behave_as_the_orms(world):
    from pishkhan.core.fields import JSONText

    case = submit_case(service=world.service, district=world.district)
    with transaction.atomic(), store.act_cursor() as cursor:
        row = store.case_lock(cursor, case_id=case.pk, positions=True)
    locked = row.case
    assert type(locked.__dict__["answers"]) is JSONText  # read, not parsed
    assert locked.answers == Case.objects.get(pk=case.pk).answers
    assert type(locked.__dict__["answers"]) is dict  # parsed once, then kept
    # Set, saved and read back as any JSONField's value.
    locked.answers = {**locked.answers, "note": "تازه"}
    locked.save(update_fields=["answers"])
    assert Case.objects.get(pk=case.pk).answers["note"] == "تازه"
    # Saving an instance whose answers were never read keeps them as they are.
    with transaction.atomic(), store.act_cursor() as cursor:
        untouched = store.case_lock(cursor, case_id=case.pk).case
    untouched.save()
    assert Case.objects.get(pk=case.pk).answers["note"] == "تازه"


def test_an_act_whose_outcome_has_no_condition_leaves_the_answers_unparsed(world):
    from pishkhan.core.fields import JSONText

    case = submit_case(service=world.service, district=world.district)
    event = case_advance(case=case, step_id="review", outcome="approve", actor=world.clerk)
    assert type(event.case.__dict__["answers"]) is JSONText
    # The caller's instance gets the state the act left and reads its answers as before.
    assert case.answers == Case.objects.get(pk=case.pk).answers
