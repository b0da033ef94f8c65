"""Deadlines over time: the periodic sweep, and recomputing open deadlines when the calendar changes.

    deadlines_sweep(*, now=None) -> SweepReport
    automatic_requeue(*, now=None) -> int
    case_deadlines_recompute(*, now=None, reason="", mark=True) -> int
    closure_add_and_recompute(*, date, reason, by) -> tuple[Closure, int]
    deadlines_behind() -> bool

The sweep runs every few minutes in `pishkhan worker`. It marks each step the city is working on
(queued, claimed, automatic) as due soon or overdue, in a few bulk UPDATEs whatever the number of
steps, and escalates each overdue step once to its district's managers: one `escalated` event in
the case's log, written under the case's lock, and an email to managers who have an address. A
step waiting for the applicant is never overdue for staff: the case's clock is stopped then.
The sweep also queues again the task of an automatic step that is still waiting for it
(`automatic_requeue`): its action failed, or a broker lost the task.

A closure added at a day's notice changes the deadlines of the steps whose lead time spans that
day: `closure_add_and_recompute` adds it and recomputes every open deadline with one calendar,
writing a `deadline_changed` event to each case whose deadlines moved, so the citizen's timeline
and the audit trail say why. The recompute goes in short transactions of RECOMPUTE_BATCH cases,
so a city's worth of open cases never holds the database for long; a closure changed any other
way (the admin) or a recompute cut short is caught up by the next sweep."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pishkhan.accounts.models import RoleBinding
from pishkhan.catalog.definition import Definition
from pishkhan.core.calendar import WorkingCalendar, to_jalali, working_calendar
from pishkhan.core.models import CalendarVersion, Closure
from pishkhan.core.services import closure_announce
from pishkhan.notifications.services import notify_case_event

from .deadlines import case_due_at, step_due_at
from .events import event_append
from .models import Alert, Case, CaseStatus, Position, PositionState
from .positions import CITY_STATES
from .selectors import case_definition

logger = logging.getLogger(__name__)

# The role that deadlines escalate to (accounts.roles.STANDARD_ROLES).
MANAGER_ROLE = "manager"


@dataclass
class SweepReport:
    """What one sweep changed."""

    soon: int = 0  # steps newly marked due soon
    overdue: int = 0  # steps newly marked overdue
    cleared: int = 0  # steps whose mark went away (deadline moved, clock stopped)
    escalated: int = 0  # overdue steps escalated to their managers by this sweep
    requeued: int = 0  # automatic steps whose task was queued again
    recomputed: int = 0  # cases whose deadlines moved because the closures changed

    def __str__(self):
        return (
            f"deadlines: {self.overdue} newly overdue, {self.soon} newly due soon, {self.cleared} cleared, "
            f"{self.escalated} escalated; {self.requeued} automatic step(s) queued again; "
            f"{self.recomputed} case(s) with deadlines recomputed for changed closures"
        )


# --- marking and escalating -----------------------------------------------------------------


def _alert_conditions(*, now: dt.datetime, calendar: WorkingCalendar) -> tuple[Q, Q]:
    # "Due soon": the deadline falls before the end of the SOON_DUE_WORKING_DAYS-th working day
    # from today, so a Thursday-evening sweep warns about Saturday's deadlines (Friday is off).
    soon_until = calendar.deadline_for(started_at=now, working_days=settings.SOON_DUE_WORKING_DAYS)
    running = Q(state__in=CITY_STATES, due_at__isnull=False)
    return running & Q(due_at__lt=now), running & Q(due_at__gte=now, due_at__lte=soon_until)


def alerts_mark(
    *, now: dt.datetime, calendar: WorkingCalendar, report: SweepReport | None = None
) -> SweepReport:
    """Set every open position's alert from its deadline at `now`, in three UPDATEs: overdue when
    the deadline has passed, soon when it falls within SOON_DUE_WORKING_DAYS working days, none
    otherwise — and none for positions the city is not working on (with the applicant, waiting
    for a join), whose clock is stopped."""
    report = report or SweepReport()
    overdue, soon = _alert_conditions(now=now, calendar=calendar)
    report.overdue += (
        Position.objects.filter(overdue).exclude(alert=Alert.OVERDUE).update(alert=Alert.OVERDUE)
    )
    report.soon += Position.objects.filter(soon).exclude(alert=Alert.SOON).update(alert=Alert.SOON)
    report.cleared += (
        Position.objects.exclude(alert=Alert.NONE).exclude(overdue | soon).update(alert=Alert.NONE)
    )
    return report


def managers_for(district_ids) -> dict[int, list[int]]:
    """{district id: user ids of the managers an overdue step there escalates to}: those bound to
    the manager role in that district, else the city-wide managers. One query."""
    bindings = RoleBinding.objects.filter(role__code=MANAGER_ROLE, user__is_active=True).filter(
        Q(district_id__in=district_ids) | Q(district__isnull=True)
    )
    by_district: dict[int | None, list[int]] = {}
    for user_id, district_id in bindings.order_by("user_id").values_list("user_id", "district_id"):
        by_district.setdefault(district_id, []).append(user_id)
    citywide = by_district.get(None, [])
    return {district_id: by_district.get(district_id) or citywide for district_id in district_ids}


def _escalate_case(*, case_id: int, now: dt.datetime, managers: dict[int, list[int]]) -> int:
    """Escalate the overdue, not yet escalated steps of one case, under its lock. Returns how many."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        # Read again under the lock: a clerk may have finished the step, or another worker's
        # sweep escalated it, since the candidates were listed.
        positions = list(
            Position.objects.filter(
                case=case, state__in=CITY_STATES, due_at__lt=now, escalated_at__isnull=True
            ).order_by("due_at", "step_id")
        )
        to = managers.get(case.district_id) or []
        for position in positions:
            position.escalated_at = now
            position.save(update_fields=["escalated_at"])
            event = event_append(
                case=case,
                activity="escalated",
                step_id=position.step_id,
                assigned_at=position.assigned_at,
                started_at=position.started_at,
                completed_at=now,
                data={
                    "managers": to,
                    "due_at": position.due_at,
                    "assignee": position.assignee_id,
                    "role": position.role,
                },
            )
            notify_case_event(case=case, event=event)
        if positions and not to:
            logger.warning(
                "Case %s: overdue step(s) escalated, but no manager is bound in its district or city-wide",
                case.tracking_code,
            )
        return len(positions)


