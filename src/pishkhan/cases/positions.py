"""How a case moves through its definition: entering steps, forks and joins, ends; the case's
status and its deadline clock. Internal to the engine: cases.services drives a `Move` inside its
transaction, after locking the case row, and records what it did in one event.

Rules (docs/case-engine.md, "Rules the engine keeps"):
- entering a work step opens a position: `queued` in its role's queue in the case's district,
  `with_citizen` for payment and citizen steps, `automatic` for automatic steps (run after
  commit by cases.tasks);
- entering a fork opens its join at once (`waiting_join`, remembering the branch the fork itself
  runs on) and then enters every branch, each position carrying `branch_of` = the fork;
- entering a join counts one arrival; when every branch of its fork has arrived the join closes
  and its `next` is entered on the fork's own branch;
- entering an end closes the case with the end's result and removes every position;
- the case's deadline clock stops while the city has nothing to do on it — every open position is
  with the applicant — and starts again as soon as one is back with the city; the working days it
  stood still move the case's deadline on (`Case.suspended_days`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from pishkhan.catalog.definition import Definition, Outcome, Step
from pishkhan.core.calendar import WorkingCalendar

from .deadlines import case_due_at, step_due_at, suspended_working_days
from .errors import CaseError
from .models import Case, CaseDocument, CaseStatus, Position, PositionState
from .store import instance_new

logger = logging.getLogger(__name__)

# Positions the city is working on; while there is one, the deadline clock runs.
CITY_STATES = (PositionState.QUEUED, PositionState.CLAIMED, PositionState.AUTOMATIC)
END_STATUS = {
    "approved": CaseStatus.APPROVED,
    "rejected": CaseStatus.REJECTED,
    "withdrawn": CaseStatus.WITHDRAWN,
}


SETTLED_FIELDS = ("status", "closed_at", "due_at", "suspended_since", "suspended_days")
# The role of an e-service office's desk: its steps are the intake check of a filing. For a case an
# office files, the operator did that check at the counter (cases.services.case_submit).
OFFICE_ROLE = "eservice_office"


def office_intake_steps(move: Move) -> list[str]:
    """The steps a just-filed case waits at in the office role's queue, in step order: what an
    office's operator completes (approve) as they file."""
    return sorted(
        step_id
        for step_id, position in move.positions.items()
        if position.role == OFFICE_ROLE and position.state == PositionState.QUEUED
    )


