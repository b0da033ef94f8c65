import logging
import math
import signal
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError

from pishkhan.notifications.worker import (
    DEFAULT_DELIVER_EVERY,
    DEFAULT_INTERVAL,
    DEFAULT_PURGE_EVERY,
    DEFAULT_SWEEP_EVERY,
    Worker,
    uses_database_queue,
)


def seconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ArgumentTypeError(f"expected a number of seconds ≥ 0, not {text!r}")
    return value


class Command(BaseCommand):
    help = (
        "Run the background work: queued tasks (when the task queue is the database, the default), "
        "the outbox (SMS and email) every few seconds and the deadline sweep every few minutes, until "
        "stopped (SIGTERM or Ctrl+C finish the current job first). --once runs one round and exits "
        "(for cron, a systemd timer, or tests); a job interval of 0 turns that job off."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=seconds,
            default=DEFAULT_INTERVAL,
            help=f"Seconds between looks at the task queue when idle (default {DEFAULT_INTERVAL:g}).",
        )
        parser.add_argument(
            "--deliver-every",
            type=seconds,
            default=DEFAULT_DELIVER_EVERY,
            help=f"Seconds between outbox rounds; 0: never (default {DEFAULT_DELIVER_EVERY:g}).",
        )
        parser.add_argument(
            "--sweep-every",
            type=seconds,
            default=DEFAULT_SWEEP_EVERY,
            help=f"Seconds between deadline sweeps; 0: never (default {DEFAULT_SWEEP_EVERY:g}).",
        )
        parser.add_argument(
            "--purge-every",
            type=seconds,
            default=DEFAULT_PURGE_EVERY,
            help="Seconds between purges of application drafts and uploads nothing uses; 0: never "
            f"(default {DEFAULT_PURGE_EVERY:g}).",
        )
        parser.add_argument(
            "--queue-name",
            default="default",
            help="Task queues to serve, comma separated; '*' serves all (default: default).",
        )
        parser.add_argument("--no-tasks", action="store_true", help="Leave the task queue to other workers.")
        parser.add_argument(
            "--worker-id", default="", help="Unique id in a pool of workers (default: host-pid-random)."
        )
        parser.add_argument("--once", action="store_true", help="Run one round of everything and exit.")

    def handle(
        self,
        *args,
        interval,
        deliver_every,
        sweep_every,
        purge_every,
        queue_name,
        no_tasks,
        worker_id,
        once,
        **options,
    ):
        worker = Worker(
            interval=interval,
            deliver_every=deliver_every,
            sweep_every=sweep_every,
            purge_every=purge_every,
            run_tasks=not no_tasks,
            queue_names=[name.strip() for name in queue_name.split(",") if name.strip()],
            worker_id=worker_id,
        )
        if not no_tasks and not uses_database_queue() and options["verbosity"] >= 1:
            self.stdout.write("The task backend is not the database: its own workers run the queued tasks.")
        if once:
            if options["verbosity"] < 2:
                # The database queue's loop announces every start and stop; from cron that is
                # a mail per run saying nothing.
                logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
            if not worker.run_once():
                raise CommandError("A job failed; see the log above.")
            return

        def stop(signum, frame):
            self.stdout.write(f"{signal.strsignal(signum)}: stopping after the current job …")
            worker.stop()

        for name in ("SIGINT", "SIGTERM", "SIGQUIT"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), stop)
        self.stdout.write(f"Worker {worker.worker_id} running — Ctrl+C stops it.")
        worker.run()
