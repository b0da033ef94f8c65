"""The outbox worker: messages go out after commit, are retried with backoff, and are delivered at
least once and recorded once — also when a worker dies halfway."""

import datetime as dt
import threading

import pytest
from django.db import connection

from pishkhan.accounts.sms.contrib.file.plugin import read_messages as read_sms
from pishkhan.notifications import outbox
from pishkhan.notifications.email.contrib.file.plugin import read_messages as read_email
from pishkhan.notifications.models import MessageChannel, MessageStatus, OutboxMessage
from pishkhan.notifications.outbox import (
    LEASE,
    DeliveryReport,
    outbox_claim,
    outbox_record_failure,
    outbox_record_sent,
)
from pishkhan.notifications.services import outbox_deliver

from .helpers import NOW, ScriptedSms, make_message

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def scripted_sms(monkeypatch):
    """Replace the SMS service the worker calls with a scripted one: `scripted_sms("retry", "ok")`."""

    def install(*script):
        fake = ScriptedSms(*script)
        monkeypatch.setattr(outbox, "sms_send", fake)
        return fake

    return install


def reloaded(message):
    message.refresh_from_db()
    return message


# --- the ordinary path ---------------------------------------------------------------------------


def test_a_due_sms_is_sent_through_the_provider_and_recorded_with_its_id():
    message = make_message(to="09121234567")

    report = outbox_deliver(now=NOW)

    assert (report.claimed, report.sent) == (1, 1)
    [sms] = read_sms()
    assert (sms["to"], sms["text"]) == ("09121234567", message.body)
    message = reloaded(message)
    assert message.status == MessageStatus.SENT
    assert message.sent_at == NOW
    assert message.provider_message_id == sms["id"]
    assert message.attempts == 1


def test_an_email_goes_through_the_email_provider_with_its_subject():
    message = make_message(
        channel=MessageChannel.EMAIL, to="sara@example.org", subject="Request 123 received"
    )

    outbox_deliver(now=NOW)

    [email] = read_email()
    assert (email["to"], email["subject"], email["text"]) == (
        "sara@example.org",
        "Request 123 received",
        message.body,
    )
    assert reloaded(message).provider_message_id == email["id"]


def test_a_message_waits_until_its_time_and_a_sent_one_is_never_sent_again():
    later = make_message(due=NOW + dt.timedelta(minutes=1))

    assert outbox_deliver(now=NOW).claimed == 0
    assert outbox_deliver(now=NOW + dt.timedelta(minutes=1)).sent == 1
    assert outbox_deliver(now=NOW + dt.timedelta(days=1)).claimed == 0
    assert len(read_sms()) == 1
    assert reloaded(later).status == MessageStatus.SENT


def test_one_round_takes_at_most_its_limit_oldest_first():
    messages = [make_message(due=NOW - dt.timedelta(minutes=n)) for n in range(5)]

    assert outbox_deliver(now=NOW, limit=2).sent == 2

    sent = set(OutboxMessage.objects.filter(status=MessageStatus.SENT).values_list("pk", flat=True))
    assert sent == {messages[4].pk, messages[3].pk}


# --- retries -------------------------------------------------------------------------------------


def test_a_retryable_error_puts_the_message_back_with_a_doubling_backoff(scripted_sms):
    sms = scripted_sms("retry", "retry", "ok")
    message = make_message()

    outbox_deliver(now=NOW)
    message = reloaded(message)
    assert message.status == MessageStatus.PENDING
    assert message.attempts == 1
    assert message.last_error == "the gateway timed out"
    first_wait = message.next_attempt_at - NOW
    assert 30 * SECOND <= first_wait <= 37.5 * SECOND  # 30 s and up to a quarter more

    assert outbox_deliver(now=NOW + 29 * SECOND).claimed == 0
    second_try = message.next_attempt_at
    outbox_deliver(now=second_try)
    second_wait = reloaded(message).next_attempt_at - second_try
    assert 60 * SECOND <= second_wait <= 75 * SECOND

    report = outbox_deliver(now=message.next_attempt_at)
    assert report.sent == 1
    message = reloaded(message)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 3)
    assert len(sms.sent) == 1


def test_backoff_never_exceeds_an_hour():
    assert outbox.backoff_delay(1) >= dt.timedelta(seconds=30)
    assert outbox.backoff_delay(20) == dt.timedelta(hours=1)


def test_a_permanent_error_fails_the_message_at_once(scripted_sms):
    scripted_sms("refuse")
    message = make_message()

    report = outbox_deliver(now=NOW)

    assert report.failed == 1
    message = reloaded(message)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert message.last_error == "411 invalid receptor"
    assert outbox_deliver(now=NOW + dt.timedelta(days=1)).claimed == 0


def test_the_message_fails_after_the_last_allowed_attempt(scripted_sms, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    sms = scripted_sms("retry", "retry", "retry", "ok")
    message = make_message()

    at = NOW
    for _ in range(3):
        outbox_deliver(now=at)
        at = reloaded(message).next_attempt_at + SECOND

    message = reloaded(message)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 3)
    assert outbox_deliver(now=at + dt.timedelta(days=1)).claimed == 0
    assert sms.calls == 3 and sms.sent == []


def test_an_unexpected_provider_bug_is_retried_like_an_outage(monkeypatch, caplog):
    def broken(*, to, text):
        raise ValueError("provider bug")

    monkeypatch.setattr(outbox, "sms_send", broken)
    message = make_message()

    assert outbox_deliver(now=NOW).retrying == 1

    message = reloaded(message)
    assert message.status == MessageStatus.PENDING
    assert message.last_error == "ValueError: provider bug"
    assert "raised unexpectedly" in caplog.text