class Move:
    """One change to a case, in the making: the positions it opens and closes, whether it ends
    the case, and the automatic steps to run once the transaction commits. `case` must be the
    locked row.

    `persist=False` keeps everything in memory — no query, no write — for the simulator, which
    plays cases through these same rules and writes its rows in bulk afterwards (pass the case's
    open positions; `documents_after` of a correction request is then 0)."""

    def __init__(
        self,
        *,
        case: Case,
        definition: Definition,
        calendar: WorkingCalendar,
        now: dt.datetime,
        positions: list[Position] | None = None,
        persist: bool = True,
    ):
        self.case = case
        self.persist = persist
        self.definition = definition
        self.calendar = calendar
        self.now = now
        if positions is None:
            positions = list(Position.objects.filter(case=case))
        self.positions: dict[str, Position] = {p.step_id: p for p in positions}
        self.entered: list[str] = []
        self.left: list[str] = []
        self.ended: str | None = None  # the end's result once the case closes
        self.end_step: str = ""
        self.resumed_days: int | None = None  # working days the clock stood still, when it restarted
        self._automatic: list[str] = []
        self._spare: list[Position] = []  # rows of steps left, not yet reused or deleted

    # --- reading ------------------------------------------------------------------------------

    def position(self, step_id: str) -> Position | None:
        return self.positions.get(step_id)

    def data(self) -> dict:
        """What moved, for the event's data: {"entered": [...], "left": [...]} (step ids, gateways
        and ends included, in order)."""
        data = {}
        if self.entered:
            data["entered"] = list(self.entered)
        if self.left:
            data["left"] = list(self.left)
        return data

    # --- moving -------------------------------------------------------------------------------

    def enter(self, step_id: str, *, branch_of: str = "") -> None:
        """Enter a step (see the module docstring for what each kind does)."""
        if self.ended is not None:
            return  # an end reached on another branch closed the case
        step = self._step(step_id)
        self.entered.append(step.id)
        if step.kind == "end":
            self.close(result=step.result or "approved", end_step=step.id)
        elif step.kind == "fork":
            join = next((s for s in self.definition.steps if s.kind == "join" and s.join_of == step.id), None)
            if join is not None:
                self._open(join, state=PositionState.WAITING_JOIN, branch_of=branch_of)
            for branch in step.branches:
                self.enter(branch, branch_of=step.id)
        elif step.kind == "join":
            self._arrive(step)
        else:
            state = PositionState.QUEUED
            if step.kind == "automatic":
                state = PositionState.AUTOMATIC
                self._automatic.append(step.id)
            elif step.kind in ("payment", "citizen"):
                state = PositionState.WITH_CITIZEN
            self._open(step, state=state, branch_of=branch_of)

    def follow(self, position: Position, outcome: Outcome) -> None:
        """Close `position` and enter where `outcome` leads, on the same branch."""
        self.leave(position)
        self.enter(outcome.to, branch_of=position.branch_of)

    def leave(self, position: Position) -> None:
        # Kept as a spare row rather than deleted: the step entered next usually takes it over
        # (one UPDATE instead of a DELETE and an INSERT); settle() deletes what is left over.
        self._spare.append(position)
        self.positions.pop(position.step_id, None)
        self.left.append(position.step_id)

    def return_to_applicant(self, position: Position, *, target: str, request: dict) -> Position:
        """Send the work at `position` back to the applicant for correction, at step `target`
        (the return outcome's `to`): that step's position waits `with_citizen` holding the
        request, due `request["due_days"]` working days from now."""
        step = self._step(target)
        if not step.is_work:
            raise _broken(
                _("the return of step “%(step)s” leads to no work step") % {"step": position.step_id}
            )
        if target != position.step_id:
            self.leave(position)
            position = self._open(step, state=PositionState.WITH_CITIZEN, branch_of=position.branch_of)
            self.entered.append(target)
        due_at = self.calendar.deadline_for(started_at=self.now, working_days=request["due_days"])
        uploaded_before = 0
        if self.persist:
            uploaded_before = CaseDocument.objects.filter(case=self.case).aggregate(n=Max("pk"))["n"] or 0
        position.state = PositionState.WITH_CITIZEN
        position.assignee = None
        position.started_at = None
        position.due_at = due_at
        position.alert = ""
        position.request = {
            **request,
            "returned_at": self.now.isoformat(),
            "due_at": due_at.isoformat(),
            # Documents uploaded after the return have larger ids: those answer the request.
            "documents_after": uploaded_before,
        }
        self._save(position)
        return position

    def back_to_queue(self, position: Position) -> None:
        """The applicant answered: the step waits in its role's queue again (the applicant's own
        steps wait with the applicant), with a fresh step deadline from now."""
        step = self._step(position.step_id)
        # A citizen's own step (payment, work on site) that was sent back goes back to the
        # applicant, not to a staff queue nobody holds.
        position.state = (
            PositionState.WITH_CITIZEN if step.kind in ("payment", "citizen") else PositionState.QUEUED
        )
        position.request = {}
        position.assignee = None
        position.assigned_at = self.now
        position.started_at = None
        position.due_at = step_due_at(step=step, assigned_at=self.now, calendar=self.calendar)
        position.alert = ""
        position.escalated_at = None
        self._save(position)

    def close(self, *, result: str, end_step: str = "") -> None:
        """Close the case with `result` (approved, rejected, withdrawn): every position goes."""
        self.ended = result
        self.end_step = end_step
        for position in list(self.positions.values()):
            self.leave(position)

    def settle(self) -> tuple[str, ...]:
        """Delete the rows of the steps left, set the case's status, clock and deadline from its
        positions; return the fields set, for event_append(case_fields=…) to save."""
        if self._spare:
            if self.persist:
                Position.objects.filter(pk__in=[p.pk for p in self._spare]).delete()
            self._spare.clear()
        case = self.case
        if self.ended is not None:
            self._resume_clock()
            case.status = END_STATUS.get(self.ended, CaseStatus.APPROVED)
            case.closed_at = self.now
        else:
            states = {p.state for p in self.positions.values()}
            if PositionState.WITH_CITIZEN in states and not states & set(CITY_STATES):
                case.status = CaseStatus.WITH_CITIZEN
                if case.suspended_since is None:
                    case.suspended_since = self.now
            else:
                case.status = CaseStatus.OPEN
                self._resume_clock()
        case.due_at = case_due_at(case=case, definition=self.definition, calendar=self.calendar, now=self.now)
        # Not saved here: the event appended next writes these with the case's new head, in the
        # same UPDATE (one statement fewer on every act).
        return SETTLED_FIELDS

    def schedule_automatic(self) -> None:
        """Queue the tasks that run the automatic steps this move opened. A queue kept in our
        database (the default) takes them in this transaction: a task is there exactly when its
        step is, and a crash between the commit and the queueing cannot leave a step waiting for
        a task that never comes. Any other queue (a broker) gets them once the transaction
        commits, so its worker never looks for a step not committed yet."""
        opened = [step_id for step_id in self._automatic if step_id in self.positions]
        queue_here = bool(opened) and _queue_in_our_database()
        for step_id in opened:
            enqueue = functools.partial(_enqueue_automatic, self.case.pk, step_id)
            if queue_here:
                enqueue()
            else:
                transaction.on_commit(enqueue)

    # --- helpers ------------------------------------------------------------------------------

    def _step(self, step_id: str) -> Step:
        step = self.definition.step(step_id)
        if step is None:
            raise _broken(_("it names a step “%(step)s” it does not define") % {"step": step_id})
        return step

    def _open(self, step: Step, *, state: str, branch_of: str) -> Position:
        if step.id in self.positions:
            raise _broken(
                _("step “%(step)s” would be open twice (two paths lead to it without a join)")
                % {"step": step.id}
            )
        fields = {
            "step_id": step.id,
            "role": step.role,
            "state": state,
            "assigned_at": self.now,
            "started_at": None,
            "due_at": step_due_at(step=step, assigned_at=self.now, calendar=self.calendar),
            "alert": "",
            "escalated_at": None,
            "branch_of": branch_of,
            "arrivals": 0,
            "request": {},
        }
        # A spare row that held this very step first: the step's column (and its index) stays put.
        spare = next((p for p in self._spare if p.step_id == step.id), None) or (
            self._spare[-1] if self._spare else None
        )
        if spare is None:
            position = instance_new(
                Position,
                {"case": self.case},
                {
                    "id": None,
                    "case_id": self.case.pk,
                    "district_id": self.case.district_id,
                    "assignee_id": None,
                    **fields,
                },
            )
            self._save(position, force_insert=True)
        else:
            self._spare.remove(spare)
            # Plain fields straight into the instance; the foreign keys through their attributes,
            # and only when they change (setting one also drops the related object cached).
            spare.__dict__.update(fields)
            if spare.assignee_id is not None:
                spare.assignee = None
            if spare.district_id != self.case.district_id:
                spare.district_id = self.case.district_id
            self._save(spare)
            position = spare
        self.positions[step.id] = position
        return position

    def _save(self, position: Position, **options) -> None:
        if self.persist:
            position.save(**options)

    def _arrive(self, join: Step) -> None:
        position = self.positions.get(join.id)
        if position is None:
            position = self._open(join, state=PositionState.WAITING_JOIN, branch_of="")
        position.arrivals += 1
        fork = self.definition.step(join.join_of)
        needed = len(fork.branches) if fork is not None else 1
        if position.arrivals < needed:
            self._save(position, update_fields=["arrivals"])
            return
        self.leave(position)
        self.enter(join.next, branch_of=position.branch_of)

    def _resume_clock(self) -> None:
        case = self.case
        if case.suspended_since is None:
            return
        days = suspended_working_days(since=case.suspended_since, until=self.now, calendar=self.calendar)
        case.suspended_days += days
        case.suspended_since = None
        self.resumed_days = days


def _broken(detail) -> CaseError:
    logger.error("case engine: the definition cannot be followed: %s", detail)
    return CaseError(
        "definition_error",
        _("The process definition cannot be followed here: %(detail)s. Tell the process owner.")
        % {"detail": detail},
        status=409,
    )


def _enqueue_automatic(case_id: int, step_id: str) -> None:
    from .tasks import case_run_automatic  # tasks imports services, which imports this module

    case_run_automatic.enqueue(case_id=case_id, step_id=step_id)


def _queue_in_our_database() -> bool:
    from pishkhan.notifications.worker import uses_database_queue

    from .tasks import case_run_automatic

    return uses_database_queue(case_run_automatic.backend)
