"""Writes of the notifications app: what people are told about their cases, and sending it.

- `notify_case_event(*, case, event)` decides, inside the engine's transaction, which messages an
  event causes and writes them to the outbox. A message exists exactly when its event does.
- `outbox_deliver(*, limit, now, worker_id)` sends due messages after commit; the worker calls it
  every few seconds. How it stays at-least-once and recorded-once: `outbox.py`.

Citizens hear about their own case in Persian (the language of SMS here): received with its
tracking code, sent back for a correction (what is missing, by when), approved or rejected (and
what they can do next). Staff hear about escalations in their inbox; a manager with an email
address also gets an email."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext

from pishkhan.accounts.models import User
from pishkhan.accounts.sms.base import SmsError
from pishkhan.cases.selectors import case_definition
from pishkhan.core.calendar import working_calendar
from pishkhan.core.templatetags.pishkhan import format_jalali
from pishkhan.core.text import localize_digits

from .email.base import EmailError
from .models import MessageChannel, MessageStatus, OutboxMessage
from .outbox import DeliveryReport, message_send, outbox_claim, outbox_record_failure, outbox_record_sent

logger = logging.getLogger(__name__)

__all__ = ["DeliveryReport", "Notice", "notify_case_event", "outbox_deliver", "outbox_retry_failed"]


@dataclass(frozen=True)
class Notice:
    """What to tell one person: the subject (email only) and the text (SMS body, email body)."""

    subject: str
    text: str


def recipient_language(user) -> str:
    """The language a person's messages are written in. Accounts hold no language preference
    yet, and the site's language (Persian) is the one every citizen reads; the one place to
    change when they do."""
    return settings.LANGUAGE_CODE


# --- what an event means to the applicant ---------------------------------------------------


def _city() -> str:
    return settings.CITY_NAME_EN if translation.get_language() == "en" else settings.CITY_NAME_FA


def _service_title(case) -> str:
    service = case.service
    return service.title_en if translation.get_language() == "en" and service.title_en else service.title_fa


def _definition(case):
    return case_definition(case)


def _document_titles(case, document_ids) -> list[str]:
    if not document_ids:
        return []
    language = translation.get_language() or settings.LANGUAGE_CODE
    titles = {document.id: document.title.get(language) for document in _definition(case).documents}
    return [titles.get(document_id, document_id) for document_id in document_ids]


def _listed(items: list[str]) -> str:
    # Persian separates list items with the Arabic comma.
    return ("، " if (translation.get_language() or "").startswith("fa") else ", ").join(items)


def _jalali(moment) -> str:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return format_jalali(moment, "long")


def _facts(case) -> dict:
    return {"city": _city(), "service": _service_title(case), "code": localize_digits(case.tracking_code)}


def _submitted(*, case, event) -> Notice:
    facts = _facts(case)
    if case.due_at:
        text = gettext(
            "%(city)s: your request “%(service)s” was received. Tracking code: %(code)s. "
            "The answer is due by %(date)s. Follow it at the service desk with this code."
        ) % {**facts, "date": _jalali(case.due_at)}
    else:
        text = (
            gettext(
                "%(city)s: your request “%(service)s” was received. Tracking code: %(code)s. "
                "Follow it at the service desk with this code."
            )
            % facts
        )
    return Notice(subject=gettext("Request %(code)s received") % facts, text=text)


def _returned(*, case, event) -> Notice:
    facts = _facts(case)
    request = event.data.get("request") or {}
    missing = _document_titles(case, request.get("missing") or [])
    # The applicant's due date, counted as the engine counts it: working days from the return.
    due = None
    if request.get("due_days"):
        due = working_calendar().deadline_for(
            started_at=event.completed_at, working_days=int(request["due_days"])
        )
    parts = [
        gettext("%(city)s: your request %(code)s (“%(service)s”) needs a correction.") % facts,
    ]
    if request.get("message"):
        parts.append(gettext("The clerk writes: %(message)s") % {"message": request["message"]})
    if missing:
        parts.append(gettext("Missing: %(documents)s.") % {"documents": _listed(missing)})
    if due:
        parts.append(
            gettext("Please answer at the service desk by %(date)s; until then the case waits for you.")
            % {"date": _jalali(due)}
        )
    else:
        parts.append(gettext("Please answer at the service desk; until then the case waits for you."))
    return Notice(subject=gettext("Request %(code)s: a correction is needed") % facts, text=" ".join(parts))


def _ended(*, case, event) -> Notice | None:
    facts = _facts(case)
    result = event.outcome or event.data.get("result") or case.status
    if result in ("approved", "approve"):
        text = (
            gettext(
                "%(city)s: your request %(code)s (“%(service)s”) was approved. The result and any document "
                "issued to you are at the service desk."
            )
            % facts
        )
        return Notice(subject=gettext("Request %(code)s approved") % facts, text=text)
    if result in ("rejected", "reject"):
        reason = event.reason or _rejection_reason(case)
        text = gettext("%(city)s: your request %(code)s (“%(service)s”) was rejected.") % facts
        if reason:
            text += " " + gettext("Reason: %(reason)s") % {"reason": reason}
        text += " " + gettext(
            "You may file a new request once the reason is resolved. If you think the decision is wrong, "
            "send a complaint quoting this tracking code; it goes to the district manager."
        )
        return Notice(subject=gettext("Request %(code)s rejected") % facts, text=text)
    return None


def _rejection_reason(case) -> str:
    # The reason is given on the step that rejected; the `ended` event that follows records the end.
    rejection = case.events.filter(outcome="reject").exclude(reason="").order_by("-seq").first()
    return rejection.reason if rejection else ""


def _step_reached(*, case, event) -> Notice | None:
    # An automatic `notify` step of the process: the applicant hears the step's title, e.g.
    # "Your permit is ready for collection".
    if event.data.get("action") != "notify":
        return None
    title = _step_title(case, event.step_id)
    facts = _facts(case)
    return Notice(
        subject=gettext("Request %(code)s: %(step)s") % {**facts, "step": title},
        text=gettext("%(city)s: your request %(code)s (“%(service)s”): %(step)s") % {**facts, "step": title},
    )


_APPLICANT_NOTICES = {
    "submitted": _submitted,
    "returned": _returned,
    "ended": _ended,
    "completed": _step_reached,
}


def _step_title(case, step_id: str) -> str:
    step = _definition(case).step(step_id)
    if step is None or step.title is None:
        return step_id
    return step.title.get(translation.get_language() or settings.LANGUAGE_CODE) or step_id


def _escalated(*, case, event) -> Notice:
    facts = _facts(case)
    step = _step_title(case, event.step_id)
    due = event.data.get("due_at")
    return Notice(
        subject=gettext("Overdue: request %(code)s at step %(step)s") % {**facts, "step": step},
        text=gettext(
            "Request %(code)s (“%(service)s”) is overdue at step %(step)s (due %(date)s) and was escalated "
            "to you. It is in your inbox among the overdue steps."
        )
        % {**facts, "step": step, "date": _jalali(due) if due else "—"},
    )


# --- writing the outbox ---------------------------------------------------------------------


def _outbox_put(*, case, event, channel, to, notice, key) -> OutboxMessage:
    message, _created = OutboxMessage.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "channel": channel,
            "to": to,
            "subject": notice.subject[:200],
            "body": notice.text,
            "case": case,
            "next_attempt_at": event.completed_at or timezone.now(),
        },
    )
    return message


def notify_case_event(*, case, event) -> list[OutboxMessage]:
    """Write to the outbox the messages that `event` (a CaseEvent of `case`, just appended)
    causes, and return them; [] when the event is not news to anyone outside the desk.

    - `submitted`, `returned`, `ended`, and `completed` by an automatic `notify` step (the
      step's title is the news): to the applicant, by SMS to their mobile and by email when they
      have an address, in their language (Persian by default);
    - `escalated`: by email to the managers named in `event.data["managers"]` (user ids) who
      have an address; the overdue step itself is in their inbox already.

    Must run inside the caller's transaction, so the messages commit or roll back with the event;
    raises RuntimeError outside one. Idempotent: each message has the dedupe key
    `case:<case id>:event:<seq>:<channel>` (plus `:to:<user id>` for staff), so a retried
    transaction or a second call writes nothing twice."""
    if not connection.in_atomic_block:
        raise RuntimeError("notify_case_event must run inside the transaction that appended the event")
    messages = []
    compose = _APPLICANT_NOTICES.get(event.activity)
    if compose is not None:
        applicant = case.applicant
        with translation.override(recipient_language(applicant)):
            notice = compose(case=case, event=event)
        if notice is not None:
            base = f"case:{case.pk}:event:{event.seq}"
            if applicant.mobile:
                messages.append(
                    _outbox_put(
                        case=case,
                        event=event,
                        channel=MessageChannel.SMS,
                        to=applicant.mobile,
                        notice=notice,
                        key=f"{base}:{MessageChannel.SMS}",
                    )
                )
            if applicant.email:
                messages.append(
                    _outbox_put(
                        case=case,
                        event=event,
                        channel=MessageChannel.EMAIL,
                        to=applicant.email,
                        notice=notice,
                        key=f"{base}:{MessageChannel.EMAIL}",
                    )
                )
    elif event.activity == "escalated":
        messages += _notify_managers(case=case, event=event)
    return messages


def _notify_managers(*, case, event) -> list[OutboxMessage]:
    manager_ids = event.data.get("managers") or []
    messages = []
    for manager in User.objects.filter(pk__in=manager_ids).exclude(email="").order_by("pk"):
        with translation.override(recipient_language(manager)):
            notice = _escalated(case=case, event=event)
        messages.append(
            _outbox_put(
                case=case,
                event=event,
                channel=MessageChannel.EMAIL,
                to=manager.email,
                notice=notice,
                key=f"case:{case.pk}:event:{event.seq}:{MessageChannel.EMAIL}:to:{manager.pk}",
            )
        )
    return messages


# --- sending ----------------------------------------------------------------------------------


def outbox_deliver(*, limit: int = 50, now: dt.datetime | None = None, worker_id: str = "") -> DeliveryReport:
    """Send up to `limit` due messages and record each result; return what happened.

    Due: pending with `next_attempt_at <= now`, or left `sending` by a worker whose lease has
    expired. Each is claimed first (so no other worker sends it meanwhile), then sent outside any
    transaction, then recorded: `sent` (with `sent_at` and the provider's id), pending again after
    an exponential backoff on a retryable error, `failed` on a permanent error or after
    settings.OUTBOX_MAX_ATTEMPTS attempts. `now` defaults to the current time and is used for
    every timestamp of the round (tests pass it). `worker_id` names the caller in the log.

    Call it outside a transaction: claims must commit before the sending starts, or a crash would
    roll them back and another worker would not know the message may have gone out. A provider
    error never escapes; an interruption (KeyboardInterrupt, SystemExit) does, leaving the claimed
    messages to be picked up after their lease."""
    clock = (lambda: now) if now is not None else timezone.now
    report = DeliveryReport()
    for claim in outbox_claim(limit=limit, now=clock(), report=report):
        try:
            provider_message_id = message_send(claim.message)
        except (SmsError, EmailError) as error:
            outbox_record_failure(
                claim=claim, error=str(error), retryable=error.retryable, at=clock(), report=report
            )
        except Exception as error:
            # A provider bug or a configuration error (ImproperlyConfigured): not this message's
            # fault, so it is retried while attempts remain, and the operator sees the traceback.
            logger.exception(
                "Outbox message %s: the provider raised unexpectedly (worker %s)", claim.message.pk, worker_id
            )
            outbox_record_failure(
                claim=claim,
                error=f"{type(error).__name__}: {error}",
                retryable=True,
                at=clock(),
                report=report,
            )
        else:
            outbox_record_sent(
                claim=claim, provider_message_id=provider_message_id, at=clock(), report=report
            )
    if report.claimed:
        logger.info("%s (worker %s)", report, worker_id or "-")
    return report


def outbox_retry_failed(*, ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Put failed messages back in the queue (all of them, or those with the given ids): pending
    at `now`, their attempts counted afresh, the last error kept until the next attempt. For the
    operator, once the cause (credit, credentials, a provider outage) is fixed. Returns how many."""
    failed = OutboxMessage.objects.filter(status=MessageStatus.FAILED)
    if ids is not None:
        failed = failed.filter(pk__in=ids)
    return failed.update(status=MessageStatus.PENDING, attempts=0, next_attempt_at=now or timezone.now())