def deadlines_sweep(*, now: dt.datetime | None = None) -> SweepReport:
    """Recompute the open deadlines first when the closures changed since they were last
    computed (deadlines_behind: a closure added, changed or removed in the admin, or a recompute
    cut short; the events' reason lists the closures from today on). Then mark soon-due and
    overdue steps at `now` (default: the current time), and escalate each
    overdue step that was not escalated yet to its district's managers (else the city-wide ones):
    `Position.escalated_at` set, an `escalated` event in the case's log (data: the managers' user
    ids, the deadline, the assignee), and an email to managers with an address. Then queue again
    the tasks of automatic steps left waiting (automatic_requeue).

    Idempotent and safe to run in several workers at once: marks are absolute, and escalation
    re-checks each step under its case's lock, so a step is escalated once per stay in its queue
    (the engine clears `escalated_at` when a step comes back from the applicant); two sweeps may
    queue the same automatic step twice, which its idempotent task shrugs off. Marking costs a
    few queries whatever the number of steps; escalation a few per escalated case."""
    now = now or timezone.now()
    calendar = working_calendar()
    recomputed = 0
    if deadlines_behind():
        upcoming = Closure.objects.filter(date__gte=timezone.localdate(now)).order_by("date")
        reason = "; ".join(closure_reason(closure) for closure in upcoming)
        # Marked below, once: the steps a recompute made overdue count in this report.
        recomputed = case_deadlines_recompute(now=now, reason=reason, mark=False)
    report = alerts_mark(now=now, calendar=calendar)
    report.recomputed = recomputed
    candidates = (
        Position.objects.filter(state__in=CITY_STATES, due_at__lt=now, escalated_at__isnull=True)
        .order_by("case_id")
        .values_list("case_id", "case__district_id")
        .distinct()
    )
    cases = dict(candidates)
    if cases:
        managers = managers_for(set(cases.values()))
        for case_id in sorted(cases):
            report.escalated += _escalate_case(case_id=case_id, now=now, managers=managers)
    report.requeued = automatic_requeue(now=now)
    return report


