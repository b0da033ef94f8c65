"""The deadline sweep and recomputing deadlines when the province closes offices.

The small process's `review` step has 2 working days. Filed on Saturday 1404/02/20 (2025-05-10) at
09:30 Tehran time, it is due at the end of Monday 2025-05-12 (Friday is the weekend; no holiday
falls in these weeks)."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pishkhan.accounts.models import Role
from pishkhan.accounts.roles import STANDARD_ROLES
from pishkhan.cases import sweep
from pishkhan.cases.models import Alert, Case, CaseEvent, CaseStatus, Position
from pishkhan.cases.services import case_advance, case_answer, case_payment_confirmed
from pishkhan.cases.sweep import (
    automatic_requeue,
    case_deadlines_recompute,
    closure_add_and_recompute,
    deadlines_behind,
    deadlines_sweep,
)
from pishkhan.core.calendar import TEHRAN
from pishkhan.core.models import AuditEvent, Closure
from pishkhan.notifications.models import MessageChannel, OutboxMessage

from .factories import SMALL_FEE, make_district, make_staff, publish_definition, small_process, submit_case
from .test_moving_cases import through_checks

pytestmark = pytest.mark.django_db


def tehran(day: int, hour: int = 9, minute: int = 30, month: int = 5) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=TEHRAN)


def utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


SATURDAY = tehran(10)
END_OF_MONDAY = dt.datetime(2025, 5, 12, 23, 59, 59, tzinfo=TEHRAN)
END_OF_TUESDAY = dt.datetime(2025, 5, 13, 23, 59, 59, tzinfo=TEHRAN)


@pytest.fixture
def service():
    return publish_definition(small_process())


@pytest.fixture
def district():
    return make_district()


def review_of(case) -> Position:
    return Position.objects.get(case=case, step_id="review")


def escalations(case) -> list[CaseEvent]:
    return list(case.events.filter(activity="escalated"))


# --- marking ---------------------------------------------------------------------------------------


def test_a_step_is_marked_due_soon_the_working_day_before_and_overdue_once_its_day_has_passed(
    service, district
):
    case = submit_case(service=service, district=district, now=SATURDAY)
    assert review_of(case).due_at == END_OF_MONDAY

    deadlines_sweep(now=SATURDAY)
    assert review_of(case).alert == Alert.NONE

    report = deadlines_sweep(now=tehran(11))  # Sunday: Monday's deadline is one working day away
    assert review_of(case).alert == Alert.SOON
    assert report.soon == 1

    deadlines_sweep(now=tehran(12, 23, 0))  # Monday evening: still due soon, not yet overdue
    assert review_of(case).alert == Alert.SOON

    report = deadlines_sweep(now=tehran(13, 0, 5))  # Tuesday just after midnight
    assert review_of(case).alert == Alert.OVERDUE
    assert report.overdue == 1


def test_the_weekend_counts_for_nothing_in_the_warning_window(service, district):
    # Filed on Wednesday 2025-05-07 with 2 working days: due at the end of Saturday (Friday is off).
    case = submit_case(service=service, district=district, now=tehran(7))
    assert review_of(case).due_at == dt.datetime(2025, 5, 10, 23, 59, 59, tzinfo=TEHRAN)

    deadlines_sweep(now=tehran(8, 18, 0))  # Thursday evening: the next working day is Saturday
    assert review_of(case).alert == Alert.SOON


def test_a_step_waiting_for_the_applicant_is_never_overdue_for_staff(service, district):
    clerk = make_staff(role="clerk", district=district)
    make_staff(role="manager", district=district)
    case = submit_case(service=service, district=district, now=SATURDAY)
    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=clerk,
        request={"missing": ["deed"], "message": "Scan the deed again.", "due_days": 2},
        now=SATURDAY,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.WITH_CITIZEN

    report = deadlines_sweep(now=tehran(30))

    assert review_of(case).alert == Alert.NONE
    assert report.escalated == 0 and escalations(case) == []


def test_marking_many_steps_costs_the_same_few_queries_as_marking_one(service, district):
    submit_case(service=service, district=district, now=SATURDAY)
    with CaptureQueriesContext(connection) as one:
        deadlines_sweep(now=tehran(11))
    for _ in range(5):
        submit_case(service=service, district=district, now=SATURDAY)
    Position.objects.update(alert=Alert.NONE)
    with CaptureQueriesContext(connection) as six:
        report = deadlines_sweep(now=tehran(11))

    assert report.soon == 6
    # The calendar's tokens and its closures, three marking UPDATEs, the escalation candidates,
    # the automatic steps left waiting.
    assert len(six) == len(one) <= 7


# --- escalation ------------------------------------------------------------------------------------


def test_an_overdue_step_is_escalated_once_to_its_own_districts_manager(service, district):
    manager = make_staff(role="manager", district=district, email="manager@city.example")
    make_staff(role="manager", district=make_district())  # another district's manager
    make_staff(role="manager")  # city-wide: the district has its own
    case = submit_case(service=service, district=district, now=SATURDAY)
    tuesday = tehran(13, 8, 0)

    report = deadlines_sweep(now=tuesday)

    assert report.escalated == 1
    [event] = escalations(case)
    assert (event.step_id, event.actor, event.completed_at) == ("review", None, tuesday)
    assert event.data["managers"] == [manager.pk]
    assert review_of(case).escalated_at == tuesday
    [email] = OutboxMessage.objects.filter(case=case, channel=MessageChannel.EMAIL)
    assert email.to == "manager@city.example"
    assert email.dedupe_key == f"case:{case.pk}:event:{event.seq}:email:to:{manager.pk}"

    again = deadlines_sweep(now=tehran(14))

    assert again.escalated == 0
    assert len(escalations(case)) == 1
    assert OutboxMessage.objects.filter(case=case, channel=MessageChannel.EMAIL).count() == 1


def test_a_district_without_a_manager_escalates_to_the_city_wide_managers(service, district):
    citywide = make_staff(role="manager")
    make_staff(role="manager", district=make_district())
    case = submit_case(service=service, district=district, now=SATURDAY)

    deadlines_sweep(now=tehran(13, 8, 0))

    [event] = escalations(case)
    assert event.data["managers"] == [citywide.pk]
    # No email address: the escalation is in the manager's inbox only.
    assert not OutboxMessage.objects.filter(case=case, channel=MessageChannel.EMAIL).exists()


def test_a_step_back_from_the_applicant_runs_on_a_fresh_deadline_and_may_be_escalated_again(
    service, district
):
    clerk = make_staff(role="clerk", district=district)
    make_staff(role="manager", district=district)
    case = submit_case(service=service, district=district, now=SATURDAY)
    deadlines_sweep(now=tehran(13, 8, 0))
    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=clerk,
        request={"missing": [], "message": "Sign the form.", "due_days": 2},
        now=tehran(13, 9, 0),
    )
    case_answer(case=case, actor=case.applicant, message="Signed.", now=tehran(14))
    assert review_of(case).escalated_at is None

    deadlines_sweep(now=tehran(14, 10, 0))
    assert len(escalations(case)) == 1  # the new deadline has not passed
    deadlines_sweep(now=tehran(20))
    assert len(escalations(case)) == 2


# --- closures --------------------------------------------------------------------------------------


def test_a_closure_inside_an_open_steps_window_pushes_its_deadline_by_one_working_day(service, district):
    owner = make_staff(role="administrator")
    case = submit_case(service=service, district=district, now=SATURDAY)
    case_due_before = case.due_at

    closure, moved = closure_add_and_recompute(
        date=dt.date(2025, 5, 11), reason="Air pollution", by=owner, now=SATURDAY
    )

    assert (closure.date, moved) == (dt.date(2025, 5, 11), 1)
    assert review_of(case).due_at == END_OF_TUESDAY
    case.refresh_from_db()
    assert case.due_at > case_due_before
    [event] = case.events.filter(activity="deadline_changed")
    assert event.reason == "1404/02/21: Air pollution"
    assert event.data["steps"]["review"] == [utc_text(END_OF_MONDAY), utc_text(END_OF_TUESDAY)]
    assert event.data["case"][0] == case_due_before.isoformat()
    audit = AuditEvent.objects.get(action="closure.added")
    assert (audit.actor, audit.data) == (owner, {"date": "2025-05-11", "reason": "Air pollution"})


def test_a_closure_outside_every_open_deadline_moves_nothing(service, district):
    case = submit_case(service=service, district=district, now=SATURDAY)
    before = review_of(case).due_at

    _closure, moved = closure_add_and_recompute(
        date=dt.date(2025, 9, 1), reason="Snow", by=None, now=SATURDAY
    )

    assert moved == 0
    assert review_of(case).due_at == before
    assert not case.events.filter(activity="deadline_changed").exists()


def test_a_closure_after_the_step_but_before_the_case_deadline_moves_only_the_case(service, district):
    case = submit_case(service=service, district=district, now=SATURDAY)
    before = case.due_at

    _closure, moved = closure_add_and_recompute(
        date=dt.date(2025, 5, 20), reason="Snow", by=None, now=SATURDAY
    )

    assert moved == 1
    assert review_of(case).due_at == END_OF_MONDAY
    case.refresh_from_db()
    assert case.due_at > before
    [event] = case.events.filter(activity="deadline_changed")
    assert "steps" not in event.data


def test_a_closure_gives_the_applicant_one_more_day_to_answer_a_correction(service, district):
    clerk = make_staff(role="clerk", district=district)
    case = submit_case(service=service, district=district, now=SATURDAY)
    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=clerk,
        request={"missing": [], "message": "Sign the form.", "due_days": 2},
        now=SATURDAY,
    )
    assert review_of(case).due_at == END_OF_MONDAY

    closure_add_and_recompute(date=dt.date(2025, 5, 12), reason="Air pollution", by=None, now=SATURDAY)

    review = review_of(case)
    assert review.due_at == END_OF_TUESDAY
    assert review.request["due_at"] == utc_text(END_OF_TUESDAY)


def test_a_day_already_closed_is_refused_and_nothing_moves(service, district):
    submit_case(service=service, district=district, now=SATURDAY)
    closure_add_and_recompute(date=dt.date(2025, 5, 11), reason="Air pollution", by=None, now=SATURDAY)

    with pytest.raises(ValidationError):
        closure_add_and_recompute(date=dt.date(2025, 5, 11), reason="Again", by=None, now=SATURDAY)

    assert Closure.objects.count() == 1
    assert CaseEvent.objects.filter(activity="deadline_changed").count() == 1


def test_recomputing_with_an_unchanged_calendar_changes_nothing(service, district):
    submit_case(service=service, district=district, now=SATURDAY)
    submit_case(service=service, district=district, now=tehran(11))

    assert case_deadlines_recompute(now=tehran(12)) == 0
    assert not CaseEvent.objects.filter(activity="deadline_changed").exists()


def test_a_closure_added_or_removed_outside_the_service_is_caught_up_by_the_next_sweep(service, district):
    """The admin saves closures straight to the table: the calendar's token changes (triggers),
    and the sweep recomputes the open deadlines once."""
    case = submit_case(service=service, district=district, now=SATURDAY)
    assert not deadlines_behind()

    closure = Closure.objects.create(date=dt.date(2025, 5, 11), reason="Snow")
    assert deadlines_behind()
    report = deadlines_sweep(now=SATURDAY)

    assert report.recomputed == 1 and not deadlines_behind()
    assert review_of(case).due_at == END_OF_TUESDAY
    [event] = case.events.filter(activity="deadline_changed")
    assert event.reason == "1404/02/21: Snow"
    assert deadlines_sweep(now=SATURDAY).recomputed == 0

    closure.delete()
    assert deadlines_sweep(now=SATURDAY).recomputed == 1
    assert review_of(case).due_at == END_OF_MONDAY
    assert case.events.filter(activity="deadline_changed").count() == 2


def test_a_sweep_that_catches_up_a_removed_closure_reports_and_escalates_the_steps_it_made_overdue(
    service, district
):
    make_staff(role="manager", district=district)
    case = submit_case(service=service, district=district, now=SATURDAY)
    closure = Closure.objects.create(date=dt.date(2025, 5, 11), reason="Snow")
    tuesday_morning = tehran(13)
    assert deadlines_sweep(now=tuesday_morning).overdue == 0  # due at the end of Tuesday

    closure.delete()  # a mistake, put right in the admin: the step was due on Monday after all
    report = deadlines_sweep(now=tuesday_morning)

    assert (report.recomputed, report.overdue, report.escalated) == (1, 1, 1)
    assert review_of(case).alert == Alert.OVERDUE


def test_a_closure_added_and_removed_in_the_admin_is_audited_and_its_deadlines_follow(
    service, district, admin_client
):
    case = submit_case(service=service, district=district, now=SATURDAY)

    added = admin_client.post(
        "/admin/core/closure/add/", {"date": "1404/02/21", "reason": "Snow"}, follow=True
    )

    assert added.status_code == 200
    closure = Closure.objects.get()
    assert closure.date == dt.date(2025, 5, 11)  # typed in the Jalali calendar
    admin_client.cookies["django_language"] = "en"
    assert "1404/02/21" in admin_client.get("/admin/core/closure/").content.decode()
    audit = AuditEvent.objects.get(action="closure.added")
    assert audit.data == {"date": "2025-05-11", "reason": "Snow"} and audit.actor is not None
    assert deadlines_behind()  # left to the worker's sweep, not done in the request
    assert review_of(case).due_at == END_OF_MONDAY
    assert deadlines_sweep(now=SATURDAY).recomputed == 1
    assert review_of(case).due_at == END_OF_TUESDAY

    removed = admin_client.post(f"/admin/core/closure/{closure.pk}/delete/", {"post": "yes"}, follow=True)

    assert removed.status_code == 200 and not Closure.objects.exists()
    assert AuditEvent.objects.filter(action="closure.removed", subject="closure:2025-05-11").exists()
    deadlines_sweep(now=SATURDAY)
    assert review_of(case).due_at == END_OF_MONDAY


def test_a_recompute_goes_in_short_batches_and_one_cut_short_is_finished_by_the_next_sweep(
    service, district, monkeypatch
):
    cases = [submit_case(service=service, district=district, now=SATURDAY) for _ in range(3)]
    monkeypatch.setattr(sweep, "RECOMPUTE_BATCH", 1)
    written = []
    real_write = sweep._recompute_write

    def write_then_stop(locked, **kwargs):
        if len(written) == 2:
            raise RuntimeError("the worker stopped")
        written.append(1)
        return real_write(locked, **kwargs)

    monkeypatch.setattr(sweep, "_recompute_write", write_then_stop)
    with pytest.raises(RuntimeError):
        closure_add_and_recompute(date=dt.date(2025, 5, 11), reason="Snow", by=None, now=SATURDAY)

    # Each batch committed on its own: the first two cases moved, the third did not.
    assert [review_of(case).due_at for case in cases] == [END_OF_TUESDAY, END_OF_TUESDAY, END_OF_MONDAY]
    assert deadlines_behind()

    monkeypatch.setattr(sweep, "_recompute_write", real_write)
    assert deadlines_sweep(now=SATURDAY).recomputed == 1
    assert [review_of(case).due_at for case in cases] == [END_OF_TUESDAY] * 3
    assert CaseEvent.objects.filter(activity="deadline_changed").count() == 3
    assert not deadlines_behind()


@pytest.fixture
def standard_roles():
    """The roles migration 0002 creates; a transactional test may run after another one's flush
    emptied the table."""
    for code, name_fa, name_en, description in STANDARD_ROLES:
        Role.objects.get_or_create(
            code=code, defaults={"name_fa": name_fa, "name_en": name_en, "description": description}
        )


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_escalate_an_overdue_step_once(standard_roles, request):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sweeps need a database server (SQLite serialises writers)")
    service, district = request.getfixturevalue("service"), request.getfixturevalue("district")
    make_staff(role="manager", district=district)
    cases = [submit_case(service=service, district=district, now=SATURDAY) for _ in range(3)]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def sweep():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            reports.append(deadlines_sweep(now=tehran(13, 8, 0)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(report.escalated for report in reports) == 3
    assert [len(escalations(case)) for case in cases] == [1, 1, 1]


def test_a_step_due_soon_is_no_longer_due_soon_once_a_closure_moves_its_deadline(service, district):
    case = submit_case(service=service, district=district, now=SATURDAY)
    early_sunday = tehran(11, 6, 0)
    deadlines_sweep(now=early_sunday)
    assert review_of(case).alert == Alert.SOON  # due Monday, the next working day

    # Snow: the province closes offices today. The step is now due Tuesday, two working days away.
    closure_add_and_recompute(date=dt.date(2025, 5, 11), reason="Snow", by=None, now=early_sunday)

    review = review_of(case)
    assert (review.due_at, review.alert) == (END_OF_TUESDAY, Alert.NONE)


# --- automatic steps left waiting ------------------------------------------------------------------

MINUTES = dt.timedelta(minutes=1)


def paid(world, *, now):
    """A case of `world` through its checks and paid at `now`: its automatic `issue` step opens."""
    case = submit_case(service=world.service, district=world.district, now=now - dt.timedelta(hours=4))
    through_checks(case, world, now=now - dt.timedelta(hours=4))
    case_payment_confirmed(case=case, step_id="pay", amount=SMALL_FEE, reference=f"R-{case.pk}", now=now)
    return case


def waiting_automatic(case) -> bool:
    return case.positions.filter(step_id="issue", state="automatic").exists()


def test_a_task_a_broker_lost_after_the_commit_is_queued_again_by_the_sweep(
    world, issued, django_capture_on_commit_callbacks
):
    now = timezone.now()
    # The process dies between the commit and handing the task over: the hook never runs.
    with django_capture_on_commit_callbacks(execute=False):
        case = paid(world, now=now)
    assert waiting_automatic(case) and issued == []
    assert automatic_requeue(now=now + 5 * MINUTES) == 0  # not yet: the task may be on its way

    with django_capture_on_commit_callbacks(execute=True):
        report = deadlines_sweep(now=now + 11 * MINUTES)
    assert report.requeued == 1
    assert issued == [(case.pk, "permit")] and not waiting_automatic(case)
    assert automatic_requeue(now=now + 30 * MINUTES) == 0


def test_steps_waiting_for_longer_than_the_retry_window_or_in_a_closed_case_are_left_alone(
    world, issued, django_capture_on_commit_callbacks, settings
):
    settings.AUTOMATIC_RETRY_HOURS = 24
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        old = paid(world, now=now - dt.timedelta(hours=25))
        closed = paid(world, now=now - dt.timedelta(hours=1))
    Case.objects.filter(pk=closed.pk).update(status=CaseStatus.WITHDRAWN)
    with django_capture_on_commit_callbacks(execute=True):
        assert automatic_requeue(now=now) == 0
    assert issued == [] and waiting_automatic(old)


@pytest.mark.db_tasks
def test_with_the_database_queue_a_failed_task_is_tried_again_less_and_less_often(world, monkeypatch):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from pishkhan.cases import issuing
    from pishkhan.notifications.worker import Worker

    def renderer_down(**kwargs):
        raise RuntimeError("PDF renderer down")

    def run_ready_tasks():
        # What the worker's queue loop does with each ready task, without the loop's reconnecting
        # between tasks (which would close the test's transaction on PostgreSQL).
        loop = Worker(deliver_every=0, sweep_every=0, purge_every=0)._db_worker(batch=True)
        for row in DBTaskResult.objects.ready():
            row.claim(loop.worker_id)
            loop.run_task(row)

    monkeypatch.setattr(issuing, "document_issue", renderer_down)
    case = paid(world, now=timezone.now() - 30 * MINUTES)

    def statuses():
        return sorted(DBTaskResult.objects.values_list("status", flat=True))

    # Waiting in the queue, or running: nothing is added, however long it has waited.
    assert statuses() == [TaskResultStatus.READY]
    assert automatic_requeue(now=timezone.now()) == 0
    run_ready_tasks()
    assert statuses() == [TaskResultStatus.FAILED] and waiting_automatic(case)

    # One failure: tried again 10 minutes after it, once.
    assert automatic_requeue(now=timezone.now() + 5 * MINUTES) == 0
    assert automatic_requeue(now=timezone.now() + 11 * MINUTES) == 1
    assert automatic_requeue(now=timezone.now() + 11 * MINUTES) == 0  # that try is waiting
    run_ready_tasks()
    assert statuses() == [TaskResultStatus.FAILED] * 2

    # Two failures: 20 minutes after the last.
    assert automatic_requeue(now=timezone.now() + 11 * MINUTES) == 0
    assert automatic_requeue(now=timezone.now() + 21 * MINUTES) == 1

    # The renderer is back: the next try issues the permit, and nothing is queued again.
    monkeypatch.setattr(issuing, "document_issue", lambda **kwargs: None)
    run_ready_tasks()
    assert not waiting_automatic(case)
    assert case.events.filter(step_id="issue", activity="completed").count() == 1
    assert automatic_requeue(now=timezone.now() + dt.timedelta(hours=5)) == 0
