import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Benchmarks that print ratios against a baseline measured in the same run, in a throwaway "
        "database on the configured server (SQLite file by default; PostgreSQL with DATABASE_URL)."
    )

    def add_arguments(self, parser):
        benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
        engine = benches.add_parser(
            "engine",
            help="Case engine: raw insert+update baseline, transitions/s through the 129-step building permit, "
            "their ratio, submissions/s and status look-ups/s.",
        )
        engine.add_argument(
            "--cases", type=int, default=5, help="Cases walked through the permit (default 5)."
        )
        engine.add_argument(
            "--baseline", type=int, default=2000, help="Transactions in the raw baseline (default 2000)."
        )
        engine.add_argument("--lookups", type=int, default=500, help="Status look-ups (default 500).")
        engine.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")

    def handle(self, *args, bench, **options):
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
