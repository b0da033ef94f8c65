"""`pishkhan bench sweep`: what the deadline sweep and the managers' counts cost with a city's
worth of open steps, against reading every open step once.

In a throwaway database (bench/database.py): the shipped bank, one district, one building-permit
case filed through the engine, then `cases` copies of it written in bulk, each with
STEPS_PER_CASE open steps over ROLES roles in the states a city has (mostly queued, some claimed,
with the applicant, waiting for a join), their deadlines spread from a month ago to two months
ahead. A third are overdue and already escalated, and one sweep runs untimed first: the steady
state of a sweep that runs every few minutes, with nothing new to mark or escalate.

Figures, medians of REPEATS runs each, in milliseconds and as a ratio to the baseline:
- baseline: one SELECT reading the state, deadline and alert of every open step in the database
  (the table read once, one row back), the least a pass over every step costs;
- sweep: `cases.sweep.deadlines_sweep()` as the worker runs it (the three marking UPDATEs, the
  escalation candidates, the automatic steps left waiting);
- workload: `cases.selectors.workload()`, the managers' counts of open work.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from dataclasses import dataclass

from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from .figures import Figures

STEPS_PER_CASE = 20
ROLES = 30
REPEATS = 5
# Mostly in staff queues; the rest claimed, with the applicant or waiting for a join.
STATES = ("queued",) * 6 + ("claimed",) * 2 + ("with_citizen", "waiting_join")


@dataclass
class SweepFigures(Figures):
    database: str
    open_steps: int
    baseline_ms: float
    sweep_ms: float
    sweep_ratio: float
    workload_ms: float
    workload_ratio: float


def bench_sweep(*, cases: int = 10_000, out=print) -> SweepFigures:
    """Create a throwaway database, fill it, measure, destroy it; return the figures."""
    from .database import throwaway_database

    with (
        throwaway_database(),
        override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}),
    ):
        return _measure(cases=cases, out=out)


def _measure(*, cases: int, out) -> SweepFigures:
    from pishkhan.cases.models import Position
    from pishkhan.cases.selectors import workload
    from pishkhan.cases.sweep import deadlines_sweep

    now = timezone.now()
    steps = _fill(cases=cases, now=now)
    out(
        f"database: {connection.vendor}; {steps:,} open steps ({cases:,} cases of {STEPS_PER_CASE}, "
        f"{ROLES} roles), a third overdue and escalated"
    )
    table = connection.ops.quote_name(Position._meta.db_table)

    def read_every_step():
        with connection.cursor() as cursor:
            # Every row's columns read by the database, one row back: the table scan alone.
            cursor.execute(f"SELECT max(state), max(due_at), max(alert) FROM {table}")  # noqa: S608 - the model's table
            cursor.fetchall()

    deadlines_sweep(now=now)  # the marks a sweep five minutes earlier would have left
    baseline = _median_ms(read_every_step)
    sweep = _median_ms(lambda: deadlines_sweep(now=now))
    counts = _median_ms(lambda: workload(now=now))
    out(f"baseline: {baseline:,.1f} ms to read every open step once (state, deadline, alert)")
    out(f"sweep: {sweep:,.1f} ms ({sweep / baseline:.1f}× the baseline)")
    out(f"workload counts: {counts:,.1f} ms ({counts / baseline:.1f}× the baseline)")
    return SweepFigures(
        database=connection.vendor,
        open_steps=steps,
        baseline_ms=baseline,
        sweep_ms=sweep,
        sweep_ratio=sweep / baseline,
        workload_ms=counts,
        workload_ratio=counts / baseline,
    )


def _median_ms(work) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _fill(*, cases: int, now: dt.datetime) -> int:
    """`cases` copies of one filed building permit, each with STEPS_PER_CASE open steps; returns
    how many steps. Written in bulk: the engine would take hours to get there."""
    from pishkhan.cases.models import Case, Position

    from .engine import _seed, _submit

    world = _seed()
    template = _submit(world)
    copies = []
    for n in range(cases):
        copy = Case(**{f.attname: getattr(template, f.attname) for f in Case._meta.concrete_fields})
        copy.pk, copy.tracking_code = None, f"9{n:011d}"
        copies.append(copy)
    Case.objects.bulk_create(copies, batch_size=2000)
    Position.objects.filter(case=template).delete()
    draw = random.Random(cases)  # noqa: S311 - the same city for the same size, not a secret
    positions = []
    for case_id in Case.objects.exclude(pk=template.pk).values_list("pk", flat=True).iterator():
        for k in range(STEPS_PER_CASE):
            due = now + dt.timedelta(hours=draw.uniform(-24 * 30, 24 * 60))
            positions.append(
                Position(
                    case_id=case_id,
                    step_id=f"step{k}",
                    role=f"role{draw.randrange(ROLES)}",
                    district=world.district,
                    state=draw.choice(STATES),
                    assigned_at=now - dt.timedelta(days=3),
                    due_at=due,
                    escalated_at=now - dt.timedelta(minutes=5) if due < now else None,
                )
            )
    Position.objects.bulk_create(positions, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what a city's database has after its routine maintenance
    return len(positions)
