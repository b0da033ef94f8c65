"""Running a simulation into the city's database.

    simulation_run(*, scenario, truth_path=None, workers=None) -> SimulationReport

The city's districts are split into PARTITIONS groups of about equal load, each played by its own
process (forked, so the world read once is shared) — districts share no staff but the city-wide
roles, whose holders are shared out between the groups. The split does not depend on the number
of processors: the same seed gives the same history on any machine.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from pishkhan.cases.models import Case, CaseStatus, IssuedDocument, Position
from pishkhan.cases.sweep import alerts_mark
from pishkhan.core.calendar import local_date, working_calendar

from .clock import WorkClock
from .play import Simulation, arrivals_draw, district_weights, partitions_split
from .scenario import Scenario
from .store import history_rows, rows_store, sequences_reset
from .truth import truth_build, truth_write
from .world import world_load

PARTITIONS = 2


@dataclass
class SimulationReport:
    cases: int
    events: int
    open_cases: int
    open_steps: int
    overdue_steps: int
    play_seconds: float
    store_seconds: float
    truth_path: Path | None
    unstaffed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / max(self.play_seconds + self.store_seconds, 1e-9)

    def lines(self) -> list[str]:
        out = [
            f"{self.cases:,} cases, {self.events:,} events ({self.open_cases:,} cases open, "
            f"{self.open_steps:,} open steps, {self.overdue_steps:,} overdue today)",
            f"played in {self.play_seconds:.1f} s, written in {self.store_seconds:.1f} s "
            f"({self.events_per_second:,.0f} events/s)",
        ]
        if self.truth_path:
            out.append(f"ground truth: {self.truth_path}")
        if self.unstaffed:
            out.append(
                "steps waiting for a role nobody holds: "
                + ", ".join(f"{role} in {district}" for role, district in self.unstaffed)
            )
        return out


@dataclass
class _Played:
    """What one partition's process hands back: rows ready to write, and what the truth needs."""

    rows: dict[str, list[tuple]]
    waits: dict
    planted: dict
    unstaffed: set
    open_cases: int


# The job the forked processes read (set just before forking; a fork shares it without pickling).
_JOB: dict = {}


def simulation_run(
    *, scenario: Scenario, truth_path: Path | None = None, workers: int | None = None
) -> SimulationReport:
    """Play `scenario` over the city as it is (districts, staff, offices, citizens, published
    definitions), append the history to the database and mark the open steps' deadlines as the
    worker's sweep would; write the ground truth to `truth_path` when given. `workers`: processes
    to play in (default: one per partition, at most the processors there are).

    Raises LookupError when a service is missing from the bank or the city has no citizens."""
    started = time.perf_counter()
    scenario.end = scenario.end or timezone.now()
    calendar = working_calendar()
    world = world_load(service_codes=list(scenario.services), today=local_date(scenario.end))
    if not world.citizens:
        raise LookupError("the city has no citizens to file cases")
    rng = random.Random(scenario.seed)  # noqa: S311 - simulated data, not secrets
    definitions = {code: world.plans[(code, world.districts[0].pk)].definition for code in scenario.services}
    scenario.plant(district_codes=[d.code for d in world.districts], definitions=definitions, rng=rng)
    # Reads every working day of the period (and the closures) now, before any fork.
    clock = WorkClock(
        start=local_date(scenario.end) - dt.timedelta(days=scenario.days),
        end=local_date(scenario.end),
        calendar=calendar,
    )
    weights = district_weights(world, rng)
    arrivals = arrivals_draw(
        scenario=scenario,
        weights=weights,
        horizon=clock.hours_until(scenario.end),
        rng=rng,
        first_case_id=(Case.objects.aggregate(n=Max("pk"))["n"] or 0) + 1,
        taken_codes=set(Case.objects.values_list("tracking_code", flat=True)),
    )
    groups = partitions_split(weights, PARTITIONS)
    _JOB.update(
        scenario=scenario,
        world=world,
        calendar=calendar,
        clock=clock,
        arrivals=[[a for a in arrivals if a.district in group] for group in groups],
        issued_base=(IssuedDocument.objects.aggregate(n=Max("pk"))["n"] or 0) + 1,
        numbers=_last_numbers(),
        postgres=connection.vendor == "postgresql",
    )
    workers = max(1, min(workers or os.cpu_count() or 1, PARTITIONS))
    try:
        if workers == 1:
            played = [_play(p) for p in range(PARTITIONS)]
        else:
            connections.close_all()  # the children must not share the parent's connection
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                played = pool.map(_play, range(PARTITIONS))
    finally:
        _JOB.clear()
    playing_done = time.perf_counter()
    with transaction.atomic():
        rows_store([part.rows for part in played])
        sequences_reset()
    alerts_mark(now=scenario.end, calendar=calendar)
    stored = time.perf_counter()
    history = _merged(played)
    if truth_path is not None:
        truth_write(truth_build(scenario=scenario, world=world, history=history), truth_path)
    first = arrivals[0].case_id if arrivals else 0
    return SimulationReport(
        cases=len(arrivals),
        events=sum(len(p.rows["events"]) for p in played),
        open_cases=sum(p.open_cases for p in played),
        open_steps=sum(len(p.rows["positions"]) for p in played),
        overdue_steps=Position.objects.filter(alert="overdue", case_id__gte=first).count() if arrivals else 0,
        play_seconds=playing_done - started,
        store_seconds=stored - playing_done,
        truth_path=truth_path,
        unstaffed=sorted(history.unstaffed),
    )


def _play(partition: int) -> _Played:
    job = _JOB
    simulation = Simulation(
        scenario=job["scenario"],
        world=job["world"],
        calendar=job["calendar"],
        clock=job["clock"],
        arrivals=job["arrivals"][partition],
        issued_base=job["issued_base"],
        numbers=job["numbers"],
        partition=partition,
        partitions=PARTITIONS,
    )
    history = simulation.run()
    return _Played(
        rows=history_rows(history, postgres=job["postgres"]),
        waits=dict(history.waits),
        planted=dict(history.planted),
        unstaffed=history.unstaffed,
        open_cases=sum(1 for case in history.cases if case.status not in CaseStatus.closed()),
    )


def _merged(played: list[_Played]):
    from .play import History

    history = History()
    for part in played:
        for key, values in part.waits.items():
            history.waits[key].extend(values)
        for key, values in part.planted.items():
            history.planted[key].extend(values)
        history.unstaffed |= part.unstaffed
    return history


def _last_numbers() -> dict[str, int]:
    """The last sequence used for each issued-document number prefix (`1404-BP-`)."""
    last: dict[str, int] = {}
    for number in IssuedDocument.objects.values_list("number", flat=True):
        prefix, _sep, sequence = number.rpartition("-")
        if sequence.isdigit():
            last[prefix + "-"] = max(last.get(prefix + "-", 0), int(sequence))
    return last
