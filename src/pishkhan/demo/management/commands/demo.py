import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from pishkhan.catalog.bank import bank_load
from pishkhan.catalog.models import Service
from pishkhan.demo.seed import DEMO_CITIZEN_MOBILE, DEMO_PASSWORD, PERSONAS, seed_demo_city
from pishkhan.notifications.worker import Worker


class Command(BaseCommand):
    help = (
        "Bring up the demo city: create or update the tables, seed districts, departments, roles, "
        "one account per persona and an e-service office (idempotently), print the sign-ins and serve "
        "the site with the background worker beside it. --no-serve stops after seeding."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="Seed and exit without serving.")
        parser.add_argument("--host", default="127.0.0.1", help="Address to serve on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to serve on (default 8000).")

    def handle(self, *args, no_serve, host, port, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "The demo creates accounts with a known password; it refuses production settings."
            )
        call_command("migrate", interactive=False, verbosity=0)
        counts = seed_demo_city()
        bank = bank_load()
        if not bank.ok:
            raise CommandError("The process bank did not load:\n" + "\n".join(bank.lines()))
        self.stdout.write(
            "Demo city ready: {districts} districts, {departments} departments, {staff} staff, "
            "{offices} e-service office, {services} services in the process bank.".format(
                **counts, services=Service.objects.count()
            )
        )
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
        base = f"http://{host}:{port}"
        out = self.stdout.write
        out("")
        out(f"Citizen (SMS code; the code is printed on this console): {base}/accounts/signin/")
        out(f"  mobile {DEMO_CITIZEN_MOBILE}")
        out(f"Staff and office operators: {base}/accounts/staff/signin/  password: {DEMO_PASSWORD}")
        out("  then the authenticator code: `pishkhan totp USERNAME` prints it")
        for persona in PERSONAS:
            out(f"  {persona.username:<12} {persona.what}")
        out("")