# --- crashes: at least once, recorded once -------------------------------------------------------


def test_a_worker_that_dies_after_claiming_leaves_the_message_to_the_next_after_the_lease(scripted_sms):
    sms = scripted_sms("crash-before")
    message = make_message()

    with pytest.raises(KeyboardInterrupt):
        outbox_deliver(now=NOW)
    message = reloaded(message)
    assert (message.status, message.attempts) == (MessageStatus.SENDING, 1)

    # Another worker, while the lease runs, leaves it alone: the first one might still be sending.
    assert outbox_deliver(now=NOW + LEASE - SECOND).claimed == 0
    report = outbox_deliver(now=NOW + LEASE)

    assert report.sent == 1
    message = reloaded(message)
    assert (message.status, message.attempts, message.sent_at) == (MessageStatus.SENT, 2, NOW + LEASE)
    assert len(sms.sent) == 1


def test_a_worker_that_dies_after_sending_but_before_recording_sends_again_and_records_once(monkeypatch):
    message = make_message()
    real_record = outbox.outbox_record_sent

    def die_before_recording(**kwargs):
        raise SystemExit(1)

    # The worker process ends between the provider's acceptance and the UPDATE that records it.
    monkeypatch.setattr("pishkhan.notifications.services.outbox_record_sent", die_before_recording)
    with pytest.raises(SystemExit):
        outbox_deliver(now=NOW)
    assert reloaded(message).status == MessageStatus.SENDING
    assert len(read_sms()) == 1

    monkeypatch.setattr("pishkhan.notifications.services.outbox_record_sent", real_record)
    report = outbox_deliver(now=NOW + LEASE)

    # At least once: the citizen may get the text twice; the outbox records one delivery.
    first, second = read_sms()
    assert first["text"] == second["text"] == message.body
    assert report.sent == 1
    message = reloaded(message)
    assert (message.status, message.attempts, message.provider_message_id) == (
        MessageStatus.SENT,
        2,
        second["id"],
    )
    assert outbox_deliver(now=NOW + 10 * LEASE).claimed == 0


def test_a_message_that_kills_every_worker_is_given_up_after_the_last_attempt(scripted_sms, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    scripted_sms("crash-before", "crash-before")
    message = make_message()

    for attempt in range(2):
        with pytest.raises(KeyboardInterrupt):
            outbox_deliver(now=NOW + attempt * LEASE)
    report = outbox_deliver(now=NOW + 2 * LEASE)

    assert (report.claimed, report.abandoned) == (0, 1)
    message = reloaded(message)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 2)
    assert "worker stopped while sending" in message.last_error


def test_a_slow_worker_whose_lease_ran_out_cannot_undo_what_the_next_one_recorded():
    message = make_message()
    slow, fast = DeliveryReport(), DeliveryReport()
    [slow_claim] = outbox_claim(limit=10, now=NOW, report=slow)
    [fast_claim] = outbox_claim(limit=10, now=NOW + LEASE, report=fast)
    assert (slow_claim.attempt, fast_claim.attempt) == (1, 2)

    outbox_record_sent(claim=fast_claim, provider_message_id="fast", at=NOW + LEASE, report=fast)
    # The slow worker's send finally times out, or finally succeeds: neither changes the record.
    outbox_record_failure(claim=slow_claim, error="timeout", retryable=True, at=NOW + LEASE, report=slow)
    outbox_record_sent(claim=slow_claim, provider_message_id="slow", at=NOW + LEASE, report=slow)

    message = reloaded(message)
    assert (message.status, message.provider_message_id, message.last_error) == (
        MessageStatus.SENT,
        "fast",
        "",
    )
    assert (fast.sent, slow.sent, slow.superseded) == (1, 0, 2)


def test_a_late_success_is_recorded_even_after_the_next_worker_failed_to_send():
    message = make_message()
    report = DeliveryReport()
    [slow_claim] = outbox_claim(limit=10, now=NOW, report=report)
    [next_claim] = outbox_claim(limit=10, now=NOW + LEASE, report=report)
    outbox_record_failure(claim=next_claim, error="timeout", retryable=True, at=NOW + LEASE, report=report)

    # The first worker's message did reach the provider: recording it spares the citizen a resend.
    outbox_record_sent(claim=slow_claim, provider_message_id="slow", at=NOW + LEASE, report=report)

    message = reloaded(message)
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, "slow")


# --- two workers at once (PostgreSQL: real row locks) ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_at_once_never_send_the_same_message(settings):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers need a database server (SQLite in memory serialises one process)")
    messages = [make_message(to=f"0912{n:07d}") for n in range(40)]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def worker(name):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            while (report := outbox_deliver(now=NOW, limit=3, worker_id=name)).claimed:
                reports.append(report)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sent = read_sms()
    assert sorted(message["to"] for message in sent) == sorted(message.to for message in messages)
    assert sum(report.sent for report in reports) == 40
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(MessageStatus.SENT, 1)}


def test_an_operator_puts_failed_messages_back_once_the_cause_is_fixed(scripted_sms):
    from pishkhan.notifications.services import outbox_retry_failed

    scripted_sms("refuse")
    message = make_message()
    untouched = make_message()
    untouched.status = MessageStatus.SENT
    untouched.save()
    outbox_deliver(now=NOW, limit=1)
    assert reloaded(message).status == MessageStatus.FAILED

    assert outbox_retry_failed(now=NOW + dt.timedelta(hours=2)) == 1

    message = reloaded(message)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)
    assert outbox_deliver(now=NOW + dt.timedelta(hours=2)).sent == 1
    assert reloaded(untouched).status == MessageStatus.SENT
