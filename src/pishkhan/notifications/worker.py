"""The background worker behind `pishkhan worker` (and the one `pishkhan demo` starts).

One process does all background work, so the embedded setup needs no server beyond the database:

- **the task queue**: django-tasks-db's own worker loop (`db_worker`'s `Worker`) runs queued
  tasks in a thread of its own, when the default task backend is the database one. With another
  backend (e.g. Redis, docs/operations.md) that backend's workers run the tasks and this thread
  is not started;
- **the periodic jobs**, on a small scheduler in the calling thread: deliver the outbox every few
  seconds and sweep the deadlines every few minutes. A scheduler inside the worker means no
  separate beat or cron service to install and watch; every job is safe to run in several
  workers at once (claims and row locks), so running two workers is harmless. Cron or a
  systemd timer calling `pishkhan worker --once` is the alternative.

A job that raises is logged and tried again at its next turn: one bad round must not stop the
city's messages."""

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

logger = logging.getLogger(__name__)

DEFAULT_DELIVER_EVERY = 5.0
DEFAULT_SWEEP_EVERY = 300.0
DEFAULT_PURGE_EVERY = 6 * 3600.0
DEFAULT_INTERVAL = 1.0
# One outbox round takes at most this many messages; a full round is followed by another at once.
DELIVER_BATCH = 50
# After a crash of the task loop, wait this long before starting it again (a database that is down
# would otherwise be hammered in a tight loop).
TASK_LOOP_RESTART_SECONDS = 5.0


def deliver_outbox() -> object:
    """One outbox round; more at once while rounds come back full."""
    from .services import outbox_deliver

    report = outbox_deliver(limit=DELIVER_BATCH)
    while report.claimed >= DELIVER_BATCH:
        report = outbox_deliver(limit=DELIVER_BATCH)
    return report


def purge_uploads() -> object:
    # Imported when run: drafts and their files belong to the portal and the case engine.
    from pishkhan.portal.uploads import uploads_purge

    return uploads_purge()


def sweep_deadlines() -> object:
    # Imported when run: the sweep belongs to the case engine (cases → notifications).
    from pishkhan.cases.sweep import deadlines_sweep

    return deadlines_sweep()


@dataclass
class Job:
    """A function run every `every` seconds (0: never)."""

    name: str
    every: float
    run: Callable[[], object]
    next_at: float = 0.0  # time.monotonic() of the next run; 0 runs it at once
    failures: int = field(default=0)