# --- automatic steps left waiting -----------------------------------------------------------


def automatic_requeue(*, now: dt.datetime | None = None) -> int:
    """Queue the task of each automatic step again that has waited more than
    AUTOMATIC_RETRY_AFTER_MINUTES for it to run, and return how many. A step waits that long when
    its action raised (a renderer or an integration down: the task failed, and the task queue
    never retries on its own), or when a broker lost the task the engine handed it after the
    commit (with the queue in our database the task commits with its step and cannot be lost).

    With the queue in our database, a step whose task is still waiting or running is left alone,
    and after each failure the next try waits twice as long (10 minutes, 20, 40 …). A broker
    cannot be asked, so there the task is queued again at every sweep; it is idempotent, so a
    second one that finds its step done does nothing. Steps waiting longer than
    AUTOMATIC_RETRY_HOURS are left to the escalation (overdue, to the managers): an action that
    fails for that long needs a person."""
    from pishkhan.notifications.worker import uses_database_queue

    from .tasks import case_run_automatic

    now = now or timezone.now()
    after = dt.timedelta(minutes=settings.AUTOMATIC_RETRY_AFTER_MINUTES)
    waiting = list(
        Position.objects.filter(
            state=PositionState.AUTOMATIC,
            assigned_at__lt=now - after,
            assigned_at__gte=now - dt.timedelta(hours=settings.AUTOMATIC_RETRY_HOURS),
        )
        .exclude(case__status__in=CaseStatus.closed())
        .order_by("case_id", "step_id")
        .values_list("case_id", "step_id")
    )
    if waiting and uses_database_queue(case_run_automatic.backend):
        tries = _queued_tries(
            case_run_automatic, {case_id for case_id, _step in waiting}, now=now, after=after
        )
        waiting = [key for key in waiting if tries.get(key, now) <= now]
    for case_id, step_id in waiting:
        logger.warning(
            "Case %s: automatic step %s is still waiting; its task is queued again", case_id, step_id
        )
        case_run_automatic.enqueue(case_id=case_id, step_id=step_id)
    return len(waiting)


