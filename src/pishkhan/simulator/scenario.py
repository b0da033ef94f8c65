"""What a simulation plays: how many cases of which services, over which period, and the city's
habits — how long steps wait and take, how often work is returned, rejected or withdrawn — with
the slow districts and slow steps it plants. Everything random is drawn from one seeded generator,
so the same scenario and seed give the same history.

The planted facts are what analytics must find again; `Scenario.truth()` writes them down.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from pishkhan.catalog.definition import Definition, Step

# Mean working days a step waits in its queue before someone takes it up, by step kind.
BASE_WAIT_DAYS = {"review": 0.8, "inspection": 2.0, "signature": 1.2}
DEFAULT_WAIT_DAYS = 1.0
# Mean working hours of the work itself once taken up (a visit's share of an inspector's round).
WORK_HOURS = {"review": 0.3, "inspection": 0.7, "signature": 0.1}
DEFAULT_WORK_HOURS = 0.3
# The citizen's side, in working days.
PAY_DAYS = 1.5
CORRECTION_DAYS = 3.0
CITIZEN_STEP_SHARE = 0.6  # of the step's deadline: citizens' own steps (works on site …)


@dataclass
class Habits:
    """The city's habits; rates are per case (spread over the steps that allow the outcome)."""

    returned: float = 0.22  # cases returned for correction at least once
    rejected: float = 0.07
    withdrawn: float = 0.03
    referred: float = 0.05
    abandons_correction: float = 0.12  # of returns: the applicant never answers
    online: float = 0.55  # channel shares (office takes the rest but counter)
    counter: float = 0.05
    erratic: float = 0.3  # of a discretionary step's cases: a long, unexplained wait
    erratic_factor: tuple[float, float] = (4.0, 10.0)
    max_returns: int = 3


@dataclass
class Planted:
    """The slow districts and steps of this run, drawn from the seed."""

    slow_districts: dict[str, float] = field(default_factory=dict)  # district code → wait factor
    slow_steps: dict[tuple[str, str], float] = field(default_factory=dict)  # (service, step) → factor
    slow_signatures: dict[str, float] = field(default_factory=dict)  # district code → factor


@dataclass
class Scenario:
    """`services`: service code → number of cases submitted over the period, which ends at `end`
    (the simulation's "now") and lasts `days` calendar days."""

    services: dict[str, int]
    seed: int = 1
    end: dt.datetime | None = None
    days: int = 365
    habits: Habits = field(default_factory=Habits)
    planted: Planted = field(default_factory=Planted)
    featured_citizen: int | None = None  # a citizen (user id) who gets some recent cases
    featured_cases: int = 0

    def plant(self, *, district_codes: list[str], definitions: dict[str, Definition], rng: random.Random):
        """Choose the slow districts and steps (unless set already)."""
        if not self.planted.slow_districts and len(district_codes) > 3:
            for code in rng.sample(district_codes, 3):
                self.planted.slow_districts[code] = round(rng.uniform(2.5, 4.0), 2)
        if not self.planted.slow_signatures and len(district_codes) > 3:
            for code in rng.sample(district_codes, 2):
                self.planted.slow_signatures[code] = round(rng.uniform(3.0, 6.0), 2)
        if not self.planted.slow_steps:
            for code, definition in sorted(definitions.items()):
                staff_steps = [s for s in definition.steps if s.kind in BASE_WAIT_DAYS]
                for step in rng.sample(staff_steps, min(2, len(staff_steps))):
                    self.planted.slow_steps[(code, step.id)] = round(rng.uniform(3.0, 6.0), 2)

    def wait_days(self, *, service: str, step: Step, district_code: str) -> float:
        """The planted mean working days `step` waits in its queue in that district (the erratic
        waits of discretionary steps come on top, see `erratic_mean_factor`)."""
        days = BASE_WAIT_DAYS.get(step.kind, DEFAULT_WAIT_DAYS)
        days *= self.planted.slow_districts.get(district_code, 1.0)
        days *= self.planted.slow_steps.get((service, step.id), 1.0)
        if step.signature or step.kind == "signature":
            days *= self.planted.slow_signatures.get(district_code, 1.0)
        return days

    def erratic_mean_factor(self, step: Step) -> float:
        """How much a step's mean wait grows from its erratic waits (1 for most steps)."""
        if not step.discretionary:
            return 1.0
        low, high = self.habits.erratic_factor
        return 1 + self.habits.erratic * ((low + high) / 2 - 1)
