import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Serve Pishkhan with Waitress, a production WSGI server (static files through WhiteNoise). "
        "In production put it behind a TLS-terminating proxy and run `pishkhan manage collectstatic` first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument("--threads", type=int, default=8, help="Worker threads (default 8).")

    def handle(self, *args, host, port, threads, **options):
        import waitress

        from pishkhan.wsgi import application

        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        shown = f"[{host}]" if ":" in host else host
        self.stdout.write(f"Pishkhan ({settings.ENVIRONMENT}) at http://{shown}:{port}/ — Ctrl+C stops it.")
        waitress.serve(application, host=host, port=port, threads=threads, ident="pishkhan")