def _queued_tries(task, case_ids: set[int], *, now: dt.datetime, after: dt.timedelta) -> dict:
    """{(case id, step id): the moment before which its step must not be queued again}, from
    the database queue's rows of `task` for these cases: never while a try is waiting or running
    (a run that started more than `after` ago counts as a crashed worker's), else `after` times
    2^(failures − 1) after the last failure."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    failures: dict[tuple, list] = {}
    not_before: dict[tuple, dt.datetime] = {}
    rows = DBTaskResult.objects.filter(
        task_path=task.module_path, args_kwargs__kwargs__case_id__in=sorted(case_ids)
    ).values_list("args_kwargs", "status", "started_at", "finished_at")
    for args_kwargs, status, started_at, finished_at in rows:
        kwargs = args_kwargs.get("kwargs", {})
        key = (kwargs.get("case_id"), kwargs.get("step_id"))
        if status == TaskResultStatus.READY or (
            status == TaskResultStatus.RUNNING and started_at is not None and now - started_at < after
        ):
            not_before[key] = _NEVER
        elif status == TaskResultStatus.FAILED and finished_at is not None:
            failures.setdefault(key, []).append(finished_at)
    for key, moments in failures.items():
        wait = after * 2 ** (len(moments) - 1)
        not_before[key] = max(not_before.get(key, now), max(moments) + wait)
    return not_before


_NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)


# --- recomputing deadlines ------------------------------------------------------------------


class _Definitions:
    """Definitions by (version, variant), parsed once per recompute."""

    def __init__(self):
        self._cache: dict[tuple[int, int | None], Definition] = {}

    def of(self, case: Case) -> Definition:
        key = (case.version_id, case.variant_id)
        if key not in self._cache:
            self._cache[key] = case_definition(case)
        return self._cache[key]


def _position_due_at(*, position: Position, definition: Definition, calendar: WorkingCalendar):
    """A position's deadline under `calendar`, computed the way the engine set it: from when it
    entered its queue, or for a correction request from when it was returned, by the working days
    the applicant was given. Unchanged for a step the definition no longer names."""
    if position.state == PositionState.WITH_CITIZEN and position.request.get("returned_at"):
        return calendar.deadline_for(
            started_at=dt.datetime.fromisoformat(position.request["returned_at"]),
            working_days=int(position.request.get("due_days") or 0),
        )
    step = definition.step(position.step_id)
    if step is None:
        return position.due_at
    return step_due_at(step=step, assigned_at=position.assigned_at, calendar=calendar)


def _shown(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _case_changes(*, case: Case, positions: list[Position], definition: Definition, calendar, now) -> dict:
    """What moves in one case: {"case": (old, new)?, "steps": {step_id: (old, new)}}; empty when
    nothing does. The case's own deadline is left alone while it waits for the applicant: the
    engine recomputes it, with the calendar of that day, when the clock starts again."""
    changes: dict = {}
    if case.suspended_since is None:
        new = case_due_at(case=case, definition=definition, calendar=calendar, now=now)
        if new != case.due_at:
            changes["case"] = (case.due_at, new)
    steps = {}
    for position in positions:
        new = _position_due_at(position=position, definition=definition, calendar=calendar)
        if new != position.due_at:
            steps[position.step_id] = (position.due_at, new)
    if steps:
        changes["steps"] = steps
    return changes


def _open_cases():
    return Case.objects.exclude(status__in=CaseStatus.closed())


# Cases recomputed per transaction: the longest any act on a case waits for a recompute is the
# writing of this many cases (SQLite lets one writer at a time into the whole database).
RECOMPUTE_BATCH = 100


def case_deadlines_recompute(*, now: dt.datetime | None = None, reason: str = "", mark: bool = True) -> int:
    """Recompute the deadline of every open case and of each of its open steps with the current
    calendar (the closures read once), and write those that moved. Returns how many cases changed.

    Each changed case gets one `deadline_changed` event (data: the old and new deadlines, of the
    case under "case" and of its steps under "steps"; `reason` as the event's reason); then the
    positions' marks are set again, unless `mark` is false (the sweep marks them itself right
    after, and counts them). The cases go RECOMPUTE_BATCH at a time, each batch read without
    locks first — most cases do not change — and its changed cases then locked, computed again
    and written in a short transaction of their own, so acts on cases go on meanwhile and a
    concurrent move is never overwritten. Once every batch is done, the calendar's token is
    recorded as applied (core.CalendarVersion.applied_token) unless the closures changed again
    meanwhile; `deadlines_sweep` recomputes while it is not, so a recompute cut short (a worker
    stopped) is finished by the next sweep. Inside the caller's transaction, the batches are
    savepoints of it."""
    now = now or timezone.now()
    # The token before the closures: if they change in between, the applied token stays behind
    # and the next sweep recomputes.
    version = CalendarVersion.objects.filter(pk=1).first()
    calendar = working_calendar()
    definitions = _Definitions()
    case_ids = list(_open_cases().order_by("pk").values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(case_ids), RECOMPUTE_BATCH):
        batch = case_ids[start : start + RECOMPUTE_BATCH]
        moving = _changed_cases(
            _open_cases().filter(pk__in=batch), definitions=definitions, calendar=calendar, now=now
        )
        if moving:
            with transaction.atomic():
                # Only the cases' rows: the version rows they join are every case's.
                locked = _open_cases().filter(pk__in=moving).select_for_update(of=("self",))
                changed += _recompute_write(
                    locked, definitions=definitions, calendar=calendar, now=now, reason=reason
                )
    with transaction.atomic():
        if changed and mark:
            alerts_mark(now=now, calendar=calendar)
        if version is not None:
            CalendarVersion.objects.filter(pk=1, token=version.token).update(applied_token=version.token)
    return changed


def _with_positions(cases) -> list[tuple[Case, list[Position]]]:
    """The cases of a query (its version read with it) and each one's open positions: two queries."""
    cases = list(cases.select_related("version").order_by("pk"))
    by_case: dict[int, list[Position]] = {case.pk: [] for case in cases}
    for position in Position.objects.filter(case_id__in=list(by_case)).order_by("case_id", "step_id"):
        by_case[position.case_id].append(position)
    return [(case, by_case[case.pk]) for case in cases]


