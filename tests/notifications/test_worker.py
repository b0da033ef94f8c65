"""`pishkhan worker`: queued tasks, the outbox and the deadline sweep in one process."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks import TaskResultStatus, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from pishkhan.accounts.sms.contrib.file.plugin import read_messages as read_sms
from pishkhan.demo.management.commands import demo
from pishkhan.notifications import worker as worker_module
from pishkhan.notifications.models import MessageStatus
from pishkhan.notifications.tasks import deliver_outbox_task, sweep_deadlines_task
from pishkhan.notifications.worker import Worker

from .helpers import make_message

pytestmark = pytest.mark.django_db


def test_one_round_sends_the_pending_messages(capsys):
    message = make_message()

    call_command("worker", once=True)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [sms["to"] for sms in read_sms()] == [message.to]


@pytest.mark.db_tasks
@pytest.mark.django_db(transaction=True)  # django-tasks-db's loop manages its connection as a worker does
def test_one_round_runs_the_tasks_waiting_in_the_database_queue():
    assert isinstance(task_backends["default"], DatabaseBackend)
    queued = sweep_deadlines_task.enqueue()
    assert DBTaskResult.objects.get(id=queued.id).status == TaskResultStatus.READY

    call_command("worker", once=True, deliver_every=0, sweep_every=0)

    assert DBTaskResult.objects.get(id=queued.id).status == TaskResultStatus.SUCCESSFUL


def test_the_tasks_run_at_once_in_tests_unless_marked():
    message = make_message()

    result = deliver_outbox_task.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["sent"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_failing_job_is_logged_and_the_other_jobs_still_run(monkeypatch, caplog):
    ran = []

    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(worker_module, "deliver_outbox", broken)
    monkeypatch.setattr(worker_module, "sweep_deadlines", lambda: ran.append("sweep"))

    with pytest.raises(CommandError, match="A job failed"):
        call_command("worker", once=True)

    assert ran == ["sweep"]
    assert "'deliver outbox' failed" in caplog.text and "database went away" in caplog.text


def test_a_job_interval_of_zero_turns_the_job_off(monkeypatch):
    ran = []
    monkeypatch.setattr(worker_module, "deliver_outbox", lambda: ran.append("deliver"))
    monkeypatch.setattr(worker_module, "sweep_deadlines", lambda: ran.append("sweep"))

    call_command("worker", once=True, deliver_every=0)

    assert ran == ["sweep"]


def test_the_worker_refuses_a_negative_interval():
    with pytest.raises(CommandError, match="seconds"):
        call_command("worker", "--sweep-every=-1", once=True)


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_sends_messages_until_it_is_stopped():
    message = make_message()
    sent = threading.Event()

    def deliver_and_tell():
        report = worker_module.deliver_outbox()
        if report.sent:
            sent.set()
        return report

    worker = Worker(interval=0.01, deliver_every=0.01, sweep_every=0, run_tasks=False)
    worker.jobs[0].run = deliver_and_tell
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert sent.wait(timeout=30)
    finally:
        worker.stop()
        thread.join(timeout=30)

    assert not thread.is_alive()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_the_demo_serves_with_the_worker_running_beside_it(monkeypatch):
    seen = {}

    class FakeWorker:
        def __init__(self):
            self.started = threading.Event()
            self.stopped = threading.Event()

        def run(self):
            self.started.set()
            self.stopped.wait(timeout=30)

        def stop(self):
            self.stopped.set()

    def fake_call_command(name, **options):
        seen["command"] = name
        seen["worker running"] = fake.started.wait(timeout=30) and not fake.stopped.is_set()

    fake = FakeWorker()
    monkeypatch.setattr(demo, "Worker", lambda: fake)
    monkeypatch.setattr(demo, "call_command", fake_call_command)

    demo.Command().serve_with_worker("127.0.0.1", 8000)

    assert seen == {"command": "serve", "worker running": True}
    assert fake.stopped.is_set()
