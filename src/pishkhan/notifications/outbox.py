"""Delivering the outbox: claim due messages, send them outside any transaction, record each
result once. `services.outbox_deliver` is the public entry; this module holds its parts.

The guarantees, and how they are kept:

- **Two workers never send one message at the same time.** A message is *claimed* before it is
  sent: in one short transaction the due rows are locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
  on SQLite the IMMEDIATE transaction holds the write lock) and set to `sending` with a lease
  (`next_attempt_at = now + LEASE`) and `attempts + 1`. Other workers skip rows being sent until
  the lease runs out.
- **At least once.** A worker that dies after claiming (or after sending, before recording)
  leaves the row `sending`; when the lease expires the row is due again and another worker sends
  it. The provider may then deliver it twice: that is the price of never losing one.
- **Recorded once.** The result is written by an UPDATE guarded by the row's state: `sent` only
  flips a row that is not yet sent (so two workers that both sent it record it once, the first
  one's time and id winning), and a failure is recorded only by the claim that is still current
  (`status = sending` and the attempt number it took), so a slow worker whose lease expired cannot
  undo what the next one did.
"""

import datetime as dt
import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F

from pishkhan.accounts.sms.service import sms_send

from .email.base import EmailError
from .email.service import email_send
from .models import MessageChannel, MessageStatus, OutboxMessage

logger = logging.getLogger(__name__)

# How long a claim holds a message. Longer than any provider can take (SMS and SMTP time out after
# ~10 s), short enough that a crashed worker's messages go out a few minutes late, not hours.
LEASE = dt.timedelta(minutes=5)
# Retry delays after a failed attempt: 30 s, 1 min, 2 min … doubling, never more than an hour,
# stretched by up to a quarter at random so messages that failed together do not retry together.
BACKOFF_FIRST = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
BACKOFF_JITTER = 0.25
# provider_message_id's column width.
_ID_LENGTH = 100


@dataclass
class DeliveryReport:
    """What one `outbox_deliver` round did."""

    claimed: int = 0  # messages this round took to send
    sent: int = 0  # accepted by the provider and recorded as sent by this round
    retrying: int = 0  # failed for now; pending again with a later next_attempt_at
    failed: int = 0  # given up: a permanent error or the last attempt failed
    abandoned: int = 0  # left `sending` by a worker that stopped, with no attempt left: failed
    superseded: int = 0  # results another worker had already recorded (not written again)

    def __str__(self):
        return (
            f"outbox: {self.claimed} claimed, {self.sent} sent, {self.retrying} to retry, "
            f"{self.failed + self.abandoned} failed"
        )


def backoff_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt (1, 2, 3 …) before the next one:
    30 s × 2^(attempts − 1), plus up to 25 % jitter, at most an hour."""
    base = BACKOFF_FIRST * (2 ** max(attempts - 1, 0))
    jitter = 1 + random.random() * BACKOFF_JITTER  # noqa: S311  (spreading retries, not a secret)
    return min(base * jitter, BACKOFF_MAX)


def due_messages(*, now: dt.datetime):
    """Messages a worker may take at `now`: pending ones whose time has come, and ones left
    `sending` whose lease has run out (their worker stopped or hung). Oldest first."""
    return OutboxMessage.objects.filter(
        status__in=[MessageStatus.PENDING, MessageStatus.SENDING], next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")


@dataclass(frozen=True)
class Claim:
    """One message taken by this worker: the row as claimed, and the attempt number the claim
    took (which identifies the claim when its result is recorded)."""

    message: OutboxMessage
    attempt: int


def outbox_claim(*, limit: int, now: dt.datetime, report: DeliveryReport) -> list[Claim]:
    """Claim up to `limit` due messages in one short transaction (see the module docstring).

    A message left `sending` that has used all its attempts (settings.OUTBOX_MAX_ATTEMPTS) is not
    claimed again but marked failed: the worker stopped on every try, so the message itself is
    probably what stops it."""
    max_attempts = settings.OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        rows = list(
            due_messages(now=now)
            .select_for_update(skip_locked=True)
            .values_list("pk", "status", "attempts")[:limit]
        )
        abandoned = [
            pk
            for pk, status, attempts in rows
            if status == MessageStatus.SENDING and attempts >= max_attempts
        ]
        if abandoned:
            report.abandoned += OutboxMessage.objects.filter(pk__in=abandoned).update(
                status=MessageStatus.FAILED,
                last_error=f"gave up after {max_attempts} attempts: the last one never reported back "
                "(the worker stopped while sending)",
            )
            logger.error(
                "Outbox: gave up on %d message(s) whose worker stopped while sending", len(abandoned)
            )
        order = [pk for pk, _status, _attempts in rows if pk not in abandoned]
        if not order:
            return []
        OutboxMessage.objects.filter(pk__in=order).update(
            status=MessageStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE
        )
        claimed = OutboxMessage.objects.in_bulk(order)
    report.claimed += len(order)
    return [Claim(message=claimed[pk], attempt=claimed[pk].attempts) for pk in order]


def message_send(message: OutboxMessage) -> str:
    """Hand `message` to the provider of its channel; return the provider's message id. Raises
    SmsError / EmailError from the provider, EmailError (permanent) for an unknown channel."""
    if message.channel == MessageChannel.SMS:
        return sms_send(to=message.to, text=message.body)
    if message.channel == MessageChannel.EMAIL:
        return email_send(to=message.to, subject=message.subject, text=message.body)
    raise EmailError(f"unknown channel {message.channel!r}")


def outbox_record_sent(*, claim: Claim, provider_message_id: str, at: dt.datetime, report: DeliveryReport):
    """Record that the provider accepted the claimed message. Only a row not yet `sent` changes:
    whichever worker records first is the record (see the module docstring)."""
    updated = (
        OutboxMessage.objects.filter(pk=claim.message.pk)
        .exclude(status=MessageStatus.SENT)
        .update(status=MessageStatus.SENT, sent_at=at, provider_message_id=provider_message_id[:_ID_LENGTH])
    )
    if updated:
        report.sent += 1
    else:
        report.superseded += 1


def outbox_record_failure(
    *, claim: Claim, error: str, retryable: bool, at: dt.datetime, report: DeliveryReport
) -> None:
    """Record a failed attempt of the claimed message: pending again after a backoff while it is
    retryable and attempts remain, failed otherwise. Written only while this claim is current."""
    give_up = not retryable or claim.attempt >= settings.OUTBOX_MAX_ATTEMPTS
    current = OutboxMessage.objects.filter(
        pk=claim.message.pk, status=MessageStatus.SENDING, attempts=claim.attempt
    )
    if give_up:
        updated = current.update(status=MessageStatus.FAILED, last_error=error)
    else:
        updated = current.update(
            status=MessageStatus.PENDING, next_attempt_at=at + backoff_delay(claim.attempt), last_error=error
        )
    if not updated:
        report.superseded += 1
    elif give_up:
        report.failed += 1
        logger.error(
            "Outbox message %s failed for good after %d attempt(s): %s",
            claim.message.pk,
            claim.attempt,
            error,
        )
    else:
        report.retrying += 1
