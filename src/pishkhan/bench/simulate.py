"""`pishkhan bench simulate`: how fast the simulator makes history, against the database's own
speed of taking event rows.

In a throwaway database (bench/database.py) with a small demo city (all districts and staff, the
five main services):
- baseline: event rows/s the database takes through the simulator's own bulk path (executemany on
  SQLite, COPY on PostgreSQL) for rows made in advance — the ceiling of any history writer;
- simulated: events/s of a whole simulation (playing with SimPy in the partitions' processes,
  hashing, writing), and the playing and writing apart;
- ratio = simulated ÷ baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .figures import Figures

BENCH_SEED = 99


@dataclass
class SimulateFigures(Figures):
    database: str
    cases: int
    events: int
    baseline_rows_per_s: float
    simulated_events_per_s: float
    ratio: float
    play_seconds: float
    store_seconds: float


def bench_simulate(*, cases: int = 3000, workers: int | None = None, out=print) -> SimulateFigures:
    from .database import throwaway_database

    with throwaway_database():
        return _measure(cases=cases, workers=workers, out=out)


def _measure(*, cases: int, workers: int | None, out) -> SimulateFigures:
    from pishkhan.accounts.models import Role
    from pishkhan.accounts.roles import STANDARD_ROLES
    from pishkhan.demo.history import demo_mix
    from pishkhan.demo.seed import seed_demo_city
    from pishkhan.simulator.scenario import Scenario
    from pishkhan.simulator.services import simulation_run

    Role.objects.bulk_create(
        [Role(code=c, name_fa=fa, name_en=en, description=d) for c, fa, en, d in STANDARD_ROLES],
        ignore_conflicts=True,
    )
    seed_demo_city(citizens=500, offices=40)
    mix = demo_mix(cases)
    scenario = Scenario(services=mix, seed=BENCH_SEED, end=timezone.now())
    out(f"database: {connection.vendor}; simulating {sum(mix.values()):,} cases of {len(mix)} services")
    report = simulation_run(scenario=scenario, workers=workers)
    simulated = report.events / (report.play_seconds + report.store_seconds)
    out(
        f"simulated: {report.events:,} events in {report.play_seconds + report.store_seconds:.1f} s = "
        f"{simulated:,.0f} events/s (playing {report.play_seconds:.1f} s, writing {report.store_seconds:.1f} s)"
    )
    baseline = _baseline(rows=min(report.events, 200_000))
    out(f"baseline: {baseline:,.0f} event rows/s (rows made in advance, the same bulk path)")
    return SimulateFigures(
        database=connection.vendor,
        cases=report.cases,
        events=report.events,
        baseline_rows_per_s=baseline,
        simulated_events_per_s=simulated,
        ratio=simulated / baseline,
        play_seconds=report.play_seconds,
        store_seconds=report.store_seconds,
    )


def _baseline(*, rows: int) -> float:
    """Rows/s of writing `rows` event rows shaped like the simulated ones (copied from them, onto
    one case with fresh sequence numbers) through the simulator's bulk path, in one transaction."""
    from pishkhan.cases.models import CaseEvent
    from pishkhan.simulator.play import EventRow, History
    from pishkhan.simulator.store import history_rows, rows_store

    template = list(CaseEvent.objects.order_by("pk")[:1000])
    history = History()
    for n in range(rows):
        source, event = template[n % len(template)], EventRow()
        for name in EventRow.__slots__:
            setattr(event, name, getattr(source, name))
        event.case_id, event.seq = template[0].case_id, 1_000_000 + n
        history.events.append(event)
    prepared = history_rows(history, postgres=connection.vendor == "postgresql")
    started = time.perf_counter()
    with transaction.atomic():
        rows_store({"events": prepared["events"]})
    return rows / (time.perf_counter() - started)
