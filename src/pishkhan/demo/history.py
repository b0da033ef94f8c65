"""A year of the demo city's history, played by the simulator on the five main services.

    demo_history_seed(*, truth_path, cases=DEMO_CASES, now=None, workers=None) -> SimulationReport | None

Made once: a `demo.history` record in the audit log says the city has its history, and a second
`pishkhan demo` leaves it alone (returns None). The mix follows what a big city sees in a year —
many certificates, fewer permits, a few hundred building permits whose 129 steps make most events.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pishkhan.accounts.models import User
from pishkhan.core.audit import audit_record
from pishkhan.core.models import AuditEvent
from pishkhan.simulator.scenario import Scenario
from pishkhan.simulator.services import SimulationReport, simulation_run

from .seed import DEMO_CITIZEN_MOBILE

DEMO_SEED = 1404
DEMO_CASES = 30_000
# Shares of the year's cases (they add up to 1).
DEMO_MIX = {
    "no-violation-certificate": 0.39,
    "tax-clearance-certificate": 0.38,
    "excavation-permit": 0.14,
    "completion-certificate": 0.075,
    "building-permit": 0.015,
}
FEATURED_CASES = 12  # recent cases of the demo citizen, so "my cases" has work in it
HISTORY_ACTION = "demo.history"


def demo_mix(cases: int) -> dict[str, int]:
    """`cases` shared out by DEMO_MIX: each service at least one, the total exactly `cases` (the
    remainders of the shares go to the largest fractions)."""
    exact = {code: cases * share for code, share in DEMO_MIX.items()}
    counts = {code: int(value) for code, value in exact.items()}
    for code in sorted(exact, key=lambda c: exact[c] - counts[c], reverse=True)[
        : cases - sum(counts.values())
    ]:
        counts[code] += 1
    return {code: max(1, count) for code, count in counts.items()}


def demo_history_exists() -> bool:
    return AuditEvent.objects.filter(action=HISTORY_ACTION).exists()


def demo_history_seed(
    *,
    truth_path: Path | None,
    cases: int = DEMO_CASES,
    now: dt.datetime | None = None,
    seed: int = DEMO_SEED,
    workers: int | None = None,
) -> SimulationReport | None:
    """Play the demo city's year (about `cases` cases) unless it was played already. `workers`
    goes to simulation_run: 1 plays in this process, which a caller inside a transaction (a test)
    needs, since forked processes cannot see its uncommitted rows."""
    if demo_history_exists():
        return None
    counts = demo_mix(cases)
    citizen = User.objects.filter(mobile=DEMO_CITIZEN_MOBILE).values_list("pk", flat=True).first()
    scenario = Scenario(
        services=counts, seed=seed, end=now, featured_citizen=citizen, featured_cases=FEATURED_CASES
    )
    report = simulation_run(scenario=scenario, truth_path=truth_path, workers=workers)
    audit_record(
        action=HISTORY_ACTION,
        actor_label="pishkhan demo",
        subject="demo",
        data={"seed": seed, "cases": report.cases, "events": report.events, "services": counts},
    )
    return report
