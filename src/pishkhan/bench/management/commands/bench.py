import json
from json import dumps

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Benchmarks that print ratios against a baseline measured in the same run, in a throwaway "
        "database on the configured server (SQLite file by default; PostgreSQL with DATABASE_URL)."
    )

    def add_arguments(self, parser):
        benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
        engine = benches.add_parser(
            "engine",
            help="Case engine: the baseline (transactions/s of BEGIN, INSERT one event row, UPDATE one case "
            "row, COMMIT, as plain SQL through Django's cursor, with the same durability as the engine: "
            "SQLite WAL + synchronous=FULL, PostgreSQL as configured), transitions/s through the 129-step "
            "building permit, their ratio, statements and round trips per transition and per baseline "
            "transaction, submissions/s and status look-ups/s.",
        )
        engine.add_argument(
            "--cases", type=int, default=5, help="Cases walked through the permit (default 5)."
        )
        engine.add_argument(
            "--baseline", type=int, default=2000, help="Transactions in the raw baseline (default 2000)."
        )
        engine.add_argument("--lookups", type=int, default=500, help="Status look-ups (default 500).")
        engine.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
        sweep = benches.add_parser(
            "sweep",
            help="Deadline sweep: the baseline (reading every open step once), the sweep's steady-state "
            "pass and the managers' workload counts, in ms and as ratios to the baseline, with a city's "
            "worth of open steps (20 per case).",
        )
        sweep.add_argument(
            "--cases", type=int, default=10_000, help="Open cases of 20 open steps each (default 10,000)."
        )
        sweep.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
        simulate = benches.add_parser(
            "simulate",
            help="Simulator: event rows/s the database takes through the bulk path (baseline), simulated "
            "events/s of a whole simulation (play, hash, write), and their ratio.",
        )
        simulate.add_argument("--cases", type=int, default=3000, help="Cases simulated (default 3000).")
        simulate.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes to play in (default: one per core, at most 2).",
        )
        simulate.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")

    def handle(self, *args, bench, **options):
        if bench == "simulate":
            self.simulate(**options)
            return
        if bench == "sweep":
            self.sweep(**options)
            return
        from pishkhan.bench.engine import bench_engine

        quiet = options["json"]
        figures = bench_engine(
            cases=options["cases"],
            baseline_transactions=options["baseline"],
            lookups=options["lookups"],
            out=(lambda line: None) if quiet else self.stdout.write,
        )
        if quiet:
            self.stdout.write(json.dumps(figures.as_dict()))
            return
        self.stdout.write(
            f"ratio: {figures.ratio:.2f} of the raw baseline (target ≥ 0.5)\n"
            f"submissions: {figures.submissions_per_s:,.1f}/s\n"
            f"status look-ups: {figures.status_lookups_per_s:,.0f}/s"
        )

    def sweep(self, *, cases, json: bool, **options):
        from pishkhan.bench.sweep import bench_sweep

        if not 1 <= cases <= 100_000:
            raise CommandError("--cases must be between 1 and 100,000.")
        figures = bench_sweep(cases=cases, out=(lambda line: None) if json else self.stdout.write)
        if json:
            self.stdout.write(dumps(figures.as_dict()))

    def simulate(self, *, cases, workers, json: bool, **options):
        from pishkhan.bench.simulate import bench_simulate

        if not 1 <= cases <= 1_000_000:
            raise CommandError("--cases must be between 1 and 1,000,000.")
        figures = bench_simulate(
            cases=cases, workers=workers, out=(lambda line: None) if json else self.stdout.write
        )
        if json:
            self.stdout.write(dumps(figures.as_dict()))
            return
        self.stdout.write(
            f"ratio: {figures.ratio:.2f} of the baseline's rows/s\n"
            f"simulated events/s: {figures.simulated_events_per_s:,.0f}"
        )
