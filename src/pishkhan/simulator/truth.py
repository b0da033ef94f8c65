"""The ground truth of a simulation: what it planted, written beside its output so analytics can
be tested against it — the slow districts and steps, the discretionary steps and their erratic
waits, the variants each district runs, and the mean wait of every step (planted and as it came
out, queueing for busy staff included), in working days."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from .clock import working_days
from .play import History
from .scenario import Scenario
from .world import World

TRUTH_FORMAT = "pishkhan/simulation-truth/1"


def truth_build(*, scenario: Scenario, world: World, history: History) -> dict:
    planted = scenario.planted
    definitions = {code: world.plans[(code, world.districts[0].pk)].definition for code in scenario.services}
    district_codes = {d.pk: d.code for d in world.districts}
    steps = []
    for (service, step_id), waits in sorted(history.waits.items()):
        step = definitions[service].step(step_id)
        steps.append(
            {
                "service": service,
                "step": step_id,
                "kind": step.kind if step else "",
                "role": step.role if step else "",
                "discretionary": bool(step and step.discretionary),
                "taken_up": len(waits),
                "planted_mean_wait_days": round(
                    working_days(statistics.fmean(history.planted[(service, step_id)])), 3
                ),
                "observed_mean_wait_days": round(working_days(statistics.fmean(waits)), 3),
            }
        )
    return {
        "format": TRUTH_FORMAT,
        "seed": scenario.seed,
        "end": scenario.end.isoformat(),
        "days": scenario.days,
        "services": dict(sorted(scenario.services.items())),
        "habits": {
            "returned": scenario.habits.returned,
            "rejected": scenario.habits.rejected,
            "withdrawn": scenario.habits.withdrawn,
            "referred": scenario.habits.referred,
            "abandons_correction": scenario.habits.abandons_correction,
            "erratic_share": scenario.habits.erratic,
            "erratic_factor": list(scenario.habits.erratic_factor),
        },
        "slow_districts": [
            {"district": code, "wait_factor": factor}
            for code, factor in sorted(planted.slow_districts.items())
        ],
        "slow_signatures": [
            {"district": code, "wait_factor": factor}
            for code, factor in sorted(planted.slow_signatures.items())
        ],
        "slow_steps": [
            {"service": service, "step": step, "wait_factor": factor}
            for (service, step), factor in sorted(planted.slow_steps.items())
        ],
        "discretionary_steps": [
            {"service": code, "step": s.id, "signature": bool(s.signature)}
            for code, definition in sorted(definitions.items())
            for s in definition.steps
            if s.discretionary
        ],
        "variants": [
            {"service": code, "district": district_codes[district_id], "variant": plan.variant.pk}
            for (code, district_id), plan in sorted(world.plans.items())
            if plan.variant is not None
        ],
        "steps": steps,
        "unstaffed": [{"role": role, "district": district} for role, district in sorted(history.unstaffed)],
    }


def truth_write(truth: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
