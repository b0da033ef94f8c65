"""The discrete-event simulation (SimPy): cases arrive, wait in the queues of their roles in their
districts, are taken up by the people who hold those roles, move on, come back for correction,
are paid for, rejected, withdrawn and closed — over the working-day calendar.

It moves every case with the engine's own rules (`cases.positions.Move`, in memory) and writes the
engine's own event rows (the same activities, data, deadlines and hash chain as `cases.services`),
so a simulated case cannot be told from a real one by any check the engine applies. What it does
not do is send messages or render PDFs: issued documents are registered and rendered on first
download (`cases.issuing.issued_file_ensure`).

`History` holds the rows; `simulator.store` writes them in bulk.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

import simpy

from pishkhan.cases.answers import answers_validate
from pishkhan.cases.events import event_hash
from pishkhan.cases.issuing import _service_short as service_short
from pishkhan.cases.models import Case, CaseStatus, Position, PositionState
from pishkhan.cases.positions import CITY_STATES, Move, office_intake_steps
from pishkhan.cases.selectors import fees_for_step
from pishkhan.cases.services import _route as route_for_outcome
from pishkhan.cases.tracking import verhoeff_check_digit
from pishkhan.catalog.definition import Definition, Outcome, Step
from pishkhan.catalog.expressions import expression_names
from pishkhan.core.calendar import WorkingCalendar, local_date, to_jalali
from pishkhan.core.hashchain import GENESIS, json_plain
from pishkhan.demo.answers import sample_answers
from pishkhan.demo.geography import point_in_district

from .clock import OFFICE_HOURS, WorkClock
from .scenario import (
    CITIZEN_STEP_SHARE,
    CORRECTION_DAYS,
    DEFAULT_WORK_HOURS,
    PAY_DAYS,
    WORK_HOURS,
    Scenario,
)
from .world import Plan, World

ANSWER_SETS = 8  # distinct validated answer sets per service
SWEEP_DELAY = dt.timedelta(minutes=5)  # the worker's sweep escalates this long after a deadline
SIGMA = 0.8  # spread of the log-normal waits and durations
FEATURED_WEEKS_HOURS = 6 * 5 * OFFICE_HOURS  # the featured citizen's cases fall in the last six weeks
AUTOMATIC_DELAY_HOURS = 0.01  # the worker runs an automatic step about half a minute after commit

REJECT_REASONS = [
    "مدارک مالکیت با مشخصات ملک مطابقت ندارد.",
    "درخواست با ضوابط طرح تفصیلی منطقه مغایرت دارد.",
    "ملک در محدوده طرح تعریض معبر است و صدور مجوز ممکن نیست.",
    "متقاضی ذی‌نفع نیست؛ وکالت‌نامه معتبر ارائه نشده است.",
]
RETURN_MESSAGES = [
    "تصویر سند خوانا نیست؛ لطفاً تصویر واضح‌تری بارگذاری کنید.",
    "نقشه ارائه‌شده مهر و امضای مهندس ناظر ندارد.",
    "مشخصات مالک با سامانه ثبت تطبیق ندارد؛ لطفاً اصلاح کنید.",
    "متراژ اعلام‌شده با نقشه تفکیکی هم‌خوانی ندارد.",
]
WITHDRAW_REASONS = ["از انجام کار منصرف شدم.", "", "پرونده را از طریق دیگری پیگیری می‌کنم."]


class EventRow:
    """One event, shaped like cases.models.CaseEvent for case_event_payload."""

    __slots__ = (
        "activity",
        "actor_id",
        "actor_role",
        "assigned_at",
        "case_id",
        "completed_at",
        "data",
        "district_id",
        "hash",
        "office_id",
        "outcome",
        "prev_hash",
        "reason",
        "seq",
        "started_at",
        "step_id",
    )


@dataclass
class IssuedRow:
    id: int
    case_id: int
    output_id: str
    number: str
    verification_code: str
    title_fa: str
    title_en: str
    issued_at: dt.datetime
    valid_until: dt.date | None


@dataclass
class History:
    cases: list[Case] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)  # the open steps at the end
    issued: list[IssuedRow] = field(default_factory=list)
    # (service, step) → [working hours each taking-up waited], for the ground truth
    waits: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    # (service, step) → [planted mean working hours of each taking-up's wait]
    planted: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    unstaffed: set[tuple[str, str]] = field(default_factory=set)  # (role, district code) nobody holds


class SimCase:
    __slots__ = (
        "answers_key",
        "case",
        "closed",
        "code",
        "district_code",
        "plan",
        "positions",
        "returns",
        "side",
        "started",
    )

    def __init__(self, *, case: Case, plan: Plan, code: str, district_code: str, answers_key, side):
        self.case = case
        self.plan = plan
        self.code = code
        self.district_code = district_code
        self.answers_key = answers_key
        self.side = side  # (user id, office id) of whoever acts for the applicant
        self.positions: dict[str, Position] = {}
        # step id → (position, assigned at, state) when its process started: a process whose
        # entry was replaced (the step was left, or came back to a queue) has nothing more to do.
        self.started: dict[str, tuple] = {}
        self.returns = 0
        self.closed = False


@dataclass(frozen=True)
class Arrival:
    """A case to file: when (simulation time), which service, in which district (an index into
    World.districts), with the id and tracking code chosen for it, and optionally its applicant."""

    at: float
    code: str
    district: int
    case_id: int
    tracking_code: str
    applicant: int | None = None


def arrivals_draw(
    *,
    scenario: Scenario,
    weights: list[float],
    horizon: float,
    rng: random.Random,
    first_case_id: int,
    taken_codes: set[str],
) -> list[Arrival]:
    """Every case of the scenario, in the order they are filed: times spread evenly at random over
    the period, districts by their `weights`, ids in filing order, fresh tracking codes.
    The last `featured_cases` of the final weeks go to the `featured_citizen`, so the demo's own
    citizen has cases in flight."""
    drawn = []
    for code, count in sorted(scenario.services.items()):
        for _ in range(count):
            drawn.append(
                (rng.uniform(0, horizon), code, rng.choices(range(len(weights)), weights=weights)[0])
            )
    drawn.sort()
    arrivals = [
        Arrival(at, code, district, first_case_id + n, _tracking_code(rng, taken_codes))
        for n, (at, code, district) in enumerate(drawn)
    ]
    if scenario.featured_citizen and arrivals:
        recent = [n for n, a in enumerate(arrivals) if a.at > horizon - FEATURED_WEEKS_HOURS]
        step = max(1, len(recent) // max(1, scenario.featured_cases))
        for n in recent[::step][: scenario.featured_cases]:
            arrivals[n] = dataclasses.replace(arrivals[n], applicant=scenario.featured_citizen)
    return arrivals


def district_weights(world: World, rng: random.Random) -> list[float]:
    """How busy each district is (relative), drawn once per simulation."""
    return [rng.uniform(0.5, 2.0) for _ in world.districts]


def partitions_split(weights: list[float], count: int) -> list[set[int]]:
    """Districts (indexes) in `count` groups of about equal load, the busiest placed first. Each
    group is played by its own process: districts share no staff but the city-wide roles."""
    groups: list[set[int]] = [set() for _ in range(count)]
    loads = [0.0] * count
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        lightest = min(range(count), key=lambda g: (loads[g], g))
        groups[lightest].add(index)
        loads[lightest] += weights[index]
    return groups


def _tracking_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        body = str(10**10 + rng.randrange(9 * 10**10))
        code = body + verhoeff_check_digit(body)
        if code not in taken:
            taken.add(code)
            return code


class Simulation:
    """Plays the arrivals of one partition of the districts (all of them when partitions=1)."""

    def __init__(
        self,
        *,
        scenario: Scenario,
        world: World,
        calendar: WorkingCalendar,
        clock: WorkClock,
        arrivals: list[Arrival],
        issued_base: int,
        numbers: dict[str, int],
        partition: int = 0,
        partitions: int = 1,
    ):
        self.scenario = scenario
        self.world = world
        self.calendar = calendar
        self.clock = clock
        self.arrivals = arrivals
        self.partition, self.partitions = partition, partitions
        self.rng = random.Random(f"{scenario.seed}/{partition}")  # noqa: S311 - simulated data, not secrets
        self.end = scenario.end
        self.horizon = clock.hours_until(scenario.end)
        self.env = simpy.Environment()
        self.history = History()
        self.issued_base = issued_base
        self.issued_count = 0
        self.numbers = numbers  # number prefix → last sequence used before this simulation
        self.number_counts: dict[str, int] = defaultdict(int)
        self.pools: dict[tuple[str, int | None], list[list]] = {}
        self.answer_sets: dict[str, list[dict]] = {}
        self.routes: dict[tuple, Outcome] = {}
        self.fees: dict[tuple, int] = {}
        self.references = 0
        self.open_cases: dict[int, SimCase] = {}
        self.checked: set[int] = set()  # definitions whose expressions were checked

    # --- running ------------------------------------------------------------------------------

    def run(self) -> History:
        self.env.process(self._arrivals())
        self.env.run(until=self.horizon)
        self._finish()
        return self.history

    def _arrivals(self):
        for arrival in self.arrivals:
            if arrival.at > self.env.now:
                yield self.env.timeout(arrival.at - self.env.now)
            self._submit(arrival)

    def _finish(self):
        now = self.end
        for sim in self.open_cases.values():
            self._escalate_due(sim, now)
            self.history.positions += sim.positions.values()

    # --- the engine's moves, in memory --------------------------------------------------------

    def _submit(self, arrival: Arrival):
        world, rng, code = self.world, self.rng, arrival.code
        district = world.districts[arrival.district]
        plan = world.plans[(code, district.pk)]
        definition = plan.definition
        answers_key, answers = self._answers(code, district, plan)
        channel, filed_by, office_id = self._channel(definition, district.pk)
        applicant = arrival.applicant or rng.choice(world.citizens)
        now = self.clock.moment(self.env.now)
        case = Case(
            pk=arrival.case_id,
            tracking_code=arrival.tracking_code,
            service_id=world.services[code].pk,
            version_id=plan.version.pk,
            variant_id=plan.variant.pk if plan.variant else None,
            district_id=district.pk,
            applicant_id=applicant,
            filed_by_id=filed_by or applicant,
            office_id=office_id,
            channel=channel,
            answers=answers,
            status=CaseStatus.OPEN,
            submitted_at=now,
            event_seq=0,
            event_hash=GENESIS,
        )
        side = (filed_by, office_id) if office_id else (applicant, None)
        sim = SimCase(
            case=case, plan=plan, code=code, district_code=district.code, answers_key=answers_key, side=side
        )
        self.history.cases.append(case)
        self.open_cases[case.pk] = sim
        move = self._move(sim, now)
        move.enter(definition.start)
        move.settle()
        self._append(
            sim,
            now,
            activity="submitted",
            actor_id=case.filed_by_id,
            office_id=office_id,
            data={
                "channel": channel,
                "applicant": applicant,
                "version": plan.version.number,
                "variant": district.code if plan.variant else None,
                **move.data(),
            },
        )
        if office_id:
            move = self._office_intake(sim, move, now)
        self._after(sim, move, now)
        if rng.random() < self.scenario.habits.withdrawn:
            self.env.process(self._withdraw_later(sim))

    def _office_intake(self, sim: SimCase, move: Move, now) -> Move:
        """What case_submit does for an office's filing: the operator has checked the file at the
        counter, so the intake steps the office role holds are completed by them at once."""
        operator, office_id = sim.side
        sim.positions = move.positions
        for step_id in office_intake_steps(move):
            step = sim.plan.definition.step(step_id)
            intake = self._move(sim, now)
            position = intake.positions[step_id]
            assigned_at = position.assigned_at
            intake.follow(position, self._route(sim, step, "approve"))
            intake.settle()
            self._append(
                sim,
                now,
                activity="completed",
                step_id=step_id,
                outcome="approve",
                actor_id=operator,
                actor_role=step.role,
                office_id=office_id,
                assigned_at=assigned_at,
                started_at=now,
                data=intake.data(),
            )
            sim.positions, move = intake.positions, intake
        return move

    def _move(self, sim: SimCase, now) -> Move:
        return Move(
            case=sim.case,
            definition=sim.plan.definition,
            calendar=self.calendar,
            now=now,
            positions=list(sim.positions.values()),
            persist=False,
        )

    def _after(self, sim: SimCase, move: Move, now):
        """Close the case when the move reached an end, and start the processes of the steps the
        move opened (or put back in a queue)."""
        sim.positions = move.positions
        if move.ended is not None:
            if move.end_step:
                self._append(
                    sim,
                    now,
                    activity="ended",
                    step_id=move.end_step,
                    outcome=move.ended,
                    data={"result": move.ended},
                )
            sim.closed = True
            self.open_cases.pop(sim.case.pk, None)
            return
        for step_id, position in list(move.positions.items()):
            token = (position, position.assigned_at, position.state)
            started = sim.started.get(step_id)
            if started is not None and started[0] is position and started[1:] == token[1:]:
                continue
            self._start(sim, step_id, position, token)

    def _start(self, sim: SimCase, step_id: str, position: Position, token: tuple):
        if position.state not in (PositionState.QUEUED, PositionState.AUTOMATIC, PositionState.WITH_CITIZEN):
            return
        if position.request:
            return  # waits for the applicant's correction: _correction answers it
        sim.started[step_id] = token
        step = sim.plan.definition.step(step_id)
        if position.state == PositionState.QUEUED:
            self.env.process(self._staff_work(sim, step, token))
        elif position.state == PositionState.AUTOMATIC:
            self.env.process(self._automatic(sim, step, token))
        else:
            self.env.process(self._citizen_step(sim, step, token))

    def _current(self, sim: SimCase, step_id: str, token: tuple) -> Position | None:
        if sim.closed or sim.started.get(step_id) is not token:
            return None
        position = sim.positions.get(step_id)
        return position if position is token[0] else None

    # --- staff --------------------------------------------------------------------------------

    def _staff_work(self, sim: SimCase, step: Step, token: tuple):
        scenario, rng = self.scenario, self.rng
        mean_days = scenario.wait_days(service=sim.code, step=step, district_code=sim.district_code)
        planted_hours = mean_days * scenario.erratic_mean_factor(step) * OFFICE_HOURS
        if step.discretionary and rng.random() < scenario.habits.erratic:
            mean_days *= rng.uniform(*scenario.habits.erratic_factor)
        yield self.env.timeout(self._lognormal(mean_days * OFFICE_HOURS))
        if self._current(sim, step.id, token) is None:
            return
        staff = self._staff(step.role, sim)
        if staff is None:
            return  # nobody holds the role here: the step waits, as it would in the city
        # First come, first served among the role's holders: the one free soonest takes it up.
        holder = min(staff, key=_free_at)
        work = self._lognormal(WORK_HOURS.get(step.kind, DEFAULT_WORK_HOURS))
        start = max(self.env.now, holder[0])
        holder[0] = start + work
        if start > self.env.now:
            yield self.env.timeout(start - self.env.now)
        position = self._current(sim, step.id, token)
        if position is None or position.state != PositionState.QUEUED:
            return
        user = holder[1]
        now = self.clock.moment(self.env.now)
        self.history.waits[(sim.code, step.id)].append(
            self.env.now - self.clock.hours_until(position.assigned_at)
        )
        self.history.planted[(sim.code, step.id)].append(planted_hours)
        position.state = PositionState.CLAIMED
        position.assignee_id = user
        position.started_at = now
        self._append(
            sim,
            now,
            activity="claimed",
            step_id=step.id,
            actor_id=user,
            actor_role=position.role,
            assigned_at=position.assigned_at,
            started_at=now,
        )
        yield self.env.timeout(work)
        if self._current(sim, step.id, token) is position:
            self._decide(sim, step, position, user)

    def _decide(self, sim: SimCase, step: Step, position: Position, user: int):
        now = self.clock.moment(self.env.now)
        outcome = self._outcome(sim, step)
        route = self._route(sim, step, outcome)
        move = self._move(sim, now)
        position = move.positions[step.id]
        assigned_at, started_at = position.assigned_at, position.started_at or now
        data, reason = {}, ""
        if outcome == "return":
            sim.returns += 1
            request = {"missing": [], "message": self.rng.choice(RETURN_MESSAGES), "due_days": 10}
            move.return_to_applicant(position, target=route.to, request=request)
            activity, reason = "returned", request["message"]
            data["request"] = request
        else:
            if outcome == "reject":
                reason = self.rng.choice(REJECT_REASONS)
            move.follow(position, route)
            activity = "completed"
        move.settle()
        self._append(
            sim,
            now,
            activity=activity,
            step_id=step.id,
            outcome=outcome,
            actor_id=user,
            actor_role=step.role,
            assigned_at=assigned_at,
            started_at=started_at,
            reason=reason,
            data={**data, **move.data()},
        )
        self._after(sim, move, now)
        if outcome == "return":
            self.env.process(self._correction(sim))

    def _outcome(self, sim: SimCase, step: Step) -> str:
        habits, rng = self.scenario.habits, self.rng
        allowed = {o.outcome for o in step.outcomes}
        counts = self._outcome_counts(sim.plan.definition)
        featured = (
            self.scenario.featured_citizen is not None
            and sim.case.applicant_id == self.scenario.featured_citizen
        )
        if featured and "return" in allowed and sim.returns == 0:
            return "return"  # the demo's own citizen always has a correction to answer or just answered
        if "reject" in allowed and rng.random() < habits.rejected / counts["reject"]:
            return "reject"
        if (
            "return" in allowed
            and sim.returns < habits.max_returns
            and rng.random() < habits.returned / counts["return"]
        ):
            return "return"
        if "refer" in allowed and rng.random() < habits.referred / counts["refer"]:
            return "refer"
        for forward in ("approve", "done"):
            if forward in allowed:
                return forward
        return step.outcomes[0].outcome

    def _outcome_counts(self, definition: Definition) -> dict[str, int]:
        key = ("counts", id(definition))
        counts = self.routes.get(key)
        if counts is None:
            counts = defaultdict(lambda: 1)
            for kind in ("reject", "return", "refer"):
                counts[kind] = max(
                    1, sum(1 for s in definition.steps if any(o.outcome == kind for o in s.outcomes))
                )
            self.routes[key] = counts
        return counts

    def _route(self, sim: SimCase, step: Step, outcome: str) -> Outcome:
        # What routes is the step's outcomes and the answers: variants that leave a step alone
        # share its routes.
        key = (sim.answers_key, _outcomes_key(step), outcome)
        route = self.routes.get(key)
        if route is None:
            route = route_for_outcome(step, outcome, definition=sim.plan.definition, case=sim.case)
            self.routes[key] = route
        return route

    def _staff(self, role: str, sim: SimCase) -> list[list] | None:
        """[free from (simulation time), user id] of each holder of `role` for the case's district."""
        key, holders = self.world.holders(role, sim.case.district_id)
        if not holders:
            self.history.unstaffed.add((role, sim.district_code))
            return None
        staff = self.pools.get(key)
        if staff is None:
            if key[1] is None and len(holders) >= self.partitions:
                holders = holders[self.partition :: self.partitions]  # city-wide staff, shared out
            staff = self.pools[key] = [[0.0, user] for user in holders]
        return staff

    # --- the applicant's side -----------------------------------------------------------------

    def _citizen_step(self, sim: SimCase, step: Step, token: tuple):
        if step.kind == "payment":
            mean_days = PAY_DAYS
        else:
            mean_days = max(1.0, (step.deadline_days or 5) * CITIZEN_STEP_SHARE)
        yield self.env.timeout(self._lognormal(mean_days * OFFICE_HOURS))
        position = self._current(sim, step.id, token)
        if position is None or position.state != PositionState.WITH_CITIZEN or position.request:
            return
        now = self.clock.moment(self.env.now)
        route = self._route(sim, step, "done")
        move = self._move(sim, now)
        position = move.positions[step.id]
        assigned_at = position.assigned_at
        move.follow(position, route)
        move.settle()
        if step.kind == "payment":
            self.references += 1
            self._append(
                sim,
                now,
                activity="paid",
                step_id=step.id,
                outcome="done",
                actor_role=step.role,
                assigned_at=assigned_at,
                started_at=assigned_at,
                data={"amount": self._fee(sim, step), "reference": self._reference(), **move.data()},
            )
        else:
            user, office = sim.side
            self._append(
                sim,
                now,
                activity="completed",
                step_id=step.id,
                outcome="done",
                actor_id=user,
                actor_role=step.role,
                office_id=office,
                assigned_at=assigned_at,
                started_at=now,
                data=move.data(),
            )
        self._after(sim, move, now)

    def _correction(self, sim: SimCase):
        habits, rng = self.scenario.habits, self.rng
        abandons = rng.random() < habits.abandons_correction
        yield self.env.timeout(
            self._lognormal(CORRECTION_DAYS * OFFICE_HOURS) + (30 * OFFICE_HOURS if abandons else 0)
        )
        if sim.closed:
            return
        now = self.clock.moment(self.env.now)
        user, office = sim.side
        if abandons:
            if rng.random() < 0.5:
                self._withdraw(sim, now)
            return
        move = self._move(sim, now)
        waiting = [p for p in move.positions.values() if p.state == PositionState.WITH_CITIZEN and p.request]
        if not waiting:
            return
        for position in sorted(waiting, key=lambda p: p.step_id):
            move.back_to_queue(position)
        move.settle()
        steps = sorted(p.step_id for p in waiting)
        self._append(
            sim,
            now,
            activity="answered",
            step_id=steps[0] if len(steps) == 1 else "",
            actor_id=user,
            office_id=office,
            reason="اصلاح شد و مدرک جدید بارگذاری شد.",
            data={"steps": steps, "suspended_working_days": move.resumed_days or 0},
        )
        self._after(sim, move, now)

    def _withdraw_later(self, sim: SimCase):
        yield self.env.timeout(self.rng.uniform(5, 60) * OFFICE_HOURS)
        if not sim.closed:
            self._withdraw(sim, self.clock.moment(self.env.now))

    def _withdraw(self, sim: SimCase, now):
        move = self._move(sim, now)
        move.close(result="withdrawn")
        move.settle()
        user, office = sim.side
        self._append(
            sim,
            now,
            activity="withdrawn",
            actor_id=user,
            office_id=office,
            reason=self.rng.choice(WITHDRAW_REASONS),
            data=move.data(),
        )
        sim.positions = move.positions
        sim.closed = True
        self.open_cases.pop(sim.case.pk, None)

    # --- automatic steps ----------------------------------------------------------------------

    def _automatic(self, sim: SimCase, step: Step, token: tuple):
        yield self.env.timeout(AUTOMATIC_DELAY_HOURS)
        position = self._current(sim, step.id, token)
        if position is None or position.state != PositionState.AUTOMATIC:
            return
        now = self.clock.moment(self.env.now)
        data = {"action": step.action}
        if step.action == "issue_document":
            data["issued"] = self._issue(sim, step.output, now)
        route = self._route(sim, step, "done")
        move = self._move(sim, now)
        position = move.positions[step.id]
        move.follow(position, route)
        move.settle()
        self._append(
            sim,
            now,
            activity="completed",
            step_id=step.id,
            outcome="done",
            actor_role=step.role,
            assigned_at=position.assigned_at,
            started_at=now,
            data={**data, **move.data()},
        )
        self._after(sim, move, now)

    def _issue(self, sim: SimCase, output_id: str, now) -> str | None:
        output = next((o for o in sim.plan.definition.outputs if o.id == output_id), None)
        if output is None:
            return None
        issued_day = local_date(now)
        prefix = f"{to_jalali(issued_day).year}-{service_short(sim.code)}-"
        # Partitions number in turn (1, 3, 5 … and 2, 4, 6 …) so they never collide.
        sequence = (
            self.numbers.get(prefix, 0) + self.number_counts[prefix] * self.partitions + self.partition + 1
        )
        self.number_counts[prefix] += 1
        valid_until = issued_day + dt.timedelta(days=output.valid_days) if output.valid_days else None
        row = IssuedRow(
            id=self.issued_base + self.issued_count * self.partitions + self.partition,
            case_id=sim.case.pk,
            output_id=output_id,
            number=f"{prefix}{sequence:05d}",
            # Shaped like secrets.token_urlsafe(16), from the seeded generator.
            verification_code=base64.urlsafe_b64encode(self.rng.randbytes(16)).rstrip(b"=").decode(),
            title_fa=output.title.fa,
            title_en=output.title.en or "",
            issued_at=now,
            valid_until=valid_until,
        )
        self.issued_count += 1
        self.history.issued.append(row)
        self._append(
            sim,
            now,
            activity="document_issued",
            data={
                "output": output_id,
                "kind": output.kind,
                "number": row.number,
                "document_id": row.id,
                "sha256": None,
                "valid_until": valid_until.isoformat() if valid_until else None,
            },
        )
        return row.number

    # --- the log ------------------------------------------------------------------------------

    def _append(
        self,
        sim: SimCase,
        now: dt.datetime,
        *,
        activity: str,
        step_id: str = "",
        outcome: str = "",
        actor_id: int | None = None,
        actor_role: str = "",
        office_id: int | None = None,
        assigned_at=None,
        started_at=None,
        reason: str = "",
        data: dict | None = None,
    ) -> None:
        if activity != "escalated":
            self._escalate_due(sim, now)
        case = sim.case
        event = EventRow()
        event.case_id = case.pk
        event.seq = case.event_seq + 1
        event.step_id = step_id
        event.activity = activity
        event.outcome = outcome
        event.actor_id = actor_id
        event.actor_role = actor_role
        event.office_id = office_id
        event.district_id = case.district_id
        event.assigned_at = assigned_at
        event.started_at = started_at
        event.completed_at = now
        event.reason = reason
        event.data = data or {}
        event.prev_hash = case.event_hash
        event.hash = event_hash(event)
        case.event_seq, case.event_hash = event.seq, event.hash
        self.history.events.append(event)

    def _escalate_due(self, sim: SimCase, now: dt.datetime) -> None:
        """The sweep's escalations that happened before `now`: each step the city holds that went
        past its deadline is escalated once, a few minutes after the deadline."""
        due = [
            p
            for p in sim.positions.values()
            if p.state in CITY_STATES
            and p.due_at is not None
            and p.escalated_at is None
            and p.due_at + SWEEP_DELAY <= now
        ]
        for position in sorted(due, key=lambda p: (p.due_at, p.step_id)):
            at = position.due_at + SWEEP_DELAY
            position.escalated_at = at
            self._append(
                sim,
                at,
                activity="escalated",
                step_id=position.step_id,
                assigned_at=position.assigned_at,
                started_at=position.started_at,
                data=json_plain(
                    {
                        "managers": self.world.managers.get(sim.case.district_id, []),
                        "due_at": position.due_at,
                        "assignee": position.assignee_id,
                        "role": position.role,
                    }
                ),
            )

    # --- drawing ------------------------------------------------------------------------------

    def _lognormal(self, mean: float) -> float:
        if mean <= 0:
            return 0.0
        return self.rng.lognormvariate(math.log(mean) - SIGMA * SIGMA / 2, SIGMA)

    def _answers(self, code: str, district, plan: Plan) -> tuple[tuple, dict]:
        """One of a few validated answer sets of the service in the district, with a map point of
        its own inside the district. Conditions and fees read the same values for every case of
        a set, so they are worked out once per set."""
        sets = self.answer_sets.get(code)
        if sets is None:
            sets = []
            for _ in range(ANSWER_SETS):
                cleaned, errors = answers_validate(
                    plan.definition, sample_answers(plan.definition, rng=self.rng)
                )
                if errors:
                    raise ValueError(f"{code}: sample answers do not validate: {errors}")
                sets.append(cleaned)
            self.answer_sets[code] = sets
        if id(plan.definition) not in self.checked:
            _check_shared_answers(plan.definition)
            self.checked.add(id(plan.definition))
        index = self.rng.randrange(len(sets))
        answers = dict(sets[index])
        for field_ in plan.definition.fields:
            if field_.type == "map_point" and field_.id in answers:
                lat, lng = point_in_district(self.rng, district.number)
                answers[field_.id] = {"lat": round(lat, 6), "lng": round(lng, 6)}
        return (code, index), answers

    def _fee(self, sim: SimCase, step: Step) -> int:
        key = (sim.answers_key, self._fees_key(sim.plan.definition), step.id)
        amount = self.fees.get(key)
        if amount is None:
            amount = sum(
                a for _fee, a in fees_for_step(sim.plan.definition, step_id=step.id, answers=sim.case.answers)
            )
            self.fees[key] = amount
        return amount

    def _fees_key(self, definition: Definition) -> tuple:
        key = self.routes.get(("fees", id(definition)))
        if key is None:
            key = self.routes[("fees", id(definition))] = tuple(
                (f.id, f.step, f.when, f.amount) for f in definition.fees
            )
        return key

    def _reference(self) -> str:
        return f"{self.scenario.seed % 1000:03d}{self.partition}{self.references:08d}"

    def _channel(self, definition: Definition, district_id: int) -> tuple[str, int | None, int | None]:
        """(channel, filed by, office) for a new case."""
        habits, rng = self.scenario.habits, self.rng
        draw = rng.random()
        if "counter" in definition.channels and draw < habits.counter:
            _key, clerks = self.world.holders("clerk", district_id)
            if clerks:
                return "counter", rng.choice(clerks), None
        offices = self.world.offices.get(district_id)
        if (
            "office" in definition.channels
            and offices
            and (draw >= habits.counter + habits.online or "online" not in definition.channels)
        ):
            office_id, operators = rng.choice(offices)
            return "office", rng.choice(operators), office_id
        return "online", None, None


def _outcomes_key(step: Step) -> tuple:
    return (step.id, tuple((o.outcome, o.to, o.when) for o in step.outcomes))


def _free_at(holder: list) -> float:
    return holder[0]


def _check_shared_answers(definition: Definition) -> None:
    """The simulator gives each case its own map point but shares the rest of an answer set, and
    works conditions and fees out once per set; that is only sound when no condition or fee reads
    a map point, and when no field names the district (the answer sets are the city's)."""
    if any(f.id == "district" for f in definition.fields):
        raise ValueError(f"{definition.code}: a field names the district; the simulator cannot share answers")
    points = {f.id for f in definition.fields if f.type == "map_point"}
    if not points:
        return
    sources = [f.when for f in definition.fees if f.when] + [f.amount for f in definition.fees]
    sources += [o.when for s in definition.steps for o in s.outcomes if o.when]
    for source in sources:
        if isinstance(source, str) and expression_names(source) & points:
            raise ValueError(
                f"{definition.code}: an expression reads a map point; the simulator cannot share answers"
            )
