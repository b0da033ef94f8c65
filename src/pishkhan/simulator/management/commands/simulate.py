import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from pishkhan.simulator.scenario import Scenario
from pishkhan.simulator.services import simulation_run


class Command(BaseCommand):
    help = (
        "Play a service's cases over the past year with the engine's rules and append them to the "
        "database: `pishkhan simulate --service excavation-permit --cases 500 --seed 7`. The same "
        "seed on the same city gives the same history. Writes the ground truth (slow districts and "
        "steps, discretionary steps, mean waits) beside the data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--service", action="append", required=True, help="Service code (repeatable).")
        parser.add_argument("--cases", type=int, default=500, help="Cases per service (default 500).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--days", type=int, default=365, help="Length of the period in days (default 365)."
        )
        parser.add_argument("--until", help="End of the period, ISO 8601 with a time zone (default: now).")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes to play in (default: one per core, at most 2); the history does not depend on it.",
        )
        parser.add_argument(
            "--truth", help="Where to write the ground truth (default: DATA_DIR/simulation/truth-seedS.json)."
        )

    def handle(self, *args, service, cases, seed, days, until, truth, workers, **options):
        if cases < 1 or cases > 1_000_000:
            raise CommandError("--cases must be between 1 and 1,000,000.")
        if workers is not None and not 1 <= workers <= 64:
            raise CommandError("--workers must be between 1 and 64.")
        if days < 1 or days > 3660:
            raise CommandError("--days must be between 1 and 3,660.")
        end = None
        if until:
            end = parse_datetime(until)
            if end is None or end.tzinfo is None:
                raise CommandError(
                    "--until must be an ISO 8601 date and time with a time zone, e.g. 2026-11-21T12:00:00+03:30."
                )
            end = end.astimezone(dt.UTC)
        path = Path(truth) if truth else settings.DATA_DIR / "simulation" / f"truth-seed{seed}.json"
        scenario = Scenario(services={code: cases for code in service}, seed=seed, end=end, days=days)
        try:
            report = simulation_run(scenario=scenario, truth_path=path, workers=workers)
        except (LookupError, ValueError) as error:
            raise CommandError(str(error)) from None
        for line in report.lines():
            self.stdout.write(line)
