"""What the applicant hears about their case, written to the outbox in the event's transaction."""

import pytest
from django.db import transaction

from pishkhan.accounts.sms.contrib.file.plugin import read_messages as read_sms
from pishkhan.cases.models import Case, CaseEvent
from pishkhan.cases.services import case_advance, case_payment_confirmed
from pishkhan.notifications import services
from pishkhan.notifications.models import MessageChannel, MessageStatus, OutboxMessage
from pishkhan.notifications.services import notify_case_event, outbox_deliver
from tests.cases.factories import (
    SMALL_FEE,
    make_citizen,
    make_district,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

from .helpers import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def district():
    return make_district()


@pytest.fixture
def clerk(district):
    return make_staff(role="clerk", district=district)


@pytest.fixture
def in_english(monkeypatch):
    """Messages written in English, so a test can read their wording whatever the Persian
    catalogue says (the facts in them — codes, dates, titles — are checked in Persian elsewhere)."""
    monkeypatch.setattr(services, "recipient_language", lambda user: "en")


def messages_of(case, channel=MessageChannel.SMS):
    return list(OutboxMessage.objects.filter(case=case, channel=channel).order_by("pk"))


def event_of(case, activity):
    return case.events.get(activity=activity)


def test_a_submitted_case_texts_the_applicant_its_tracking_code_in_persian(district):
    applicant = make_citizen(mobile="09121112233")

    case = submit_case(applicant=applicant, district=district, now=NOW)

    [sms] = messages_of(case)
    assert sms.to == "09121112233"
    assert sms.status == MessageStatus.PENDING
    assert sms.next_attempt_at == NOW
    assert sms.dedupe_key == f"case:{case.pk}:event:1:sms"
    persian_code = case.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert persian_code in sms.body
    assert "مجوز آزمایشی" in sms.body  # the service's Persian title
    assert "شهر نمونه" in sms.body  # the city, so the text says who writes
    assert messages_of(case, MessageChannel.EMAIL) == []  # no address, no email


def test_an_applicant_with_an_email_address_gets_an_email_as_well(district):
    applicant = make_citizen(email="sara@example.org")

    case = submit_case(applicant=applicant, district=district, now=NOW)

    [email] = messages_of(case, MessageChannel.EMAIL)
    assert email.to == "sara@example.org"
    assert email.dedupe_key == f"case:{case.pk}:event:1:email"
    assert email.subject and email.body == messages_of(case)[0].body


def test_a_correction_request_says_what_is_missing_and_the_jalali_date_to_answer_by(district, clerk):
    case = submit_case(district=district, now=NOW)

    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=clerk,
        request={"missing": ["deed"], "message": "The deed scan is unreadable.", "due_days": 3},
        now=NOW,
    )

    sms = messages_of(case)[-1]
    assert sms.dedupe_key == f"case:{case.pk}:event:{event_of(case, 'returned').seq}:sms"
    assert "سند مالکیت" in sms.body  # the missing document, by its Persian title
    assert "The deed scan is unreadable." in sms.body  # the clerk's words, as written
    # Saturday 1404/02/20 plus three working days.
    assert "۲۳ اردیبهشت ۱۴۰۴" in sms.body


def test_a_rejection_gives_the_reason_and_the_way_forward(district, clerk, in_english):
    case = submit_case(district=district, now=NOW)

    case_advance(
        case=case,
        step_id="review",
        outcome="reject",
        actor=clerk,
        reason="The plot is outside the city limits.",
        now=NOW,
    )

    sms = messages_of(case)[-1]
    assert sms.dedupe_key == f"case:{case.pk}:event:{event_of(case, 'ended').seq}:sms"
    assert "rejected" in sms.body
    assert "The plot is outside the city limits." in sms.body
    assert "new request" in sms.body and "complaint" in sms.body


def test_an_approved_case_tells_the_applicant_where_the_result_is(
    district, clerk, django_capture_on_commit_callbacks, in_english
):
    inspector = make_staff(role="inspector", district=district)
    case = submit_case(district=district, now=NOW)
    case_advance(case=case, step_id="review", outcome="approve", actor=clerk, now=NOW)
    case_advance(case=case, step_id="inspect", outcome="done", actor=inspector, now=NOW)
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=clerk, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        case_payment_confirmed(case=case, step_id="pay", amount=SMALL_FEE, reference="R-1", now=NOW)

    sms = messages_of(case)[-1]
    assert sms.dedupe_key.endswith(f":event:{event_of(case, 'ended').seq}:sms")
    assert "approved" in sms.body


def test_steps_inside_the_city_do_not_text_the_applicant(district, clerk):
    case = submit_case(district=district, now=NOW)
    case_advance(case=case, step_id="review", outcome="approve", actor=clerk, now=NOW)

    assert len(messages_of(case)) == 1  # only "received"


def test_notifying_one_event_twice_writes_its_messages_once(district):
    case = submit_case(applicant=make_citizen(email="a@example.org"), district=district, now=NOW)
    event = event_of(case, "submitted")

    with transaction.atomic():
        again = notify_case_event(case=case, event=event)

    assert {m.pk for m in again} == set(OutboxMessage.objects.filter(case=case).values_list("pk", flat=True))
    assert OutboxMessage.objects.filter(case=case).count() == 2


@pytest.mark.django_db(transaction=True)
def test_notifying_outside_the_events_transaction_is_refused():
    # No transaction is open here (a transactional test), as in a worker or a view that forgot
    # its atomic block: the check comes before anything is read or written.
    with pytest.raises(RuntimeError, match="inside the transaction"):
        notify_case_event(case=Case(), event=CaseEvent(activity="submitted", seq=1))


def test_a_message_rolls_back_with_its_event(district):
    service = publish_definition(small_process())

    with pytest.raises(RuntimeError), transaction.atomic():
        submit_case(service=service, district=district, now=NOW)
        raise RuntimeError("the request failed after the case was written")

    assert OutboxMessage.objects.count() == 0


def test_the_worker_sends_the_citizens_text_after_commit(district):
    case = submit_case(applicant=make_citizen(mobile="09125556677"), district=district, now=NOW)

    report = outbox_deliver(now=NOW)

    assert report.sent == 1
    [sms] = read_sms()
    assert sms["to"] == "09125556677"
    assert messages_of(case)[0].status == MessageStatus.SENT


def test_an_automatic_notify_step_texts_the_applicant_the_steps_title(
    district, clerk, django_capture_on_commit_callbacks
):
    process = small_process(code="notify-permit")
    review = next(step for step in process["steps"] if step["id"] == "review")
    review["outcomes"][0]["to"] = "tell"
    process["steps"].append(
        {
            "id": "tell",
            "title": {"fa": "پرونده شما به بررسی فنی رسید", "en": "Your case reached the technical review"},
            "role": "clerk",
            "kind": "automatic",
            "action": "notify",
            "deadline_days": 0,
            "outcomes": [{"outcome": "done", "to": "checks"}],
        }
    )
    case = submit_case(service=publish_definition(process), district=district, now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        case_advance(case=case, step_id="review", outcome="approve", actor=clerk, now=NOW)

    sms = messages_of(case)[-1]
    assert "پرونده شما به بررسی فنی رسید" in sms.body
    assert case.events.filter(activity="completed", step_id="tell").exists()
