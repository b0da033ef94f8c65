"""Background work of the case engine, run by the task worker (django-tasks; `pishkhan worker`).

The engine queues a task in the transaction that opens its step when the queue is kept in our
database (the default; the worker sees the task once that commits, and never a task without its
step or a step without its task), and only after the commit with any other queue
(transaction.on_commit), so a broker's worker never sees a case that is not there yet. Every task
is idempotent, so a retry or a second delivery does nothing more."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def case_run_automatic(*, case_id: int, step_id: str) -> int | None:
    """Run the automatic step `step_id` of case `case_id` (services.case_run_automatic). Returns
    the event's sequence number, or None when there was nothing to do (already run, case
    closed)."""
    event = services.case_run_automatic(case_id=case_id, step_id=step_id)
    return event.seq if event is not None else None
