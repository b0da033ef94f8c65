"""Outbox rows and scripted providers for the notification tests."""

import datetime as dt
import itertools

from pishkhan.accounts.sms.base import SmsError
from pishkhan.notifications.models import MessageChannel, MessageStatus, OutboxMessage

# A Saturday morning in Tehran; every test controls time from here.
NOW = dt.datetime(2025, 5, 10, 6, 0, tzinfo=dt.UTC)
_keys = itertools.count(1)


def make_message(*, channel=MessageChannel.SMS, to="09121234567", due=NOW, **fields) -> OutboxMessage:
    """A pending message, due at `due`."""
    defaults = {
        "subject": "Request received" if channel == MessageChannel.EMAIL else "",
        "body": "پرونده شما ثبت شد. کد رهگیری: ۱۲۳۴۵۶",
        "dedupe_key": f"test:{next(_keys)}:{channel}",
        "status": MessageStatus.PENDING,
        "next_attempt_at": due,
    }
    return OutboxMessage.objects.create(channel=channel, to=to, **{**defaults, **fields})


class ScriptedSms:
    """Stands in for `sms_send`: each call takes the next step of `script` — "ok" sends,
    "retry"/"refuse" raise a retryable/permanent SmsError, "crash-before"/"crash-after" raise
    KeyboardInterrupt before or after the message went out (the worker process dies). After the
    script runs out every call sends. `sent` lists (to, text) of what went out."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent: list[tuple[str, str]] = []
        self.calls = 0

    def __call__(self, *, to, text):
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "crash-before":
            raise KeyboardInterrupt
        if step == "retry":
            raise SmsError("the gateway timed out", retryable=True)
        if step == "refuse":
            raise SmsError("411 invalid receptor", retryable=False)
        self.sent.append((to, text))
        if step == "crash-after":
            raise KeyboardInterrupt
        return f"sms-{len(self.sent)}"