def _changed_cases(cases, *, definitions: _Definitions, calendar, now) -> list[int]:
    return [
        case.pk
        for case, positions in _with_positions(cases)
        if _case_changes(
            case=case, positions=positions, definition=definitions.of(case), calendar=calendar, now=now
        )
    ]


def _recompute_write(locked, *, definitions: _Definitions, calendar, now, reason: str) -> int:
    """Write the moved deadlines of the `locked` cases (a query taking their locks), computed
    again under the lock; returns how many cases changed."""
    changed = 0
    for case, positions in _with_positions(locked):
        changes = _case_changes(
            case=case, positions=positions, definition=definitions.of(case), calendar=calendar, now=now
        )
        if not changes:
            continue
        if "case" in changes:
            case.due_at = changes["case"][1]
            case.save(update_fields=["due_at"])
        moved = [position for position in positions if position.step_id in changes.get("steps", {})]
        for position in moved:
            position.due_at = changes["steps"][position.step_id][1]
            if position.request.get("returned_at"):
                position.request = {**position.request, "due_at": _shown(position.due_at)}
        Position.objects.bulk_update(moved, ["due_at", "request"])
        data = {}
        if "case" in changes:
            data["case"] = [_shown(value) for value in changes["case"]]
        if "steps" in changes:
            data["steps"] = {
                step: [_shown(value) for value in pair] for step, pair in changes["steps"].items()
            }
        event_append(case=case, activity="deadline_changed", completed_at=now, reason=reason, data=data)
        changed += 1
    return changed


def deadlines_behind() -> bool:
    """Whether the closures changed since the open deadlines were last recomputed (a closure added,
    changed or removed in the admin, or a recompute cut short)."""
    version = CalendarVersion.objects.filter(pk=1).first()
    return version is not None and version.applied_token != version.token


def closure_add_and_recompute(
    *, date: dt.date, reason: str, by, now: dt.datetime | None = None
) -> tuple[Closure, int]:
    """Record that offices are closed on `date`, audited as `closure.added` in the same
    transaction (core.services.closure_announce), then recompute every open deadline with the new
    calendar (case_deadlines_recompute: in short batches, each case's `deadline_changed` event
    giving the closure as its reason). `by` is the staff member who announced it (None: the
    system); `now` (default: the current time) is when the deadlines changed and what their marks
    are set against.

    Returns the closure and how many cases' deadlines moved. Raises what `closure_add` raises
    (ValidationError when the day is already closed or the reason is empty; nothing changes)."""
    closure = closure_announce(date=date, reason=reason, by=by)
    moved = case_deadlines_recompute(now=now, reason=closure_reason(closure))
    return closure, moved


def closure_reason(closure: Closure) -> str:
    """How a `deadline_changed` event gives a closure as its reason: "1404/02/21: Air pollution"."""
    return f"{to_jalali(closure.date).strftime('%Y/%m/%d')}: {closure.reason}"
