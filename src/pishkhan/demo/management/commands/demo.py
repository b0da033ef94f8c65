import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from pishkhan.cases.models import Case, CaseEvent
from pishkhan.catalog.models import Service
from pishkhan.demo.history import DEMO_CASES, demo_history_seed
from pishkhan.demo.seed import seed_demo_city, signin_lines
from pishkhan.notifications.worker import Worker


class Command(BaseCommand):
    help = (
        "Bring up the demo city: create or update the tables, seed districts, departments, roles, "
        "staff, e-service offices and citizens (idempotently), play a year of history with the "
        "simulator (once), print the sign-ins and serve the site with the background worker beside "
        "it. --no-serve stops after seeding."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="Seed and exit without serving.")
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (default 8000).")
        parser.add_argument(
            "--cases",
            type=int,
            default=DEMO_CASES,
            help=f"Cases in the year of history (default {DEMO_CASES:,}; 0: no history).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes to play the history in (default: as many as help, up to the processors; "
            "1 plays in this process).",
        )

    def handle(self, *args, no_serve, host, port, cases, workers, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "The demo creates accounts with a known password; it refuses production settings."
            )
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        if not 0 <= cases <= 1_000_000:
            raise CommandError("--cases must be between 0 and 1,000,000.")
        if workers is not None and workers < 1:
            raise CommandError("--workers must be 1 or more.")
        counts = seed_demo_city()
        bank = counts["bank"]
        if not bank.ok:
            raise CommandError("The process bank did not load:\n" + "\n".join(bank.lines()))
        self.stdout.write(
            "Demo city ready: {districts} districts, {departments} departments, {staff} staff, "
            "{offices} e-service offices with {operators} operators, {citizens} citizens, "
            "{services} services in the process bank.".format(**counts, services=Service.objects.count())
        )
        truth = settings.DATA_DIR / "simulation" / "demo-ground-truth.json"
        if cases:
            report = demo_history_seed(truth_path=truth, cases=cases, workers=workers)
            if report is not None:
                for line in report.lines():
                    self.stdout.write(line)
        self.stdout.write(
            f"The city holds {Case.objects.count():,} cases and {CaseEvent.objects.count():,} events "
            f"(ready in {time.perf_counter() - started:.0f} s)."
        )
        if truth.exists():
            self.stdout.write(f"Ground truth of the simulated history: {truth}")
        self.print_signins(host, port)
        if not no_serve:
            self.serve_with_worker(host, port)

    def serve_with_worker(self, host, port):
        # The demo is one command: the worker (SMS, email, deadlines, queued tasks) runs in a
        # thread beside the web server and stops with it.
        worker = Worker()
        thread = threading.Thread(target=worker.run, name="pishkhan-worker", daemon=True)
        thread.start()
        try:
            call_command("serve", host=host, port=port)
        finally:
            worker.stop()
            thread.join(timeout=30)

    def print_signins(self, host, port):
        self.stdout.write("")
        for line in signin_lines(f"http://{host}:{port}"):
            self.stdout.write(line)
        self.stdout.write("")
