"""Background tasks of the notifications app (django-tasks). Each is idempotent: running it twice,
or while another worker runs it, sends nothing twice and escalates nothing twice.

`pishkhan worker` calls the functions behind these tasks on its own schedule; the tasks exist so
that other code can ask for a round now (`deliver_outbox_task.enqueue()`), and so that a
deployment on another django-tasks backend can run them on that backend's workers."""

from django_tasks import task

from .services import outbox_deliver


@task()
def deliver_outbox_task(limit: int = 50) -> dict:
    """Send the due messages of the outbox (see `outbox_deliver`); returns the round's counts."""
    return vars(outbox_deliver(limit=limit))


@task()
def sweep_deadlines_task() -> dict:
    """Mark soon-due and overdue steps and escalate overdue ones (`cases.sweep.deadlines_sweep`);
    returns the sweep's counts."""
    # Imported here: the sweep belongs to the case engine, which itself writes to the outbox
    # (cases → notifications); a module-level import would tie the two apps in a circle.
    from pishkhan.cases.sweep import deadlines_sweep

    return vars(deadlines_sweep())
