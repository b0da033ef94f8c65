"""The signed-in citizen's cases: the list of their own, and the page of one — where it stands, its
history, what they must do now (a correction, a payment), their files, and withdrawing."""

import html as htmllib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse

from pishkhan.cases.models import CaseDocument, CaseStatus, PositionState
from pishkhan.cases.services import case_advance
from pishkhan.core.text import to_persian_digits
from tests.cases import hostile
from tests.cases.factories import (
    SMALL_FEE,
    make_citizen,
    make_district,
    make_office,
    make_operator,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def district():
    return make_district()


@pytest.fixture
def service():
    return publish_definition(small_process())


@pytest.fixture
def citizen():
    return make_citizen()


@pytest.fixture
def clerk(district):
    return make_staff(role="clerk", district=district)


@pytest.fixture
def case(service, citizen, district):
    return submit_case(service=service, applicant=citizen, district=district)


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def page_of(case):
    return reverse("portal:my_case", args=[case.tracking_code])


def ask_for_the_deed(case, clerk):
    case_advance(
        case=case,
        step_id="review",
        outcome="return",
        actor=clerk,
        request={"missing": ["deed"], "message": "The deed scan is unreadable.", "due_days": 5},
    )
    case.refresh_from_db()


def test_my_cases_lists_only_mine_with_persian_digits(signed_in, case, service, district):
    someone_elses = submit_case(service=service, applicant=make_citizen(), district=district)

    response = signed_in.get(reverse("portal:my_cases"))

    assert response.status_code == 200
    text = text_of(response)
    assert "پرونده‌های من" in text
    assert to_persian_digits(case.tracking_code) in text
    assert "مجوز آزمایشی" in text and "در جریان" in text
    assert to_persian_digits(someone_elses.tracking_code) not in text
    assert someone_elses.tracking_code not in response.content.decode()


def test_my_cases_asks_a_visitor_to_sign_in(client):
    response = client.get(reverse("portal:my_cases"))

    assert response.status_code == 302 and reverse("accounts:citizen_signin") in response["Location"]


def test_another_citizen_opening_my_case_page_gets_404(client, case):
    client.force_login(make_citizen())

    assert client.get(page_of(case)).status_code == 404
    assert client.post(page_of(case), {"action": "withdraw", "confirm": "on"}).status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_the_case_page_shows_the_stage_the_role_and_the_history_never_the_person(signed_in, case, clerk):
    response = signed_in.get(page_of(case))

    assert response.status_code == 200
    text = text_of(response)
    assert "بررسی مدارک" in text  # the current stage
    assert "در دست کارشناس" in text  # the role that holds it
    assert "ثبت شد" in text  # the submission, in the history

    ask_for_the_deed(case, clerk)
    text = text_of(signed_in.get(page_of(case)))
    assert "بازگشت برای اصلاح" in text or "اصلاح" in text
    assert clerk.last_name not in text  # the role acted, never a named person


def test_a_case_an_office_filed_names_the_office_and_its_phone(signed_in, service, citizen, district):
    office = make_office(district=district, name="دفتر خدمات ۱۲")
    office.phone = "021-88001122"
    office.save(update_fields=["phone"])
    filed = submit_case(
        service=service,
        applicant=citizen,
        district=district,
        channel="office",
        filed_by=make_operator(office=office),
        office=office,
    )

    page = signed_in.get(page_of(filed)).content.decode()

    assert "ثبت‌شده در دفتر خدمات الکترونیک: دفتر خدمات ۱۲" in page
    assert '<a href="tel:02188001122" dir="ltr">۰۲۱-۸۸۰۰۱۱۲۲</a>' in page


def test_citizen_sees_correction_request_uploads_the_document_and_answers_it(signed_in, case, clerk):
    ask_for_the_deed(case, clerk)

    page = signed_in.get(page_of(case))
    text = text_of(page)
    assert "سند مالکیت" in text  # what is missing
    assert "The deed scan is unreadable." in text  # why
    position = case.positions.get(step_id="review")
    from pishkhan.core.templatetags.pishkhan import format_jalali

    assert format_jalali(position.due_at) in text  # by when

    # Answering before the upload is refused with the engine's message.
    early = signed_in.post(page_of(case), {"action": "answer", "message": "Here it is."})
    assert early.status_code == 400
    assert "Here it is.</textarea>" in early.content.decode()  # kept as typed
    case.refresh_from_db()
    assert case.status == CaseStatus.WITH_CITIZEN

    upload = SimpleUploadedFile("deed.pdf", hostile.pdf(), content_type="application/pdf")
    uploaded = signed_in.post(page_of(case), {"action": "upload", "document_type": "deed", "file": upload})
    assert uploaded.status_code == 302
    assert CaseDocument.objects.filter(case=case, document_type="deed").count() == 1

    answered = signed_in.post(page_of(case), {"action": "answer", "message": "Scanned again."})
    assert answered.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.positions.get(step_id="review").state == PositionState.QUEUED
    after = signed_in.get(page_of(case))
    assert "Scanned again." in text_of(after)


def test_a_rejected_file_shows_its_message_and_nothing_is_saved(signed_in, case, clerk):
    ask_for_the_deed(case, clerk)
    program = SimpleUploadedFile("deed.pdf", hostile.exe(), content_type="application/pdf")

    response = signed_in.post(page_of(case), {"action": "upload", "document_type": "deed", "file": program})

    assert response.status_code == 400
    assert 'class="error" role="alert"' in response.content.decode()
    assert not CaseDocument.objects.filter(case=case).exists()


def test_a_document_the_case_does_not_wait_for_is_refused(signed_in, case):
    upload = SimpleUploadedFile("deed.pdf", hostile.pdf(), content_type="application/pdf")

    response = signed_in.post(page_of(case), {"action": "upload", "document_type": "deed", "file": upload})

    assert response.status_code == 400
    assert not CaseDocument.objects.filter(case=case).exists()


def test_a_payment_step_shows_the_amount(signed_in, case, clerk, district):
    inspector = make_staff(role="inspector", district=district)
    case_advance(case=case, step_id="review", outcome="approve", actor=clerk)
    case_advance(case=case, step_id="inspect", outcome="done", actor=inspector)
    case_advance(case=case, step_id="tech_review", outcome="approve", actor=clerk)

    response = signed_in.get(page_of(case))

    assert response.status_code == 200
    assert to_persian_digits(f"{SMALL_FEE:,}").replace(",", "٬") in text_of(response)
    try:
        pay_url = reverse("payments:start", args=[case.tracking_code, "pay"])
    except NoReverseMatch:  # the payments app is not there: no button, and no error
        assert "payments/start" not in response.content.decode()
    else:
        assert f'action="{pay_url}"' in response.content.decode()


def test_withdrawing_needs_the_confirmation_and_then_closes_the_case(signed_in, case):
    unconfirmed = signed_in.post(page_of(case), {"action": "withdraw", "reason": "Changed my mind"})
    assert unconfirmed.status_code == 400
    assert 'value="Changed my mind"' in unconfirmed.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN

    confirmed = signed_in.post(
        page_of(case), {"action": "withdraw", "reason": "Changed my mind", "confirm": "on"}
    )
    assert confirmed.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    again = signed_in.get(page_of(case))
    assert "انصراف از این پرونده" not in text_of(again)  # no withdraw form on a closed case


def test_the_case_page_is_in_persian_by_default_and_in_english_after_switching(signed_in, case):
    persian = signed_in.get(page_of(case))
    assert 'lang="fa"' in persian.content.decode() and "تاریخچه" in text_of(persian)

    switched = signed_in.post(reverse("set_language"), {"language": "en", "next": page_of(case)})
    assert switched.status_code == 302
    english = signed_in.get(page_of(case))
    assert 'lang="en"' in english.content.decode()
    text = text_of(english)
    assert "History" in text and "Check the documents" in text and "Withdraw this case" in text


def test_the_applicant_reports_their_own_step_done(client, citizen, clerk, district):
    """A step that is the applicant's own work (the works on site) waits for them; the case page
    says so and "It is done" completes it, after which the municipality has the case."""
    process = small_process(code="own-works")
    works = {
        "id": "works",
        "title": {"fa": "انجام عملیات در محل", "en": "Carry out the works"},
        "role": "applicant",
        "kind": "citizen",
        "deadline_days": 10,
        "legal_basis": {"law": "آیین‌نامه آزمایشی", "article": "ماده ۴"},
        "outcomes": [{"outcome": "done", "to": "review"}],
    }
    process["roles"] = [{"code": "applicant", "title": {"fa": "متقاضی", "en": "Applicant"}}]
    process["start"] = "works"
    process["steps"] = [works, *process["steps"]]
    service = publish_definition(process)
    case = submit_case(service=service, applicant=citizen, district=district)
    client.force_login(citizen)

    page = client.get(page_of(case))
    assert "انجام عملیات در محل" in text_of(page) and 'value="done"' in page.content.decode()
    other = make_citizen()
    client.force_login(other)
    assert client.post(page_of(case), {"action": "done", "step_id": "works"}).status_code == 404
    client.force_login(citizen)
    refused = client.post(page_of(case), {"action": "done", "step_id": "review"})
    assert refused.status_code == 400 and case.positions.get().step_id == "works"

    done = client.post(page_of(case), {"action": "done", "step_id": "works"})
    assert done.status_code == 302
    assert case.positions.get().step_id == "review"
    assert case.events.order_by("-seq").first().actor == citizen
