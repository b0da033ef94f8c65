"""A small demo city with a short history, for the tests that sign the personas in: the five main
services as shipped (with their district variants and the building permit's version-2 draft),
every district's staff and the personas, a few offices and citizens, and the demo's history
squeezed into a few weeks. Seeding and playing take about six seconds.

    demo_bank_copy(folder) -> Path          the main services' part of the shipped bank
    small_demo_city_seed() -> SimulationReport

Why a few weeks rather than a small year: what waits in a queue at the end depends on how many
cases arrive a day, not on how many arrive in all. `pishkhan demo` files 30,000 cases a year,
about 82 a day; a year of 1,500 cases (4 a day, one every few days in district 1) leaves the
personas' queues nearly empty, while the same daily load over HISTORY_DAYS fills them as the
full demo does — with the demo's mix, seed and featured citizen (demo.history).

Played in this process (workers=1): a test's database lives in its transaction (or in memory),
which a forked worker cannot see."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.conf import settings

from pishkhan.accounts.models import User
from pishkhan.demo.history import DEMO_SEED, FEATURED_CASES, demo_mix
from pishkhan.demo.seed import DEMO_CITIZEN_MOBILE, MAIN_SERVICES, seed_demo_city
from pishkhan.simulator.scenario import Scenario
from pishkhan.simulator.services import SimulationReport, simulation_run

# The simulated period ends here; pages compare deadlines with the real clock, which is later.
HISTORY_END = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
HISTORY_CASES = 2000
HISTORY_DAYS = 24  # 2,000 cases in 24 days: the full demo's 82 a day
CITIZENS = 200
OFFICES = 30


def demo_bank_copy(folder: Path) -> Path:
    """Copy the shipped definitions of the main services into `folder`: every version file
    (`building-permit.yaml`, the draft `building-permit.v2.yaml`) and the district variants."""
    bank = Path(settings.PROCESS_BANK_DIR)
    (folder / "variants").mkdir(parents=True, exist_ok=True)
    for code in MAIN_SERVICES:
        for path in [bank / f"{code}.yaml", *bank.glob(f"{code}.v*.yaml")]:
            shutil.copy(path, folder / path.name)
        for variant in (bank / "variants").glob(f"{code}.*.yaml"):
            shutil.copy(variant, folder / "variants" / variant.name)
    return folder


def small_demo_city_seed() -> SimulationReport:
    """Seed the small city and play its history (needs the standard roles and a bank made by
    demo_bank_copy in settings.PROCESS_BANK_DIR)."""
    seed_demo_city(citizens=CITIZENS, offices=OFFICES)
    citizen = User.objects.get(mobile=DEMO_CITIZEN_MOBILE)
    scenario = Scenario(
        services=demo_mix(HISTORY_CASES),
        seed=DEMO_SEED,
        end=HISTORY_END,
        days=HISTORY_DAYS,
        featured_citizen=citizen.pk,
        featured_cases=FEATURED_CASES,
    )
    return simulation_run(scenario=scenario, workers=1)