def default_worker_id() -> str:
    """host-pid-random: unique across a pool of workers, readable in the task table."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"


def uses_database_queue(backend_alias: str = DEFAULT_TASK_BACKEND_ALIAS) -> bool:
    """True when the task backend keeps its queue in our database (django-tasks-db), so this
    worker must run the queued tasks itself."""
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends[backend_alias], DatabaseBackend)


class Worker:
    """Runs queued tasks and the periodic jobs until `stop()` is called (or one round with
    `run_once()`).

    interval: seconds between looks at the task queue and the schedule when idle.
    deliver_every / sweep_every / purge_every: seconds between outbox rounds / deadline sweeps /
    purges of unused uploads (portal.uploads.uploads_purge); 0 turns a job off.
    run_tasks: run the database task queue here (ignored when the backend is not the database one).
    queue_names: the task queues to serve; `["*"]` serves all."""

    def __init__(
        self,
        *,
        interval: float = DEFAULT_INTERVAL,
        deliver_every: float = DEFAULT_DELIVER_EVERY,
        sweep_every: float = DEFAULT_SWEEP_EVERY,
        purge_every: float = DEFAULT_PURGE_EVERY,
        run_tasks: bool = True,
        queue_names: list[str] | None = None,
        worker_id: str = "",
        backend_alias: str = DEFAULT_TASK_BACKEND_ALIAS,
    ):
        self.interval = interval
        self.jobs = [
            job
            for job in (
                Job("deliver outbox", deliver_every, deliver_outbox),
                Job("sweep deadlines", sweep_every, sweep_deadlines),
                Job("purge unused uploads", purge_every, purge_uploads),
            )
            if job.every > 0
        ]
        self.backend_alias = backend_alias
        self.run_tasks = run_tasks and uses_database_queue(backend_alias)
        self.queue_names = queue_names or ["default"]
        self.worker_id = worker_id or default_worker_id()
        self._stopping = threading.Event()
        self._task_loop = None
        self._task_thread: threading.Thread | None = None

    # --- the task queue ---------------------------------------------------------------------

    def _db_worker(self, *, batch: bool):
        from django_tasks_db.management.commands.db_worker import Worker as DatabaseQueueWorker

        return DatabaseQueueWorker(
            queue_names=self.queue_names,
            interval=self.interval,
            batch=batch,
            backend_name=self.backend_alias,
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )

    def _serve_task_queue(self) -> None:
        # django-tasks-db's loop, restarted if it ever raises (its own handling covers a locked
        # SQLite database; a lost PostgreSQL connection ends up here).
        try:
            while not self._stopping.is_set():
                loop = self._task_loop = self._db_worker(batch=False)
                # stop() sets the flag before it reads _task_loop: either it saw this loop and
                # cleared its `running`, or the flag is already visible here.
                if self._stopping.is_set():
                    break
                try:
                    loop.run()
                except Exception:
                    logger.exception("The task queue loop stopped; restarting it")
                    self._stopping.wait(TASK_LOOP_RESTART_SECONDS)
        finally:
            connection.close()

    def run_queued_tasks(self) -> None:
        """Run every task that is ready now, then return."""
        if self.run_tasks:
            self._db_worker(batch=True).run()

    # --- the periodic jobs ------------------------------------------------------------------

    def run_job(self, job: Job) -> bool:
        """Run `job` once; log and swallow what it raises. True when it succeeded."""
        self._refresh_connection()
        try:
            result = job.run()
        except Exception:
            job.failures += 1
            logger.exception(
                "Worker job %r failed (%d time(s) so far); it runs again at its next turn",
                job.name,
                job.failures,
            )
            return False
        finally:
            self._refresh_connection()
        # Quiet when a round did nothing: the demo's terminal should show people, not polling.
        if any(value for value in getattr(result, "__dict__", {}).values() if isinstance(value, int)):
            logger.info("%s", result)
        return True

    @staticmethod
    def _refresh_connection() -> None:
        # Like a request: drop a connection that is broken or past CONN_MAX_AGE, so a database
        # restart costs one failed round, not a dead worker. Never inside a caller's transaction
        # (`--once` called from code or a test), which closing would break.
        if not connection.in_atomic_block:
            close_old_connections()

    def run_due_jobs(self) -> float:
        """Run the jobs whose time has come; return the seconds until the next one is due."""
        for job in self.jobs:
            if time.monotonic() >= job.next_at:
                self.run_job(job)
                job.next_at = time.monotonic() + job.every
        if not self.jobs:
            return self.interval
        return max(0.0, min(job.next_at for job in self.jobs) - time.monotonic())

    # --- running ----------------------------------------------------------------------------

    def run_once(self) -> bool:
        """One round: the ready tasks, then every job once. True when all of it succeeded."""
        tasks_ok = True
        try:
            self.run_queued_tasks()
        except Exception:
            # A task that fails is recorded as failed by the queue itself; this is the queue
            # failing (database unreachable, tables missing): log it and still run the jobs.
            logger.exception("The task queue could not be served")
            tasks_ok = False
        jobs_ok = all([self.run_job(job) for job in self.jobs])
        return tasks_ok and jobs_ok

    def run(self) -> None:
        """Serve until `stop()`: the task queue in a thread, the jobs in this thread."""
        logger.info(
            "Worker %s: %s; %s",
            self.worker_id,
            f"task queues {','.join(self.queue_names)}" if self.run_tasks else "no task queue here",
            ", ".join(f"{job.name} every {dt.timedelta(seconds=job.every)}" for job in self.jobs)
            or "no jobs",
        )
        if self.run_tasks:
            self._task_thread = threading.Thread(
                target=self._serve_task_queue, name=f"tasks-{self.worker_id}", daemon=True
            )
            self._task_thread.start()
        try:
            while not self._stopping.is_set():
                wait = self.run_due_jobs()
                self._stopping.wait(min(wait, self.interval) if self.jobs else self.interval)
        finally:
            self._stop_task_loop()
            connection.close()

    def stop(self) -> None:
        """Ask the worker to stop after what it is doing now. Safe from a signal handler or
        another thread."""
        self._stopping.set()
        if self._task_loop is not None:
            self._task_loop.running = False

    def _stop_task_loop(self) -> None:
        self.stop()
        if self._task_thread is not None:
            # A running task is allowed to finish; the loop notices the flag after it.
            self._task_thread.join()
